import { setTimeout as sleep } from 'node:timers/promises'
import { idleResultMessage, type IdleConnectResult, type IdleProbeResult } from './idle-clients-messages.ts'
import { encodeConnect, encodePuback, encodePublishQos1, encodeSubscribe, isPuback, readPublish, subackGranting } from './mqtt-raw-packets.ts'
import { monotonicMs } from './payload.ts'
import { HandshakeError, rawEndpoint, RawMqttClient } from './raw-mqtt-client.ts'
import { nextParentMessage, readWorkerConfig, runWorker, sendToParent } from './worker-ipc.ts'

/**
 * Worker: `clients` MQTT 3.1.1 connections on raw sockets, each with its own client id (clean session)
 * and one QoS 1 subscription to its own topic, then left idle.
 * ready → (start) connect all, `concurrency` handshakes at a time → result → (start) probe: one
 * QoS 1 message to each of `probes` clients' topics from one more connection, read back from those
 * clients' sockets → result → (stop) DISCONNECT all.
 */
export interface IdleClientsConfig {
  readonly url: string
  readonly clients: number
  readonly concurrency: number
  readonly keepAliveS: number
  /** Client i is `<clientIdPrefix><i>`; the probe publisher is `<clientIdPrefix>probe`. */
  readonly clientIdPrefix: string
  /** Client i subscribes to `<topicPrefix><i>`. */
  readonly topicPrefix: string
  /** No handshake starts after this long from the first; the rest count as not attempted. */
  readonly connectDeadlineMs: number
  readonly handshakeTimeoutMs: number
  readonly probes: number
  readonly probeTimeoutMs: number
  readonly hardTimeoutMs: number
}

const SUBSCRIBE_PACKET_ID = 1
const CLOSE_GRACE_MS = 3000
const POLL_MS = 20

const config = readWorkerConfig<IdleClientsConfig>()
const endpoint = rawEndpoint(config.url)

function openIdleClient(index: number): Promise<RawMqttClient> {
  const connect = encodeConnect(`${config.clientIdPrefix}${index}`, config.keepAliveS)
  const subscription = {
    subscribe: encodeSubscribe(SUBSCRIBE_PACKET_ID, `${config.topicPrefix}${index}`, 1),
    suback: subackGranting(SUBSCRIBE_PACKET_ID, 1)
  }
  return RawMqttClient.open(endpoint, connect, subscription, config.handshakeTimeoutMs)
}

/** Every client, `concurrency` handshakes in flight at a time; a failed one leaves a hole. */
async function connectAll(clients: (RawMqttClient | undefined)[]): Promise<IdleConnectResult> {
  const failureReasons: Record<string, number> = {}
  let next = 0
  let failed = 0
  const startMs = monotonicMs()
  let endMs = startMs
  const lane = async (): Promise<void> => {
    while (next < config.clients && monotonicMs() - startMs < config.connectDeadlineMs) {
      const index = next++
      try {
        clients[index] = await openIdleClient(index)
        endMs = monotonicMs()
      } catch (err) {
        const reason = err instanceof HandshakeError ? err.message : `error ${String(err)}`
        failureReasons[reason] = (failureReasons[reason] ?? 0) + 1
        failed++
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(config.concurrency, config.clients) }, lane))
  const connected = clients.filter(c => c !== undefined).length
  return { kind: 'idle-connect', connected, failed, failureReasons, notAttempted: config.clients - next, startMs, endMs }
}

/** `count` connected clients spread evenly over the index range. */
function probedIndexes(clients: readonly (RawMqttClient | undefined)[], count: number): number[] {
  const connected = clients.flatMap((c, i) => (c === undefined ? [] : [i]))
  const step = connected.length / Math.min(count, connected.length)
  return Array.from({ length: Math.min(count, connected.length) }, (_, j) => connected[Math.floor(j * step + step / 2)] ?? 0)
}

function probePayload(index: number): Buffer {
  return Buffer.from(`${config.clientIdPrefix}${index} probe`)
}

/** One QoS 1 message to each probed client's topic; waits for every PUBACK and every delivery, or the timeout. */
async function probe(clients: readonly (RawMqttClient | undefined)[]): Promise<IdleProbeResult> {
  const probed = probedIndexes(clients, config.probes)
  const publisher = await RawMqttClient.open(endpoint, encodeConnect(`${config.clientIdPrefix}probe`, config.keepAliveS), undefined, config.handshakeTimeoutMs)
  const startMs = monotonicMs()
  for (const [j, index] of probed.entries()) publisher.write(encodePublishQos1(j + 1, `${config.topicPrefix}${index}`, probePayload(index)))
  const delivered = new Set<number>()
  let acked = 0
  let unexpected = 0
  let endMs = startMs
  while ((delivered.size < probed.length || acked < probed.length) && monotonicMs() - startMs < config.probeTimeoutMs) {
    await sleep(POLL_MS)
    acked += publisher.takePackets().filter(isPuback).length
    for (const index of probed) {
      for (const packet of clients[index]?.takePackets() ?? []) {
        const publish = readPublish(packet)
        const expected = publish !== undefined && publish.topic === `${config.topicPrefix}${index}` && publish.payload.equals(probePayload(index))
        if (expected && !delivered.has(index)) delivered.add(index)
        else unexpected++
        if (publish !== undefined && publish.qos > 0) clients[index]?.write(encodePuback(publish.packetId))
      }
    }
    endMs = monotonicMs()
  }
  // Any packet on a client that was not probed is one the broker should not have sent.
  for (const client of clients) unexpected += client?.takePackets().length ?? 0
  await closeAll([publisher])
  const open = clients.filter(c => c !== undefined)
  return {
    kind: 'idle-probe',
    sent: probed.length,
    acked,
    delivered: delivered.size,
    unexpected,
    stillOpen: open.filter(c => c.isOpen).length,
    closedByBroker: open.filter(c => c.closedByPeer).length,
    elapsedMs: endMs - startMs
  }
}

/** DISCONNECT each; whatever has not closed within the grace period is destroyed. */
async function closeAll(clients: readonly (RawMqttClient | undefined)[]): Promise<void> {
  const open = clients.filter(c => c !== undefined)
  const timer = setTimeout(() => {
    for (const client of open) client.destroy()
  }, CLOSE_GRACE_MS)
  await Promise.all(open.map(c => c.end()))
  clearTimeout(timer)
}

runWorker(config.hardTimeoutMs, async () => {
  const clients: (RawMqttClient | undefined)[] = new Array(config.clients).fill(undefined)
  await sendToParent({ type: 'ready' })
  await nextParentMessage('start')
  await sendToParent(idleResultMessage(await connectAll(clients)))
  await nextParentMessage('start')
  await sendToParent(idleResultMessage(await probe(clients)))
  await nextParentMessage('stop')
  await closeAll(clients)
})
