// A remote that refuses the bridge (here a Wharf without anonymous access: CONNACK Not authorized)
// keeps it in state error, retried with its backoff. Each retry logged a warn line: with
// reconnectMaxMs 30 s, 2,880 lines a day per bridge (observed in tests at a 400 ms cap: a line every
// ~250 ms). Now the line comes at most once per logIntervalSeconds, then one with the count held back.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startTestBroker } from './support/test-broker.ts'
import { bridgeTo, startEdge, waitForBridge } from './support/bridge-scenarios.ts'

const FAILED = 'bridge link failed, retrying'

test('a remote that refuses the bridge: one warn line per logIntervalSeconds, then the count held back', { timeout: 60_000 }, async t => {
  const cloud = await startTestBroker(c => {
    c.auth.allowAnonymous = false
  })
  t.after(() => cloud.close())
  const edge = await startEdge([bridgeTo(cloud.mqttUrl, { reconnectInitialMs: 20, reconnectMaxMs: 50, logIntervalSeconds: 3600 })])
  let closed = false
  try {
    const s = await waitForBridge(edge, 'refused 20 times', s => s.state === 'error' && s.reconnects >= 20)
    assert.match(s.lastError ?? '', /Not authorized/)
    const warned = edge.logs.filter(l => l.msg === FAILED && l.level === 'warn')
    assert.equal(warned.length, 1, `${warned.length} warn lines for ${s.reconnects} failures`)
    await edge.close()
    closed = true
    const summary = edge.logs.filter(l => l.msg === FAILED && l.level === 'warn' && typeof l.suppressed === 'number')
    assert.equal(summary.length, 1, 'the count held back, written at stop')
    assert.ok((summary[0]?.suppressed as number) >= 19, `suppressed ${String(summary[0]?.suppressed)}`)
  } finally {
    if (!closed) await edge.close()
  }
})
