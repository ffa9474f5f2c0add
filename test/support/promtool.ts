// Prometheus's own parser and linter of the text exposition format: `promtool check metrics` from
// Debian's prometheus package (test/debian-packages.sh installs it). Exit 0: parsed, no lint
// problem; 3: parsed, lint problems (listed); 1: it does not parse.
import { spawnSync } from 'node:child_process'

export const PROMTOOL = '/usr/bin/promtool'

export interface PromtoolResult {
  readonly status: number | null
  /** One line per problem promtool reported. */
  readonly problems: string[]
}

export function promtoolCheckMetrics(exposition: string): PromtoolResult {
  const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: exposition, encoding: 'utf8', timeout: 20_000 })
  if (r.error !== undefined) throw new Error(`promtool check metrics: ${r.error.message}`)
  const problems = `${r.stdout}\n${r.stderr}`
    .split('\n')
    .map(l => l.trim())
    .filter(l => l !== '')
  return { status: r.status, problems }
}

/** Family name -> TYPE, from the `# TYPE` lines. */
export function metricTypes(exposition: string): Map<string, string> {
  const types = new Map<string, string>()
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(m[1] as string, m[2] as string)
  return types
}

/** Samples of one family (histograms: name_bucket etc. are asked for by their own name), as label text -> value. */
export function samples(exposition: string, name: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const m of exposition.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/gm)) {
    if (m[1] === name) out.set(m[2] ?? '', Number(m[3]))
  }
  return out
}
