// A private Prometheus (Debian's /usr/bin/prometheus, from the package that also has promtool) that
// scrapes one Wharf's /metrics every second into a temporary directory, so the dashboard's queries
// run through Prometheus's own parser and engine against what Wharf really exports. Stopped by
// process id.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BrokerProcess, httpStatusIs } from '../../bench/brokers/child-process.ts'
import { freePorts } from '../../bench/brokers/free-port.ts'

export const PROMETHEUS = '/usr/bin/prometheus'

export interface QueryResult {
  readonly status: string
  readonly error?: string
  readonly data?: { readonly resultType: string; readonly result: ReadonlyArray<{ metric: Record<string, string>; value: [number, string] }> }
}

export interface PrometheusNode {
  readonly url: string
  /** An instant query at now; the answer as Prometheus gives it (status "error" with its error included). */
  query(expr: string): Promise<QueryResult>
  stop(): Promise<void>
}

/** Scrapes `target` (host:port of an admin listener) with HTTP Basic guest/guest. */
export async function startPrometheus(target: string): Promise<PrometheusNode> {
  const [port] = (await freePorts(1)) as [number]
  const dir = mkdtempSync(join(tmpdir(), 'wharf-test-prometheus-'))
  const config = join(dir, 'prometheus.yml')
  writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: wharf',
      '    basic_auth: { username: guest, password: guest }',
      `    static_configs: [{ targets: ['${target}'] }]`,
      ''
    ].join('\n')
  )
  const node = new BrokerProcess(
    'prometheus',
    PROMETHEUS,
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    {}
  )
  const url = `http://127.0.0.1:${port}`
  try {
    await node.waitUntil(`${url}/-/ready`, 30_000, async () => await httpStatusIs(`${url}/-/ready`, 200))
  } catch (err) {
    await node.stop()
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
  return {
    url,
    query: async expr => {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`, { signal: AbortSignal.timeout(10_000) })
      return (await res.json()) as QueryResult
    },
    stop: async () => {
      await node.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
