// A Wharf remote over MQTT 5 whose ACL lets anonymous clients subscribe to cmd/ok/# only: the bridge's
// SUBSCRIBE gets SUBACK 0x87 for cmd/no/#. mqtt.js failed the whole SUBSCRIBE on it and the link with
// it ('connect: Subscribe error: Not authorized', naming no topic): state error, 12 reconnects in
// 3 s, nothing went up. Now the refused topic is reported and the rest of the bridge works.
import { test } from 'node:test'
import { connect, end } from './support/mqtt-helpers.ts'
import { startTestBroker } from './support/test-broker.ts'
import { bridgeTo, inTopicRefused, startEdge } from './support/bridge-scenarios.ts'

test('an in topic the remote may not be subscribed to (SUBACK 0x87) is reported; the rest of the bridge works', { timeout: 60_000 }, async t => {
  const cloud = await startTestBroker(c => {
    c.auth.defaultAcl = { subscribe: ['cmd/ok/#'] }
  })
  t.after(() => cloud.close())
  const edge = await startEdge([bridgeTo(cloud.mqttUrl, { in: { topics: ['cmd/ok/#', 'cmd/no/#'], localPrefix: '', remotePrefix: '' } })])
  try {
    await inTopicRefused(edge, /^'cmd\/no\/#': the remote refused the subscription \(SUBACK 0x87 Not authorized\)$/, async (topic, body) => {
      const commander = await connect(cloud.mqttUrl, { clientId: 'commander', protocolVersion: 5 })
      await commander.publishAsync(topic, body, { qos: 1 })
      await end(commander)
    })
  } finally {
    await edge.close()
  }
})
