import { connect as netConnect, type Socket } from 'node:net'
import { FUZZ_KINDS, type FuzzKind, type FuzzKindCounts, type FuzzResult } from './fuzz-messages.ts'
import { CONNACK_ACCEPTED, encodeConnect, encodePublishQos1 } from './mqtt-raw-packets.ts'
import { monotonicMs } from './payload.ts'
import { rawEndpoint } from './raw-mqtt-client.ts'
import { nextParentMessage, readWorkerConfig, runWorker, sendToParent } from './worker-ipc.ts'

/**
 * Worker: `connections` malformed or stalled MQTT connections on raw sockets, `concurrency` at a
 * time, each of a kind drawn from a seeded generator (the same seed, the same run). Each writes its
 * bytes, then waits up to `watchMs` for the broker to close it; the time from its last byte (the
 * violation) to the broker's close is what is counted. A connection still open at the end of the
 * watch is closed by the fuzzer and counted as such.
 * ready → (start) run → result → exit.
 */
export interface FuzzConfig {
  readonly url: string
  readonly connections: number
  readonly concurrency: number
  readonly seed: number
  readonly watchMs: number
  readonly clientIdPrefix: string
  readonly hardTimeoutMs: number
}

const CLOSED_WITHIN_MS = 10_000
const CONNACK_WAIT_MS = 5000

const config = readWorkerConfig<FuzzConfig>()
const endpoint = rawEndpoint(config.url)

/** mulberry32: a small seeded generator, so a run can be repeated exactly. */
function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const random = seeded(config.seed)
const between = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1))

/** What a connection of each kind writes: `before` right after connecting, `after` once a CONNACK came (null: no CONNECT first). */
interface Plan {
  readonly kind: FuzzKind
  readonly before: Buffer
  readonly after: Buffer | null
}

function plan(index: number): Plan {
  const kind = FUZZ_KINDS[between(0, FUZZ_KINDS.length - 1)] as FuzzKind
  const connect = encodeConnect(`${config.clientIdPrefix}${index}`, 0)
  switch (kind) {
    case 'half-connect':
      // A prefix of a valid CONNECT (at least its first byte), then nothing.
      return { kind, before: connect.subarray(0, between(1, connect.length - 1)), after: null }
    case 'garbage': {
      // Random bytes whose first byte is not CONNECT's (0x10): a violation from the first byte [MQTT-3.1.0-1].
      const bytes = Buffer.from(Array.from({ length: between(8, 256) }, () => between(0, 255)))
      if (((bytes[0] as number) & 0xf0) === 0x10) bytes[0] = 0xf0
      return { kind, before: bytes, after: null }
    }
    case 'oversize-length':
      // A CONNECT announcing the largest remaining length MQTT allows (256 MiB), then a few bytes of it.
      return { kind, before: Buffer.concat([Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]), connect.subarray(2, 2 + between(0, 8))]), after: null }
    case 'stalled-mid-packet': {
      // A good CONNECT, then part of a PUBLISH, then nothing.
      const publish = encodePublishQos1(1, 'fuzz/stall', Buffer.alloc(between(16, 512), 0x61))
      return { kind, before: connect, after: publish.subarray(0, between(1, publish.length - 1)) }
    }
    case 'bad-packet-after-connect': {
      // A good CONNECT, then a packet of the reserved type 0 or 15, or a SUBSCRIBE with wrong flags [MQTT-3.8.1-1].
      const bad = [Buffer.from([0x00, 0x00]), Buffer.from([0xf0, 0x00]), Buffer.from([0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x00])]
      return { kind, before: connect, after: bad[between(0, bad.length - 1)] as Buffer }
    }
  }
}

interface Outcome {
  readonly kind: FuzzKind
  readonly refusedAtConnect: boolean
  /** Violation to the broker's close; undefined when still open at the end of the watch. */
  readonly closeMs: number | undefined
}

let open = 0
let peakOpen = 0

function runOne(p: Plan): Promise<Outcome> {
  return new Promise(resolve => {
    const socket: Socket = netConnect({ host: endpoint.host, port: endpoint.port, noDelay: true })
    let connected = false
    let violationMs: number | undefined
    let done = false
    let received = Buffer.alloc(0)
    const finish = (outcome: Outcome): void => {
      if (done) return
      done = true
      clearTimeout(watch)
      if (connected) open--
      socket.destroy()
      resolve(outcome)
    }
    const violate = (bytes: Buffer): void => {
      socket.write(bytes)
      violationMs = monotonicMs()
    }
    // Until the violation is written, the watch is the wait for a CONNACK; then it is watchMs.
    let watch = setTimeout(() => finish({ kind: p.kind, refusedAtConnect: !connected, closeMs: undefined }), config.watchMs + CONNACK_WAIT_MS)
    socket.on('error', () => {})
    socket.once('connect', () => {
      connected = true
      peakOpen = Math.max(peakOpen, ++open)
      if (p.after === null) violate(p.before)
      else socket.write(p.before)
    })
    socket.on('data', chunk => {
      if (p.after === null || violationMs !== undefined) return
      received = Buffer.concat([received, chunk])
      if (received.length < CONNACK_ACCEPTED.length) return
      violate(p.after)
      clearTimeout(watch)
      watch = setTimeout(() => finish({ kind: p.kind, refusedAtConnect: false, closeMs: undefined }), config.watchMs)
    })
    socket.once('close', () => {
      if (!connected) {
        finish({ kind: p.kind, refusedAtConnect: true, closeMs: undefined })
        return
      }
      // Closed before its violation was written (a CONNECT refused): counted as closed at once.
      finish({ kind: p.kind, refusedAtConnect: false, closeMs: violationMs === undefined ? 0 : monotonicMs() - violationMs })
    })
  })
}

function summarize(outcomes: readonly Outcome[], kind: FuzzKind): FuzzKindCounts {
  const mine = outcomes.filter(o => o.kind === kind)
  const closes = Float64Array.from(mine.flatMap(o => (o.closeMs === undefined ? [] : [o.closeMs]))).sort()
  const at = (q: number): number => (closes.length === 0 ? 0 : (closes[Math.max(0, Math.ceil(q * closes.length) - 1)] ?? 0))
  return {
    opened: mine.length,
    refusedAtConnect: mine.filter(o => o.refusedAtConnect).length,
    closedWithin10s: mine.filter(o => o.closeMs !== undefined && o.closeMs <= CLOSED_WITHIN_MS).length,
    closedLater: mine.filter(o => o.closeMs !== undefined && o.closeMs > CLOSED_WITHIN_MS).length,
    openAtWatchEnd: mine.filter(o => !o.refusedAtConnect && o.closeMs === undefined).length,
    closeMsP50: at(0.5),
    closeMsP99: at(0.99),
    closeMsMax: closes.length === 0 ? 0 : (closes[closes.length - 1] ?? 0)
  }
}

async function fuzz(): Promise<FuzzResult> {
  const plans = Array.from({ length: config.connections }, (_, i) => plan(i))
  const outcomes: Outcome[] = []
  let next = 0
  const startMs = monotonicMs()
  const lane = async (): Promise<void> => {
    while (next < plans.length) {
      const p = plans[next++] as Plan
      outcomes.push(await runOne(p))
    }
  }
  await Promise.all(Array.from({ length: Math.min(config.concurrency, plans.length) }, lane))
  const byKind = Object.fromEntries(FUZZ_KINDS.map(k => [k, summarize(outcomes, k)])) as Record<FuzzKind, FuzzKindCounts>
  return { kind: 'fuzz', seed: config.seed, connections: outcomes.length, watchMs: config.watchMs, byKind, startMs, endMs: monotonicMs(), peakOpen }
}

runWorker(config.hardTimeoutMs, async () => {
  await sendToParent({ type: 'ready' })
  await nextParentMessage('start')
  const result = await fuzz()
  await sendToParent({ type: 'result', result: result as never })
})
