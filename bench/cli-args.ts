import { parseArgs } from 'node:util';

export type TargetChoice = 'wharf' | 'mosquitto' | 'both';

export interface BenchArgs {
  readonly target: TargetChoice;
  /** An already running broker; the label is --target if one was given, else `external`. */
  readonly url: string | undefined;
  readonly targetGiven: boolean;
  /** Process id of the broker behind --url, for RSS. */
  readonly pid: number | undefined;
  /** Empty: every scenario. */
  readonly scenarios: readonly string[];
  readonly messages: number | undefined;
  readonly durationS: number | undefined;
  readonly ratePerS: number | undefined;
  readonly inflight: number | undefined;
  readonly quick: boolean;
  readonly json: string | undefined;
  readonly help: boolean;
  readonly list: boolean;
}

export const USAGE = `usage: npm run bench -- [options]

  --target wharf|mosquitto|both   broker(s) to start and measure (default both, side by side)
  --url mqtt://host:port          measure an already running broker instead of starting one
  --pid N                         with --url: the broker's process id, to report its RSS
  --scenario a[,b]                scenarios to run (default all; --list shows them)
  --messages N                    messages per publisher (latency: caps the count)
  --duration-s S                  publishers stop after S seconds if not done (latency: run length)
  --rate N                        latency-qos1 publish rate in msg/s (default 1000)
  --inflight N                    outstanding PUBACKs per QoS 1 publisher (default 100)
  --quick                         small counts, a smoke test
  --json FILE                     also write the results as JSON
  --list                          list the scenarios and exit
`;

export class UsageError extends Error {}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        target: { type: 'string' },
        url: { type: 'string' },
        pid: { type: 'string' },
        scenario: { type: 'string' },
        messages: { type: 'string' },
        'duration-s': { type: 'string' },
        rate: { type: 'string' },
        inflight: { type: 'string' },
        quick: { type: 'boolean', default: false },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
        list: { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { values } = parsed;
  const target = values.target ?? 'both';
  if (target !== 'wharf' && target !== 'mosquitto' && target !== 'both') {
    throw new UsageError(`--target: "${target}" is not one of wharf, mosquitto, both`);
  }
  if (values.url !== undefined) checkUrl(values.url);
  if (values.url !== undefined && target === 'both' && values.target !== undefined) {
    throw new UsageError('--url names one broker: use --target wharf or --target mosquitto with it (a label), or no --target');
  }
  if (values.pid !== undefined && values.url === undefined) throw new UsageError('--pid only goes with --url');
  return {
    target,
    url: values.url,
    targetGiven: values.target !== undefined,
    pid: positiveInt('--pid', values.pid),
    scenarios: values.scenario === undefined ? [] : values.scenario.split(',').map((s) => s.trim()).filter((s) => s !== ''),
    messages: positiveInt('--messages', values.messages),
    durationS: positiveNumber('--duration-s', values['duration-s']),
    ratePerS: positiveNumber('--rate', values.rate),
    inflight: positiveInt('--inflight', values.inflight),
    quick: values.quick,
    json: values.json,
    help: values.help,
    list: values.list,
  };
}

function checkUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--url: "${url}" is not a URL (expected mqtt://host:port)`);
  }
  if (parsed.protocol !== 'mqtt:') throw new UsageError(`--url: "${url}" must start with mqtt://`);
}

function positiveNumber(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`${flag}: "${raw}" is not a positive number`);
  return value;
}

function positiveInt(flag: string, raw: string | undefined): number | undefined {
  const value = positiveNumber(flag, raw);
  if (value !== undefined && !Number.isInteger(value)) throw new UsageError(`${flag}: "${raw}" is not a whole number`);
  return value;
}
