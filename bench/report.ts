import type { RunRecord } from './bench-runner.ts'
import { PEER_OF } from './brokers/broker.ts'
import type { Machine } from './machine.ts'
import type { Figure } from './scenarios/scenario.ts'

const MB = 1024 * 1024
const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })

export function formatMachine(machine: Machine, brokers: readonly RunRecord[]): string {
  const versions = new Map<string, string>()
  for (const r of brokers) if (r.brokerVersion !== null) versions.set(r.target, r.brokerVersion)
  const brokerText = [...versions].map(([t, v]) => `${t} ${v}`).join(', ')
  return [
    `machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGb} GB, ${machine.os}, node ${machine.node}`,
    ...(brokerText === '' ? [] : [`brokers: ${brokerText}`])
  ].join('\n')
}

export function formatValue(value: number, unit: string): string {
  if (unit === 'ms') return `${value < 10 ? value.toFixed(3) : value.toFixed(1)} ms`
  if (unit === 'msg/s') return `${grouped.format(value)} msg/s`
  if (unit === 'KB') return `${value.toFixed(1)} KB`
  if (unit === '%') return `${value.toFixed(2)} %`
  if (unit === 'MB') return `${value < 10 ? value.toFixed(1) : grouped.format(value)} MB`
  if (unit === 'x') return `${value.toFixed(2)}x`
  return grouped.format(value)
}

function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || b === 0) return ''
  return (a / b).toFixed(2)
}

function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)))
  return rows.map(row => `  ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('   ')}`.trimEnd()).join('\n')
}

/** The runs shown as columns: every one that ran or tried to (skipped runs become a line below). */
function shown(records: readonly RunRecord[]): RunRecord[] {
  return records.filter(r => r.status !== 'skipped')
}

/** The ratio compares Wharf with the peer of the scenario's protocol when both ran, else the only two runs. */
function comparedPair(columns: readonly RunRecord[]): [RunRecord, RunRecord] | undefined {
  const [first, second] = columns
  if (first === undefined) return undefined
  const wharf = columns.find(r => r.target === 'wharf')
  const peer = columns.find(r => r.target === PEER_OF[first.protocol])
  if (wharf !== undefined && peer !== undefined) return [wharf, peer]
  return columns.length === 2 && second !== undefined ? [first, second] : undefined
}

/** One scenario: a row per figure, a column per broker, and the ratio Wharf/peer. */
export function formatScenarioTable(summary: string, records: readonly RunRecord[]): string {
  const first = records[0]
  if (first === undefined) return ''
  const columns = shown(records)
  const pair = comparedPair(columns)
  const ratioOf = (values: readonly (number | undefined)[]): string =>
    pair === undefined ? '' : ratio(values[columns.indexOf(pair[0])], values[columns.indexOf(pair[1])])
  const header = ['', ...columns.map(r => r.target), ...(pair === undefined ? [] : [`ratio ${pair[0].target}/${pair[1].target}`])]
  const keys: Figure[] = []
  for (const r of columns) for (const f of r.figures) if (!keys.some(k => k.key === f.key)) keys.push(f)
  const rows: string[][] = [header]
  const withRatio = (cells: readonly string[], ratioText: string): string[] => [...cells, ...(pair === undefined ? [] : [ratioText])]
  for (const key of keys) {
    const values = columns.map(r => r.figures.find(f => f.key === key.key)?.value)
    const comparable = key.better !== 'none' && key.unit !== 'count'
    rows.push(withRatio([key.label, ...values.map(v => (v === undefined ? '-' : formatValue(v, key.unit)))], comparable ? ratioOf(values) : ''))
  }
  const rss = columns.map(r => r.memory?.rssBytes)
  const peak = columns.map(r => r.memory?.peakRssBytes)
  rows.push(withRatio(['broker rss at end', ...rss.map(b => (b === undefined ? '-' : formatValue(b / MB, 'MB')))], ratioOf(rss)))
  rows.push(withRatio(['broker rss peak', ...peak.map(b => (b === undefined ? '-' : formatValue(b / MB, 'MB')))], ratioOf(peak)))
  rows.push(withRatio(['status', ...columns.map(r => r.status)], ''))
  const lines = [`${first.scenario}: ${summary}`, `  ${first.setup}`, ...(columns.length === 0 ? [] : [table(rows)])]
  for (const r of records) {
    if (r.error !== null) lines.push(`  ${r.target}: ${r.status}: ${r.error}`)
    for (const f of r.failures) lines.push(`  ${r.target}: FAILED: ${f}`)
    for (const n of r.notes) lines.push(`  ${r.target}: ${n}`)
  }
  return lines.join('\n')
}

/** `fanin-qos1   wharf 45,210 msg/s   mosquitto 61,800 msg/s   ratio 0.73   rss wharf 120 MB / mosquitto 6 MB   lost 0/0` */
export function formatSummaryLine(records: readonly RunRecord[], nameWidth: number): string {
  const first = records[0]
  if (first === undefined) return ''
  const columns = shown(records)
  const headlines = (r: RunRecord): Figure[] => r.figures.filter(f => f.headline === true)
  const parts = [first.scenario.padEnd(nameWidth)]
  for (const r of records) {
    const figures = headlines(r)
    parts.push(figures.length === 0 ? `${r.target} ${r.status}` : `${r.target} ${figures.map(f => headlineText(f, figures.length)).join(' ')}`)
  }
  const pair = comparedPair(columns)
  if (pair !== undefined) {
    const [a, b] = [headlines(pair[0]), headlines(pair[1])]
    const ratios = a.flatMap(f => {
      const r = ratio(f.value, b.find(g => g.key === f.key)?.value)
      return r === '' ? [] : [a.length > 1 ? `${f.key} ${r}` : r]
    })
    if (ratios.length > 0) parts.push(`ratio ${pair[0].target}/${pair[1].target} ${ratios.join(' ')}`)
  }
  if (columns.length > 0) {
    const rss = columns.map(r => `${r.target} ${r.memory === null ? '-' : formatValue(r.memory.rssBytes / MB, 'MB')}`)
    parts.push(`rss ${rss.join(' / ')}`)
    parts.push(`lost ${columns.map(r => (r.lost === null ? '-' : grouped.format(r.lost))).join('/')}`)
  }
  const bad = records.filter(r => r.status === 'failed' || r.status === 'error')
  if (bad.length > 0) parts.push(bad.map(r => `${r.target} ${r.status.toUpperCase()}`).join(' '))
  return parts.join('   ')
}

function headlineText(figure: Figure, count: number): string {
  const value = formatValue(figure.value, figure.unit)
  return count > 1 ? `${figure.key} ${value}` : value
}
