// Issue 13: the edge SIGKILLed while its bridge forwards a stream, three rounds, then started once more
// to drain: every message the edge acknowledged reaches the remote, first arrivals in publish order,
// and the repeats are at most the messages each restart found possibly sent before (the bridge sends
// a message only once the queue's delivered mark covering it is committed; see forwarder.ts).
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
import { eventually, sleep } from './support/wait.ts'
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
}, async () => {
  const cloud = await startTestBroker(c => {
    c.log.level = 'info'
  })
  const inbox = await amqpInbox(cloud.amqpUrl, 'crash-inbox', ['up.#'])
  const dataDir = mkdtempSync(join(tmpdir(), 'wharf-bridge-crash-'))
  const env = { WHARF_BRIDGE_URL: cloud.amqpUrl, WHARF_BRIDGE_OUT_TOPICS: 'up/#' }
  const acked: number[] = []
  let next = 0
  let possiblySent = 0
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const edge = await startBrokerProcess(dataDir, env)
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
      await edge.kill()
      publishing = false
      pub.end(true)
      await loop
    }
    const edge = await startBrokerProcess(dataDir, env)
    possiblySent += await bridgeStarted(edge)
    try {
      await eventually('the backlog drained after the last restart', async () => (await status(edge)).backlog.messages === 0, 30_000)
      await eventually(`all ${acked.length} acknowledged at the remote`, () => new Set(inbox.bodies()).size >= new Set(acked).size, 30_000)
      await sleep(200) // anything still on its way in counts too
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
    await inbox.close()
    await cloud.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
})
