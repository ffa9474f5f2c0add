// AMQP -> MQTT 5: what an AMQP publisher sets arrives as well-formed MQTT strings or not at all. An
// MQTT string never holds U+0000 [MQTT-1.5.4-2] and a Response Topic is a Topic Name, not empty and
// without wildcards [MQTT-3.3.2-14]; a client receiving otherwise has a Malformed Packet or a Protocol
// Error. Wharf passed AMQP header values, content types and reply-to addresses through as they
// were (a header 'a\0b' became a User Property with U+0000, reply-to '' an empty Response Topic),
// and wrote a timestamp header as amqplib's {"!":"timestamp",...}, tables and arrays as JSON, bytes
// that are not UTF-8 as U+FFFD. Now header values convert as RabbitMQ 3.13 converts them
// (mc_mqtt: numbers, booleans and timestamps as decimal text, void as ''; tables, arrays, decimals
// and non-text bytes left out). amqplib publishes, mqtt.js v5 subscribes, over real sockets.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { Channel, ChannelModel } from 'amqplib'
import type { MqttClient } from 'mqtt'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { connect, collector, end, type Received } from './support/mqtt-helpers.ts'
import * as a from './support/amqp-helpers.ts'

describe('AMQP -> MQTT 5: only well-formed MQTT strings', { timeout: 60_000 }, () => {
  let broker: TestBroker
  let amqp: ChannelModel
  let ch: Channel
  let v5: MqttClient
  let inbox: ReturnType<typeof collector>
  const errors: string[] = []
  before(async () => {
    broker = await startTestBroker()
    amqp = await a.connect(broker.amqpUrl)
    ch = await a.channel(amqp)
    v5 = await connect(broker.mqttUrl, { protocolVersion: 5 })
    v5.on('error', err => errors.push(String(err)))
    inbox = collector(v5)
    await v5.subscribeAsync('hs/#', { qos: 1 })
  })
  after(async () => {
    await end(v5)
    await a.closeQuietly(amqp)
    await broker.close()
  })
  const receive = async (routingKey: string, options: Parameters<Channel['publish']>[3]): Promise<Received> => {
    const before = inbox.messages.length
    ch.publish('amq.topic', routingKey, Buffer.from(routingKey), options)
    const all = await inbox.waitFor(before + 1)
    const m = all[before] as Received
    assert.equal(m.topic, routingKey.replace(/\./g, '/'))
    return m
  }

  test('header values: text, numbers, booleans, timestamps and void as RabbitMQ 3.13 writes them; U+0000, tables, arrays, decimals and non-text bytes left out [MQTT-1.5.4-2]', async () => {
    const m = await receive('hs.headers', {
      headers: {
        text: 'plain',
        nul: 'a\u0000b',
        int: 42,
        float: 1.5,
        yes: true,
        void: null,
        ts: { '!': 'timestamp', value: 1_700_000_000 },
        long: { '!': 'int64', value: 5 },
        utf8bytes: Buffer.from('text in bytes'),
        rawbytes: Buffer.from([0xff, 0xfe, 0x00]),
        table: { a: 1 },
        array: [1, 'x'],
        decimal: { '!': 'decimal', value: { places: 2, digits: 314 } },
        last: 'end'
      }
    })
    assert.deepEqual(Object.entries(m.properties?.userProperties ?? {}), [
      ['text', 'plain'],
      ['int', '42'],
      ['float', '1.5'],
      ['yes', 'true'],
      ['void', ''],
      ['ts', '1700000000'],
      ['long', '5'],
      ['utf8bytes', 'text in bytes'],
      ['last', 'end']
    ])
  })

  test('a repeated-name list (x-mqtt-user-properties) from AMQP loses only the pairs with U+0000 [MQTT-3.3.2-18]', async () => {
    const m = await receive('hs.ordered', {
      headers: {
        'x-mqtt-user-properties': [
          ['k', '1'],
          ['k', 'bad\u0000'],
          ['k', '2']
        ]
      }
    })
    assert.deepEqual({ ...(m.properties?.userProperties as object) }, { k: ['1', '2'] })
  })

  test('a content type with U+0000 is left out; others arrive as Content Type [MQTT-1.5.4-2]', async () => {
    const bad = await receive('hs.ct.bad', { contentType: 'text/plain\u0000' })
    assert.equal(bad.properties?.contentType, undefined)
    const good = await receive('hs.ct.good', { contentType: 'text/plain' })
    assert.equal(good.properties?.contentType, 'text/plain')
  })

  test('a reply-to that is no Topic Name (empty, a wildcard) is left out; others arrive as Response Topic, / and . swapped [MQTT-3.3.2-14]', async () => {
    for (const replyTo of ['', 'answers.#', 'answers.a+b']) {
      const m = await receive('hs.rt.bad', { replyTo, correlationId: 'c-1' })
      assert.equal(m.properties?.responseTopic, undefined, `reply-to '${replyTo}'`)
      assert.deepEqual(m.properties?.correlationData, Buffer.from('c-1'), 'the rest of the properties still arrive')
    }
    const good = await receive('hs.rt.good', { replyTo: 'svc.answers/x' })
    assert.equal(good.properties?.responseTopic, 'svc/answers.x')
    assert.deepEqual(errors, [], 'the subscriber saw no error')
  })
})
