// AMQP -> MQTT 5: an AMQP expiration longer than MQTT's largest Message Expiry Interval (a Four Byte
// Integer, 4,294,967,295 s). Wharf wrote the interval as it was, the PUBLISH encoder threw
// ('encodePublish: messageExpiryInterval 4294967296 is outside 0..4294967295') in the AMQP publish's
// own path, and the AMQP publisher's connection was closed with 541 INTERNAL_ERROR; the MQTT subscriber
// got nothing. Now the interval is capped at 4,294,967,295 s. amqplib (confirms) and mqtt.js v5.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { ChannelModel, ConfirmChannel } from 'amqplib'
import type { MqttClient } from 'mqtt'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { connect, collector, end } from './support/mqtt-helpers.ts'
import * as a from './support/amqp-helpers.ts'

describe('an AMQP expiration past MQTT 5 range', { timeout: 60_000 }, () => {
  let broker: TestBroker
  let amqp: ChannelModel
  let subscriber: MqttClient
  before(async () => {
    broker = await startTestBroker()
    amqp = await a.connect(broker.amqpUrl)
    subscriber = await connect(broker.mqttUrl, { protocolVersion: 5 })
    await subscriber.subscribeAsync('exp/#', { qos: 1 })
  })
  after(async () => {
    await end(subscriber)
    await a.closeQuietly(amqp)
    await broker.close()
  })

  test('arrives with Message Expiry Interval 4294967295, and the AMQP publisher keeps its connection', async () => {
    const errors: string[] = []
    amqp.on('error', err => errors.push(String(err)))
    const ch: ConfirmChannel = await amqp.createConfirmChannel()
    const inbox = collector(subscriber)
    for (const expiration of ['4294967295000', '4294967296000', '99999999999999']) {
      ch.publish('amq.topic', `exp.${expiration}`, Buffer.from(expiration), { expiration, deliveryMode: 2 })
    }
    await ch.waitForConfirms()
    const got = await inbox.waitFor(3)
    assert.deepEqual(
      got.map(m => [m.topic, m.properties?.messageExpiryInterval]),
      [
        ['exp/4294967295000', 4294967295],
        ['exp/4294967296000', 4294967295],
        ['exp/99999999999999', 4294967295]
      ]
    )
    await ch.close()
    assert.deepEqual(errors, [])
  })
})
