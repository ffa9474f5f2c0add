// `wharf ctl diagnose`: GET /api/diagnose, printed as one block per lagging queue (its numbers, then
// each cause and its suggestion) after the causes that hold for the whole node.
import type { Diagnosis, QueueDiagnosis } from '../../core/diagnosis/diagnose.ts'
import type { Finding } from '../../core/diagnosis/finding.ts'
import { CtlError, positional, type CtlCommand } from './ctl-io.ts'

/** Exit code when a cause was found (1-3 are the other commands' refusals, usage and unreachable). */
export const exitFindings = 4

export const diagnoseCommand: CtlCommand = async ctx => {
  positional(ctx, 0, 'diagnose (no arguments)')
  const d = (await ctx.client.get('/api/diagnose')) as Diagnosis
  ctx.io.stdout.write(ctx.json ? JSON.stringify(d, null, 2) + '\n' : render(d))
  if (!d.healthy) throw new CtlError(exitFindings, `diagnose: ${d.queues.length} queues lag, ${d.node.length} node conditions`)
}

export function render(d: Diagnosis): string {
  if (d.healthy) return `Wharf diagnosis at ${d.at}: no queue lags and nothing holds publishers back.\n`
  const lines = [
    `Wharf diagnosis at ${d.at}: ${d.queues.length} queue${d.queues.length === 1 ? '' : 's'} with a backlog, ${d.node.length} node condition${d.node.length === 1 ? '' : 's'}`
  ]
  if (d.node.length > 0) {
    lines.push('', 'NODE')
    for (const f of d.node) lines.push(...finding(f))
  }
  if (d.queues.length > 0) {
    const rows = d.queues.map(q => [q.queue, q.vhost, q.type, String(q.backlog), String(q.unacked), String(q.consumers), trend(q)])
    const head = ['QUEUE', 'VHOST', 'TYPE', 'BACKLOG', 'UNACKED', 'CONSUMERS', 'TREND']
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] as string).length)))
    const row = (cells: readonly string[]): string =>
      cells
        .map((c, i) => c.padEnd(widths[i] as number))
        .join('  ')
        .trimEnd()
    lines.push('', row(head))
    d.queues.forEach((q, i) => {
      lines.push(row(rows[i] as string[]))
      if (q.findings.length === 0) lines.push('  (no cause found: the consumers have room and take what comes)')
      for (const f of q.findings) lines.push(...finding(f))
    })
  }
  return lines.join('\n') + '\n'
}

function finding(f: Finding): string[] {
  return [`  ${f.cause}: ${f.summary}`, `    -> ${f.suggestion}`]
}

function trend(q: QueueDiagnosis): string {
  if (q.trend === null) return '-'
  const g = q.trend.growthPerSecond
  return `${g > 0 ? '+' : ''}${g.toFixed(1)}/s over ${Math.round(q.trend.spanSeconds)} s`
}
