// Issue 13: the edge SIGKILLed while its bridge forwards a stream, three rounds, then started once more
// to drain: every message the edge acknowledged reaches the remote, first arrivals in publish order,
// and the repeats are at most the messages each restart found possibly sent before (the bridge sends
// a message only once the queue's delivered mark covering it is committed; see forwarder.ts).
// The link runs through a proxy that holds the remote's confirms just before each kill, so every
// kill provably lands with forwards outstanding (on a quiet machine the bridge otherwise keeps up
// and a kill can find nothing in flight).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { startTestBroker } from './support/test-broker.ts'
import { startBrokerProcess, type BrokerProcess } from './support/broker-process.ts'
import { amqpInbox } from './support/bridge-inboxes.ts'
import { checkArrivals } from './support/bridge-checks.ts'
import { adminFetch } from './support/admin-http.ts'
import { eventually } from './support/wait.ts'
import { startStallingProxy } from './support/stalling-proxy.ts'
import type { BridgeStatus } from '../adapters/bridge/bridge-status.ts'

const ROUNDS = 3

/** The `possiblySentBefore` of the bridge's start-up line: the repeats this start may cause. */
async function bridgeStarted(edge: BrokerProcess): Promise<number> {
  let found: number | undefined
  await eventually(
    'the bridge start-up line',
    () => {
      for (const line of edge.lines) {
        if (!line.includes('"bridge started"')) continue
        found = (JSON.parse(line) as { possiblySentBefore: number }).possiblySentBefore
        return true
      }
      return false
    },
    10_000
  )
  return found as number
}

async function status(edge: BrokerProcess): Promise<BridgeStatus> {
  return (await (await adminFetch(`http://127.0.0.1:${edge.ports.admin}/api/bridges/cloud`)).json()) as BridgeStatus
}

test(`SIGKILL of the edge mid-forwarding, ${ROUNDS} rounds: nothing acknowledged is lost, order kept, repeats only as counted`, {
  timeout: 180_000
}, async t => {
  // Each start registers its stop: one that fails, or a round that fails before its kill, leaves nothing running.
  const cloud = await startTestBroker(c => {
    c.log.level = 'info'
  })
  t.after(() => cloud.close())
  const inbox = await amqpInbox(cloud.amqpUrl, 'crash-inbox', ['up.#'])
  t.after(() => inbox.close())
  const dataDir = mkdtempSync(join(tmpdir(), 'wharf-bridge-crash-'))
  const cloudAmqpPort = Number(new URL(cloud.amqpUrl).port)
  const proxy = await startStallingProxy(cloudAmqpPort)
  t.after(() => proxy.close())
  const proxiedUrl = new URL(cloud.amqpUrl)
  proxiedUrl.port = String(proxy.port)
  const env = { WHARF_BRIDGE_URL: proxiedUrl.toString(), WHARF_BRIDGE_OUT_TOPICS: 'up/#' }
  const acked: number[] = []
  let next = 0
  let possiblySent = 0
  try {
    for (let round = 0; round < ROUNDS; round++) {
      proxy.resume()
      const edge = await startBrokerProcess(dataDir, env)
      t.after(() => edge.kill())
      possiblySent += await bridgeStarted(edge)
      const pub = mqtt.connect(`mqtt://127.0.0.1:${edge.ports.mqtt}`, { clientId: `crash-pub-${round}`, protocolVersion: 5, reconnectPeriod: 0 })
      pub.on('error', () => {})
      let publishing = true
      const loop = (async () => {
        await new Promise<void>(resolve => pub.once('connect', () => resolve()))
        while (publishing) {
          const batch = Array.from({ length: 50 }, () => next++)
          await Promise.all(
            batch.map(async n => {
              try {
                await pub.publishAsync('up/seq', String(n), { qos: 1 })
                acked.push(n)
              } catch {
                /* not acknowledged: the kill */
              }
            })
          )
        }
      })()
      const arrivedBefore = inbox.messages.length
      await eventually(`round ${round}: forwarding under way`, () => inbox.messages.length >= arrivedBefore + 2000, 30_000)
      // Confirms held: what the bridge sends from now on stays unconfirmed until the kill.
      proxy.stall()
      await eventually(`round ${round}: forwards awaiting the remote's confirm`, async () => (await status(edge)).backlog.inflightMessages > 0, 10_000)
      await edge.kill()
      publishing = false
      pub.end(true)
      await loop
    }
    proxy.resume()
    const edge = await startBrokerProcess(dataDir, env)
    t.after(() => edge.kill()) // a no-op after the terminate below
    possiblySent += await bridgeStarted(edge)
    try {
      await eventually('the backlog drained after the last restart', async () => (await status(edge)).backlog.messages === 0, 30_000)
      await eventually(`all ${acked.length} acknowledged at the remote`, () => new Set(inbox.bodies()).size >= new Set(acked).size, 30_000)
      // Anything still on its way in counts too: wait until the remote's queue holds nothing for the inbox.
      await eventually(
        "the remote's inbox queue emptied",
        async () => {
          const q = (await (await adminFetch(`${cloud.adminUrl}/api/queues/%2F/crash-inbox`)).json()) as { messages: number }
          return q.messages === 0
        },
        10_000
      )
      const report = checkArrivals(inbox.messages, acked, 'crash')
      assert.ok(report.duplicates <= possiblySent, `${report.duplicates} repeats, ${possiblySent} counted as possibly sent before`)
      assert.ok(possiblySent > 0, 'the kills landed while messages were in flight')
      process.stdout.write(
        `# bridge crash: ${acked.length} acknowledged, ${report.distinct} distinct arrivals, ${report.duplicates} repeats, ${possiblySent} possibly sent before\n`
      )
    } finally {
      await edge.terminate()
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
})
