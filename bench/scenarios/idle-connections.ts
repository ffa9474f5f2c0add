import { setTimeout as sleep } from 'node:timers/promises'
import { readProcessMemory } from '../brokers/process-memory.ts'
import { connectResultOf, probeResultOf, type IdleConnectResult, type IdleProbeResult } from '../workers/idle-clients-messages.ts'
import type { IdleClientsConfig } from '../workers/mqtt-idle-clients.ts'
import { WorkerGroup } from '../workers/worker-process.ts'
import type { Figure, Scenario, ScenarioOutcome, ScenarioSettings } from './scenario.ts'

const IDLE_CLIENTS = new URL('../workers/mqtt-idle-clients.ts', import.meta.url)
const MB = 1024 * 1024
const KB = 1024
/** Issue 9's targets for Wharf, reported beside the figures (a measurement, not a check). */
const WHARF_PER_CONNECTION_TARGET_KB = 6
const WHARF_IDLE_RSS_TARGET_MB = 80
/** The clients never send PINGREQ: the broker allows 1.5x this (15 min) of silence, longer than the run. */
const KEEP_ALIVE_S = 600
const PROBES = 10
const PROBE_TIMEOUT_MS = 10_000
const HANDSHAKE_TIMEOUT_MS = 30_000
/**
 * The idle broker is measured after this many quiet seconds: V8 gives back the heap that start-up
 * used after about 10 s (see idle-rss).
 */
const IDLE_SETTLE_S = 20
const RSS_SAMPLE_S = 5
const grouped = new Intl.NumberFormat('en-US')

const connectDeadlineMs = (settings: ScenarioSettings): number => 30_000 + settings.messages * 10

const mb = (key: string, label: string, bytes: number): Figure => ({ key, label, value: bytes / MB, unit: 'MB', better: 'lower' })
const count = (key: string, label: string, value: number, better: 'lower' | 'none' = 'none'): Figure => ({ key, label, value, unit: 'count', better })

function workerConfig(settings: ScenarioSettings, url: string, runId: string): IdleClientsConfig {
  return {
    url,
    clients: settings.messages,
    concurrency: settings.inflight,
    keepAliveS: KEEP_ALIVE_S,
    clientIdPrefix: `wharf-bench-idle-${runId}-`,
    topicPrefix: 'idle/',
    connectDeadlineMs: connectDeadlineMs(settings),
    handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
    probes: PROBES,
    probeTimeoutMs: PROBE_TIMEOUT_MS,
    hardTimeoutMs: idleConnections.timeoutMs(settings)
  }
}

/** VmRSS every `everyS` s for `seconds` s; empty when the broker's process is not visible. */
async function sampleRssBytes(pid: number | undefined, seconds: number, everyS: number, signal: AbortSignal): Promise<number[]> {
  const samples: number[] = []
  for (let t = 0; t < seconds; t += everyS) {
    await sleep(Math.min(everyS, seconds - t) * 1000, undefined, { signal })
    const rss = pid === undefined ? undefined : readProcessMemory(pid)?.rssBytes
    if (rss !== undefined) samples.push(rss)
  }
  return samples
}

interface Measured {
  readonly idleRssBytes: number | undefined
  /** The last of `connectedSamples`: what the clients cost once the broker has settled. */
  readonly connectedRssBytes: number | undefined
  /** Every RSS_SAMPLE_S seconds after the last SUBACK. */
  readonly connectedSamples: readonly number[]
  readonly connect: IdleConnectResult
  readonly probe: IdleProbeResult
}

/** What each connected client added to the broker's RSS, in KB; undefined when the RSS is unknown. */
function perConnectionKb(m: Measured): number | undefined {
  if (m.idleRssBytes === undefined || m.connectedRssBytes === undefined || m.connect.connected === 0) return undefined
  return (m.connectedRssBytes - m.idleRssBytes) / m.connect.connected / KB
}

function figuresOf(m: Measured, settings: ScenarioSettings): Figure[] {
  const n = grouped.format(m.connect.connected)
  const perConnection = perConnectionKb(m)
  const figures: Figure[] = []
  if (perConnection !== undefined)
    figures.push({ key: 'perConnection', label: 'rss per connection', value: perConnection, unit: 'KB', better: 'lower', headline: true })
  if (m.idleRssBytes !== undefined) figures.push(mb('rssIdle', `rss idle (after ${IDLE_SETTLE_S} s, no client)`, m.idleRssBytes))
  if (m.connectedRssBytes !== undefined) figures.push(mb('rssConnected', `rss with ${n} idle clients (after ${settings.durationS} s)`, m.connectedRssBytes))
  figures.push(
    { key: 'connectMs', label: `connect + subscribe ${n}`, value: m.connect.endMs - m.connect.startMs, unit: 'ms', better: 'lower' },
    count('connected', 'connected and subscribed', m.connect.connected),
    count('failed', 'failed to connect or subscribe', m.connect.failed + m.connect.notAttempted, 'lower'),
    count('probesDelivered', `probes delivered (of ${m.probe.sent})`, m.probe.delivered),
    count('closedByBroker', 'closed by the broker while idle', m.probe.closedByBroker, 'lower')
  )
  return figures
}

function failuresOf(m: Measured, settings: ScenarioSettings): string[] {
  const failures: string[] = []
  const missing = settings.messages - m.connect.connected
  if (missing > 0) {
    const reasons = Object.entries(m.connect.failureReasons).map(([reason, n]) => `${n}x ${reason}`)
    if (m.connect.notAttempted > 0) reasons.push(`${m.connect.notAttempted} not attempted within ${connectDeadlineMs(settings)} ms`)
    failures.push(`${missing} of ${settings.messages} clients not connected and subscribed: ${reasons.join(', ')}`)
  }
  if (m.probe.delivered < m.probe.sent) failures.push(`${m.probe.sent - m.probe.delivered} of ${m.probe.sent} probe messages never reached their idle client`)
  if (m.probe.acked < m.probe.sent) failures.push(`${m.probe.sent - m.probe.acked} of ${m.probe.sent} probe publishes never acknowledged`)
  if (m.probe.unexpected > 0) failures.push(`${m.probe.unexpected} packets an idle client should not have received`)
  if (m.probe.closedByBroker > 0) failures.push(`${m.probe.closedByBroker} idle clients closed by the broker`)
  return failures
}

/** The figures in words with their decimals (the table rounds), and the targets as met or MISSED. */
function targetNotes(m: Measured): string[] {
  const perConnection = perConnectionKb(m)
  if (m.idleRssBytes === undefined || m.connectedRssBytes === undefined || perConnection === undefined) {
    return ['no process id or /proc entry for the broker (or no client connected): its memory per connection is unknown']
  }
  const idleMb = m.idleRssBytes / MB
  const addedMb = (m.connectedRssBytes - m.idleRssBytes) / MB
  const verdict = (met: boolean): string => (met ? 'met' : 'MISSED')
  return [
    `target (Wharf's) <= ${WHARF_PER_CONNECTION_TARGET_KB} KB per connection: ${verdict(perConnection <= WHARF_PER_CONNECTION_TARGET_KB)} ` +
      `(${perConnection.toFixed(2)} KB: ${addedMb.toFixed(1)} MB for ${grouped.format(m.connect.connected)} clients)`,
    `target (Wharf's) idle rss <= ${WHARF_IDLE_RSS_TARGET_MB} MB: ${verdict(idleMb <= WHARF_IDLE_RSS_TARGET_MB)} (${idleMb.toFixed(1)} MB)`,
    // V8 gives back the heap that the handshakes grew only after tens of idle seconds (its memory reducer).
    `rss every ${RSS_SAMPLE_S} s after the last SUBACK: ${m.connectedSamples.map(b => (b / MB).toFixed(0)).join(', ')} MB`
  ]
}

/**
 * What an idle MQTT client costs the broker: N raw-socket clients, each connected (clean session,
 * its own client id) and subscribed at QoS 1 to its own topic, then left alone; RSS before and
 * after, and a probe that the clients still receive.
 */
export const idleConnections: Scenario = {
  name: 'idle-connections',
  protocol: 'mqtt',
  summary: `N idle MQTT clients, each connected and subscribed to its own topic: broker RSS per connection (Wharf's targets: <= ${WHARF_PER_CONNECTION_TARGET_KB} KB each, idle <= ${WHARF_IDLE_RSS_TARGET_MB} MB)`,
  defaults: (quick): ScenarioSettings => ({
    messages: quick ? 1000 : 10_000,
    durationS: quick ? 15 : 90,
    ratePerS: 0,
    inflight: 200,
    payloadBytes: 0,
    publishers: 0,
    consumers: 0
  }),
  fixedSettings: ['ratePerS', 'payloadBytes', 'publishers', 'consumers'],
  describe: settings =>
    `${grouped.format(settings.messages)} MQTT 3.1.1 clients on raw sockets (--messages), ${settings.inflight} handshakes at a time (--inflight): ` +
    `CONNECT clean session, keep alive ${KEEP_ALIVE_S} s, SUBSCRIBE idle/<i> QoS 1; RSS after ${IDLE_SETTLE_S} s idle before, ${settings.durationS} s (--duration-s) after; ` +
    `then ${PROBES} QoS 1 probe messages to spread clients' topics`,
  timeoutMs: settings => (IDLE_SETTLE_S + settings.durationS) * 1000 + connectDeadlineMs(settings) + HANDSHAKE_TIMEOUT_MS + PROBE_TIMEOUT_MS + 60_000,
  async run(context): Promise<ScenarioOutcome> {
    const { pid, settings, signal } = context
    const group = new WorkerGroup(signal)
    try {
      const worker = group.spawn('idle clients', IDLE_CLIENTS, workerConfig(settings, context.url, context.runId))
      await worker.next('ready')
      const idleRssBytes = (await sampleRssBytes(pid, IDLE_SETTLE_S, IDLE_SETTLE_S, signal)).at(-1) // one sample, at the end
      worker.send({ type: 'start' })
      const connect = connectResultOf(await worker.next('result'))
      const connectedSamples = await sampleRssBytes(pid, settings.durationS, RSS_SAMPLE_S, signal)
      const connectedRssBytes = connectedSamples.at(-1)
      worker.send({ type: 'start' })
      const probe = probeResultOf(await worker.next('result'))
      await group.stopAll()
      const measured: Measured = { idleRssBytes, connectedRssBytes, connectedSamples, connect, probe }
      return {
        figures: figuresOf(measured, settings),
        lost: probe.sent - probe.delivered,
        duplicates: 0,
        failures: failuresOf(measured, settings),
        notes: targetNotes(measured)
      }
    } finally {
      await group.dispose()
    }
  }
}
