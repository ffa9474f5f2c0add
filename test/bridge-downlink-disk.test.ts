// Issue 13, known limit: over the disk watermark (storage.localBytesMax) a bridge's downlink stops
// taking from the remote instead of storing more, as publishers are refused (DESIGN §4). The edge's
// store is filled through a local queue until AMQP publishers get connection.blocked; commands sent
// at the remote (a second Wharf, in this process) then stay there, delivered to the bridge and not
// acknowledged; once the queue is deleted and the watermark clears, they reach the device in order.
// Over AMQP the link holds its deliveries (the remote sends no more than the prefetch); over MQTT 5
// it leaves them without PUBACK and reconnects after the clearance, so the remote sends them again.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChannelModel } from 'amqplib'
import type { MqttClient } from 'mqtt'
import type { BridgeConfig } from '../edge-config/config-types.ts'
import { startTestBroker, type ConfigPatch, type TestBroker } from './support/test-broker.ts'
import { channel, closeQuietly, connect as amqpConnect } from './support/amqp-helpers.ts'
import { collector, connect, end } from './support/mqtt-helpers.ts'
import { adminFetch } from './support/admin-http.ts'
import { eventually } from './support/wait.ts'
import { bridgeStatus, bridgeTo, waitForBridge } from './support/bridge-scenarios.ts'

const FILL_QUEUE = 'fill'
const HEADROOM_BYTES = 1024 * 1024
const FILL_BODY = Buffer.alloc(4096, 'w')
const COMMANDS = 5

function sqliteFilesBytes(dataDir: string): number {
  const db = join(dataDir, 'wharf.db')
  return [db, `${db}-wal`, `${db}-shm`].reduce((n, f) => {
    try {
      return n + statSync(f).size
    } catch {
      return n
    }
  }, 0)
}

/** The edge with its bridge, its watermark just above the size of its files after a first start. */
async function startEdgeNearWatermark(bridge: BridgeConfig): Promise<TestBroker> {
  const dataDir = mkdtempSync(join(tmpdir(), 'wharf-edge-disk-'))
  const withBridge: ConfigPatch = c => {
    c.bridges = [bridge]
    c.log.level = 'info'
  }
  const first = await startTestBroker(withBridge, dataDir)
  await first.stop()
  const localBytesMax = sqliteFilesBytes(dataDir) + HEADROOM_BYTES
  return await startTestBroker(c => {
    withBridge(c)
    c.storage.localBytesMax = localBytesMax
    c.storage.diskCheckIntervalMs = 20
    c.tiering.localBytesMax = 64 * 1024 // below storage.localBytesMax, as validation requires
  }, dataDir)
}

/** Persistent messages into a local queue until the edge blocks its AMQP publishers (connection.blocked). */
async function fillUntilBlocked(conn: ChannelModel): Promise<void> {
  const setup = await channel(conn)
  await setup.assertQueue(FILL_QUEUE, { durable: true })
  const cc = await conn.createConfirmChannel()
  cc.on('error', () => {})
  let blocked = false
  const blockedEvent = new Promise<void>(resolve =>
    conn.once('blocked', () => {
      blocked = true
      resolve()
    })
  )
  for (let sent = 0; !blocked; ) {
    assert.ok(sent < 20_000, `not blocked after ${sent} messages`)
    for (let i = 0; i < 20; i++, sent++) cc.sendToQueue(FILL_QUEUE, FILL_BODY, { persistent: true })
    // Once blocked, the edge stops reading this connection: confirms wait for the clearance.
    await Promise.race([cc.waitForConfirms(), blockedEvent])
  }
}

/** A queue at the remote holding `count` deliveries unacknowledged: sent to the bridge, not taken. */
async function heldAtRemote(cloud: TestBroker, namePrefix: string, count: number): Promise<void> {
  let last: unknown
  await eventually(
    `${count} messages delivered and unacknowledged in a remote queue ${namePrefix}* (last: ${JSON.stringify(last)})`,
    async () => {
      const res = await adminFetch(`${cloud.adminUrl}/api/queues/%2F`)
      const queues = (await res.json()) as Array<{ name: string; messages_unacknowledged: number }>
      last = queues.filter(q => q.name.startsWith(namePrefix))
      return queues.some(q => q.name.startsWith(namePrefix) && q.messages_unacknowledged === count)
    },
    20_000
  )
}

async function downlinkPausedAtWatermark(
  bridgeUrl: (cloud: TestBroker) => string,
  sendCommands: (cloud: TestBroker) => Promise<void>,
  remoteQueuePrefix: string
): Promise<void> {
  const cloud = await startTestBroker()
  let edge: TestBroker | undefined
  let filler: ChannelModel | undefined
  let admin: ChannelModel | undefined
  let device: MqttClient | undefined
  try {
    edge = await startEdgeNearWatermark(bridgeTo(bridgeUrl(cloud)))
    await waitForBridge(edge, 'connected', s => s.state === 'connected')
    device = await connect(edge.mqttUrl, { clientId: 'device', protocolVersion: 5 })
    const received = collector(device)
    await device.subscribeAsync('cmd/#', { qos: 1 })

    filler = await amqpConnect(edge.amqpUrl)
    admin = await amqpConnect(edge.amqpUrl) // the filler's connection is blocked: the edge stops reading it
    await fillUntilBlocked(filler)
    const paused = await waitForBridge(edge, 'downlink paused', s => s.downlinkPausedBy !== null)
    assert.match(String(paused.downlinkPausedBy), /storage\.localBytesMax/)

    await sendCommands(cloud)
    await heldAtRemote(cloud, remoteQueuePrefix, COMMANDS)
    const held = await bridgeStatus(edge)
    assert.equal(held.downlinked, paused.downlinked, 'nothing taken from the remote over the watermark')
    assert.equal(received.messages.length, 0)

    // The space comes back: the commands are taken, stored, delivered, in the order they were sent.
    await (await channel(admin)).deleteQueue(FILL_QUEUE)
    const got = await received.waitFor(COMMANDS, 20_000)
    assert.deepEqual(
      got.map(m => m.topic),
      Array.from({ length: COMMANDS }, (_, i) => `cmd/${i}`)
    )
    const after = await waitForBridge(edge, 'downlink resumed', s => s.downlinkPausedBy === null && s.downlinked >= paused.downlinked + COMMANDS)
    assert.equal(after.downlinked, paused.downlinked + COMMANDS)
    await heldAtRemote(cloud, remoteQueuePrefix, 0)
  } finally {
    await end(device)
    await closeQuietly(filler, admin)
    const dir = edge?.dataDir
    await edge?.close()
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
    await cloud.close()
  }
}

test('AMQP remote: over the disk watermark the downlink holds its deliveries unacknowledged, and takes them after the clearance', {
  timeout: 90_000
}, async () => {
  await downlinkPausedAtWatermark(
    cloud => cloud.amqpUrl,
    async cloud => {
      const conn = await amqpConnect(cloud.amqpUrl)
      try {
        const cc = await conn.createConfirmChannel()
        for (let i = 0; i < COMMANDS; i++) cc.publish('amq.topic', `cmd.${i}`, Buffer.from(`command ${i}`), { persistent: true })
        await cc.waitForConfirms()
      } finally {
        await closeQuietly(conn)
      }
    },
    'wharf-bridge.'
  )
})

test('MQTT 5 remote: over the disk watermark the downlink sends no PUBACK, and after the clearance the remote sends the commands again', {
  timeout: 90_000
}, async () => {
  await downlinkPausedAtWatermark(
    cloud => cloud.mqttUrl,
    async cloud => {
      const operator = await connect(cloud.mqttUrl, { clientId: 'operator', protocolVersion: 5 })
      try {
        for (let i = 0; i < COMMANDS; i++) await operator.publishAsync(`cmd/${i}`, `command ${i}`, { qos: 1 })
      } finally {
        await end(operator)
      }
    },
    'mqtt-session/wharf-'
  )
})
