import { parseArgs } from 'node:util'

/**
 * pairs: Wharf beside the peer of each scenario's protocol (the default, also `both`);
 * all: every broker the harness can start, on the scenarios its protocol allows;
 * named: these brokers on every scenario.
 */
export type TargetChoice = { readonly kind: 'pairs' } | { readonly kind: 'all' } | { readonly kind: 'named'; readonly names: readonly string[] }

export interface BenchArgs {
  readonly target: TargetChoice
  /** An already running broker, one URL per protocol; labelled with the one --target name given, else `external`. */
  readonly urls: { readonly mqtt?: string; readonly amqp?: string } | undefined
  /** Process id of the broker behind --url, for RSS. */
  readonly pid: number | undefined
  /** Empty: every scenario. */
  readonly scenarios: readonly string[]
  readonly messages: number | undefined
  readonly durationS: number | undefined
  readonly ratePerS: number | undefined
  readonly inflight: number | undefined
  readonly publishers: number | undefined
  readonly consumers: number | undefined
  readonly quick: boolean
  readonly json: string | undefined
  readonly help: boolean
  readonly list: boolean
}

export const USAGE = `usage: npm run bench -- [options]

  --target T[,T]                  brokers to start and measure: wharf, mosquitto, rabbitmq, all
                                  (default: Wharf beside the peer of each scenario's protocol,
                                  Mosquitto for MQTT, RabbitMQ for AMQP; \`both\` says the same)
  --url mqtt://host:port          measure an already running broker instead of starting one;
  --url amqp://user:pass@host:port  give both for a broker that speaks both
  --pid N                         with --url: the broker's process id, to report its RSS
  --scenario a[,b]                scenarios to run (default all; --list shows them)
  --messages N                    messages per publisher (latency: caps the count)
  --duration-s S                  publishers stop after S seconds if not done (latency: run length)
  --rate N                        latency-qos1 publish rate in msg/s (default 1000)
  --inflight N                    outstanding PUBACKs per QoS 1 publisher, unconfirmed messages
                                  per AMQP publisher (default 100)
  --publishers N                  AMQP publisher processes (default 4)
  --consumers N                   amqp-consume-ack consumer processes (default 1)
  --quick                         small counts, a smoke test
  --json FILE                     also write the results as JSON
  --list                          list the scenarios and exit
`

export class UsageError extends Error {}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        target: { type: 'string' },
        url: { type: 'string', multiple: true },
        pid: { type: 'string' },
        scenario: { type: 'string' },
        messages: { type: 'string' },
        'duration-s': { type: 'string' },
        rate: { type: 'string' },
        inflight: { type: 'string' },
        publishers: { type: 'string' },
        consumers: { type: 'string' },
        quick: { type: 'boolean', default: false },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
        list: { type: 'boolean', default: false }
      }
    })
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err))
  }
  const { values } = parsed
  const target = parseTarget(values.target)
  const urls = values.url === undefined ? undefined : parseUrls(values.url)
  if (urls !== undefined && values.target !== undefined && !(target.kind === 'named' && target.names.length === 1)) {
    throw new UsageError('--url names one broker: give one --target with it (a label, e.g. --target wharf), or none')
  }
  if (values.pid !== undefined && urls === undefined) throw new UsageError('--pid only goes with --url')
  return {
    target,
    urls,
    pid: positiveInt('--pid', values.pid),
    scenarios:
      values.scenario === undefined
        ? []
        : values.scenario
            .split(',')
            .map(s => s.trim())
            .filter(s => s !== ''),
    messages: positiveInt('--messages', values.messages),
    durationS: positiveNumber('--duration-s', values['duration-s']),
    ratePerS: positiveNumber('--rate', values.rate),
    inflight: positiveInt('--inflight', values.inflight),
    publishers: positiveInt('--publishers', values.publishers),
    consumers: positiveInt('--consumers', values.consumers),
    quick: values.quick,
    json: values.json,
    help: values.help,
    list: values.list
  }
}

/** Names are checked against the brokers the harness knows when the run is planned. */
function parseTarget(raw: string | undefined): TargetChoice {
  if (raw === undefined || raw === 'both') return { kind: 'pairs' }
  if (raw === 'all') return { kind: 'all' }
  const names = raw
    .split(',')
    .map(s => s.trim())
    .filter(s => s !== '')
  if (names.length === 0) throw new UsageError('--target: no broker named')
  if (names.some(n => n === 'all' || n === 'both')) throw new UsageError(`--target: "${raw}": all and both stand alone`)
  return { kind: 'named', names: [...new Set(names)] }
}

function parseUrls(raw: readonly string[]): { mqtt?: string; amqp?: string } {
  const urls: { mqtt?: string; amqp?: string } = {}
  for (const url of raw) {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      throw new UsageError(`--url: "${url}" is not a URL (expected mqtt://host:port or amqp://host:port)`)
    }
    const protocol = parsed.protocol === 'mqtt:' ? 'mqtt' : parsed.protocol === 'amqp:' ? 'amqp' : undefined
    if (protocol === undefined) throw new UsageError(`--url: "${url}" must start with mqtt:// or amqp://`)
    if (urls[protocol] !== undefined) throw new UsageError(`--url: two ${protocol}:// URLs; give at most one per protocol`)
    urls[protocol] = url
  }
  return urls
}

function positiveNumber(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined
  const value = Number(raw)
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`${flag}: "${raw}" is not a positive number`)
  return value
}

function positiveInt(flag: string, raw: string | undefined): number | undefined {
  const value = positiveNumber(flag, raw)
  if (value !== undefined && !Number.isInteger(value)) throw new UsageError(`${flag}: "${raw}" is not a whole number`)
  return value
}
