// MQTT 5 strings longer than an AMQP shortstr (255 bytes): Content Type, Response Topic and User
// Property names may be up to 65,535 bytes in MQTT, but content-type, reply-to and header names are
// shortstrs in AMQP 0-9-1. Wharf put them there as they were: an MQTT 5 PUBLISH with a 300-byte Content
// Type closed the connection of every AMQP consumer it was routed to (541 INTERNAL_ERROR 'encode
// content header ... must be a string (up to 255 chars)') and at QoS 1 was refused with PUBACK 0x80.
// Now what does not fit travels in a longstr header (x-mqtt-content-type; x-reply-to-topic, as
// RabbitMQ 3.13 carries a Response Topic; a long name in the x-mqtt-user-properties list), and MQTT 5
// subscribers get it unaltered [MQTT-3.3.2-15] [MQTT-3.3.2-17] [MQTT-3.3.2-20]. mqtt.js v5 and amqplib
// over real sockets.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib'
import type { MqttClient } from 'mqtt'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { connect, collector, end } from './support/mqtt-helpers.ts'
import * as a from './support/amqp-helpers.ts'

const LONG = 'c'.repeat(300)

describe('MQTT 5 strings over 255 bytes and AMQP shortstrs', { timeout: 60_000 }, () => {
  let broker: TestBroker
  let amqp: ChannelModel
  let ch: Channel
  let inbox: a.Inbox
  let publisher: MqttClient
  let subscriber: MqttClient
  let mqttInbox: ReturnType<typeof collector>
  const amqpErrors: string[] = []
  before(async () => {
    broker = await startTestBroker()
    amqp = await a.connect(broker.amqpUrl)
    amqp.on('error', err => amqpErrors.push(String(err)))
    ch = await a.channel(amqp)
    const { queue } = await ch.assertQueue('', { exclusive: true })
    await ch.bindQueue(queue, 'amq.topic', 'long.#')
    inbox = await a.consume(ch, queue, { noAck: true })
    publisher = await connect(broker.mqttUrl, { protocolVersion: 5 })
    subscriber = await connect(broker.mqttUrl, { protocolVersion: 5 })
    mqttInbox = collector(subscriber)
    await subscriber.subscribeAsync('long/#', { qos: 1 })
  })
  after(async () => {
    await end(publisher, subscriber)
    await a.closeQuietly(amqp)
    await broker.close()
  })

  const properties = {
    contentType: `text/${LONG}`,
    responseTopic: `answers/${LONG}`,
    userProperties: { [LONG]: 'long name', short: ['1', '2'] }
  }

  test('QoS 0 and QoS 1: acknowledged, the AMQP consumer gets them with the long strings in longstr headers and keeps its connection', async () => {
    await publisher.publishAsync('long/q0', 'zero', { qos: 0, properties })
    const puback = await publisher.publishAsync('long/q1', 'one', { qos: 1, properties })
    assert.equal((puback as { reasonCode?: number } | undefined)?.reasonCode ?? 0, 0, 'PUBACK 0x00')
    const got = (await inbox.waitFor(2)) as ConsumeMessage[]
    assert.deepEqual(
      got.map(m => m.fields.routingKey),
      ['long.q0', 'long.q1']
    )
    for (const m of got) {
      const h = m.properties.headers ?? {}
      assert.equal(m.properties.contentType, undefined)
      assert.equal(h['x-mqtt-content-type'], `text/${LONG}`)
      assert.equal(m.properties.replyTo, undefined)
      assert.equal(h['x-reply-to-topic'], `answers.${LONG}`, "the Response Topic as a routing key, '/' -> '.'")
      assert.deepEqual(h['x-mqtt-user-properties'], [
        [LONG, 'long name'],
        ['short', '1'],
        ['short', '2']
      ])
      assert.equal(h[LONG], undefined, 'no header name over 255 bytes')
    }
    assert.deepEqual(amqpErrors, [], 'the AMQP connection was not closed')
  })

  test('an MQTT 5 subscriber gets Content Type, Response Topic and User Properties unaltered [MQTT-3.3.2-15] [MQTT-3.3.2-17] [MQTT-3.3.2-20]', async () => {
    const got = await mqttInbox.waitFor(2)
    for (const m of got) {
      assert.equal(m.properties?.contentType, `text/${LONG}`)
      assert.equal(m.properties?.responseTopic, `answers/${LONG}`)
      assert.deepEqual(Object.entries(m.properties?.userProperties ?? {}), [
        [LONG, 'long name'],
        ['short', ['1', '2']]
      ])
    }
  })

  test('AMQP -> MQTT 5: header x-reply-to-topic (as RabbitMQ 3.13 takes it) is the Response Topic, and not a User Property', async () => {
    const before = mqttInbox.messages.length
    ch.publish('amq.topic', 'long.from-amqp', Buffer.from('x'), { headers: { 'x-reply-to-topic': 'svc.answers', tenant: 'acme' } })
    const m = (await mqttInbox.waitFor(before + 1))[before]
    assert.equal(m?.properties?.responseTopic, 'svc/answers')
    assert.deepEqual({ ...(m?.properties?.userProperties as object) }, { tenant: 'acme' })
  })

  test('AMQP -> MQTT 5: header x-correlation-id as a string (RabbitMQ 3.13 longstr, for one over 255 bytes) is the Correlation Data, as bytes are', async () => {
    const before = mqttInbox.messages.length
    ch.publish('amq.topic', 'long.corr-text', Buffer.from('x'), { headers: { 'x-correlation-id': `corr-${LONG}` } })
    ch.publish('amq.topic', 'long.corr-bytes', Buffer.from('x'), { headers: { 'x-correlation-id': Buffer.from([0xff, 0x00, 0x01]) } })
    const got = (await mqttInbox.waitFor(before + 2)).slice(before)
    assert.deepEqual(got[0]?.properties?.correlationData, Buffer.from(`corr-${LONG}`))
    assert.deepEqual(got[1]?.properties?.correlationData, Buffer.from([0xff, 0x00, 0x01]))
    for (const m of got) assert.equal(m.properties?.userProperties, undefined, 'x-correlation-id is no User Property')
  })
})
