// MQTT 5 properties across protocols, as RabbitMQ 3.13 maps them, with amqplib and mqtt.js over
// real sockets: AMQP -> MQTT 5 and MQTT 5 -> AMQP, retained from AMQP, and MQTT sessions as the
// model queues they are (consumed over AMQP, deleted over AMQP).
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { ChannelModel } from 'amqplib'
import type { IDisconnectPacket, IPublishPacket } from 'mqtt-packet'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { connect, collector, end, closed } from './support/mqtt-helpers.ts'
import * as a from './support/amqp-helpers.ts'
import { holdsFor } from './support/wait.ts'
import { RawMqttClient } from './support/raw-mqtt5.ts'

const V5 = { protocolVersion: 5 } as const
// mqtt.js decodes User Properties into an object without a prototype; compared as a plain one.

describe('MQTT 5 and AMQP 0-9-1 together', { timeout: 120_000 }, () => {
  let broker: TestBroker
  let amqp: ChannelModel
  const raws: RawMqttClient[] = []

  before(async () => {
    broker = await startTestBroker()
    amqp = await a.connect(broker.amqpUrl)
  })
  after(async () => {
    await Promise.all(raws.map(r => r.destroy()))
    await a.closeQuietly(amqp)
    await broker.close()
  })

  test('AMQP -> MQTT 5: content-type, correlation-id, reply-to, expiration and headers arrive as Content Type, Correlation Data, Response Topic, Message Expiry Interval and User Properties', {
    timeout: 15_000
  }, async () => {
    const v5 = await connect(broker.mqttUrl, V5)
    const v4 = await connect(broker.mqttUrl, { protocolVersion: 4 })
    const ch = await a.channel(amqp)
    try {
      const in5 = collector(v5)
      const in4 = collector(v4)
      await v5.subscribeAsync('svc/requests/+', { qos: 1 })
      await v4.subscribeAsync('svc/requests/+', { qos: 1 })
      ch.publish('amq.topic', 'svc.requests.v1/2', Buffer.from('{"q":1}'), {
        deliveryMode: 2,
        contentType: 'application/json',
        correlationId: 'corr-42',
        replyTo: 'svc.answers',
        expiration: '60000',
        headers: { tenant: 'acme', attempt: 3 }
      })
      const [m] = await in5.waitFor(1)
      assert.equal(m?.topic, 'svc/requests/v1.2')
      assert.equal(m?.payload, '{"q":1}')
      assert.equal(m?.qos, 1)
      const p = m?.properties ?? {}
      assert.equal(p.contentType, 'application/json')
      assert.deepEqual(p.correlationData, Buffer.from('corr-42'))
      assert.equal(p.responseTopic, 'svc/answers')
      assert.ok(p.messageExpiryInterval === 60 || p.messageExpiryInterval === 59, `expiry ${String(p.messageExpiryInterval)}`)
      assert.deepEqual({ ...(p.userProperties as object) }, { tenant: 'acme', attempt: '3' })
      // A 3.1.1 subscriber gets the message without properties.
      const [m4] = await in4.waitFor(1)
      assert.deepEqual([m4?.topic, m4?.payload, m4?.properties], ['svc/requests/v1.2', '{"q":1}', undefined])
    } finally {
      await end(v5, v4)
      await ch.close()
    }
  })

  test('MQTT 5 -> AMQP: the same properties arrive as content-type, correlation-id, reply-to, expiration and headers (with x-mqtt-payload-format-indicator)', {
    timeout: 15_000
  }, async () => {
    const ch = await a.channel(amqp)
    const { queue } = await ch.assertQueue('', { exclusive: true })
    await ch.bindQueue(queue, 'amq.topic', 'svc.answers.#')
    const inbox = await a.consume(ch, queue, { noAck: true })
    const pub = await connect(broker.mqttUrl, V5)
    try {
      await pub.publishAsync('svc/answers/v1.2', 'sí', {
        qos: 1,
        properties: {
          contentType: 'text/plain; charset=utf-8',
          correlationData: Buffer.from('corr-7'),
          responseTopic: 'svc/replies/x',
          messageExpiryInterval: 30,
          payloadFormatIndicator: true,
          userProperties: { tenant: 'acme', region: 'eu' }
        }
      })
      await pub.publishAsync('svc/answers/plain', 'no properties', { qos: 0 })
      const [m, plain] = await inbox.waitFor(2)
      assert.equal(m?.fields.routingKey, 'svc.answers.v1/2')
      assert.equal(m?.content.toString(), 'sí')
      const p = m?.properties
      assert.equal(p?.contentType, 'text/plain; charset=utf-8')
      assert.equal(p?.correlationId, 'corr-7')
      assert.equal(p?.replyTo, 'svc.replies.x')
      assert.equal(p?.expiration, '30000')
      assert.equal(p?.deliveryMode, 2)
      assert.equal(p?.headers?.tenant, 'acme')
      assert.equal(p?.headers?.region, 'eu')
      assert.equal(p?.headers?.['x-mqtt-payload-format-indicator'], 1)
      assert.equal(p?.headers?.['x-mqtt-publish-qos'], 1)
      assert.equal(plain?.properties.deliveryMode, 1)
      assert.equal(plain?.properties.contentType, undefined)
      assert.equal(plain?.properties.headers?.['x-mqtt-payload-format-indicator'], undefined)
    } finally {
      await end(pub)
      await ch.close()
    }
  })

  test('a round trip MQTT 5 -> AMQP -> MQTT 5 keeps Response Topic, Correlation Data and User Properties (a repeated name, in order) [MQTT-3.3.2-15] [MQTT-3.3.2-16] [MQTT-3.3.2-18]', {
    timeout: 15_000
  }, async () => {
    // An AMQP service answering MQTT requests: it copies correlation-id and headers into its reply.
    const ch = await a.channel(amqp)
    const { queue } = await ch.assertQueue('', { exclusive: true })
    await ch.bindQueue(queue, 'amq.topic', 'rr.requests')
    await a.consume(ch, queue, { noAck: true }, m => {
      ch.publish('amq.topic', m.properties.replyTo as string, Buffer.from(`re: ${m.content.toString()}`), {
        deliveryMode: 2,
        correlationId: m.properties.correlationId,
        headers: m.properties.headers
      })
    })
    const requester = await connect(broker.mqttUrl, V5)
    const { client: rawRequester } = await RawMqttClient.connect(broker.node.ports.mqtt, { clientId: 'rr-raw' })
    raws.push(rawRequester)
    try {
      const answers = collector(requester)
      await requester.subscribeAsync('rr/answers/#', { qos: 1 })
      await requester.publishAsync('rr/requests', 'ping', {
        qos: 1,
        properties: { responseTopic: 'rr/answers/me', correlationData: Buffer.from('c-1'), userProperties: { a: ['1', '3'], b: '2' } }
      })
      const [ans] = await answers.waitFor(1)
      assert.equal(ans?.topic, 'rr/answers/me')
      assert.equal(ans?.payload, 're: ping')
      assert.deepEqual(ans?.properties?.correlationData, Buffer.from('c-1'))
      assert.deepEqual({ ...(ans?.properties?.userProperties as object) }, { a: ['1', '3'], b: '2' })
    } finally {
      await end(requester)
      await ch.close()
    }
  })

  test('retained from AMQP (x-mqtt-retain: true) reaches a later MQTT 5 subscriber with RETAIN 1 and its properties', { timeout: 15_000 }, async () => {
    const confirm = await amqp.createConfirmChannel()
    confirm.publish('amq.topic', 'amqp-kept.pump', Buffer.from('on'), {
      deliveryMode: 2,
      contentType: 'text/plain',
      headers: { 'x-mqtt-retain': true, site: 'north' }
    })
    await confirm.waitForConfirms()
    await confirm.close()
    const late = await connect(broker.mqttUrl, V5)
    try {
      const inbox = collector(late)
      await late.subscribeAsync('amqp-kept/#', { qos: 1 })
      const [m] = await inbox.waitFor(1)
      assert.deepEqual([m?.topic, m?.payload, m?.retain, m?.qos], ['amqp-kept/pump', 'on', true, 1])
      assert.equal(m?.properties?.contentType, 'text/plain')
      assert.deepEqual({ ...(m?.properties?.userProperties as object) }, { site: 'north' }, "x-mqtt-retain is the mapping's own header, not a User Property")
      await late.publishAsync('amqp-kept/pump', '', { qos: 1, retain: true })
    } finally {
      await end(late)
    }
  })

  test('an AMQP client consumes an MQTT session queue (basic.get and basic.consume); the returning MQTT client finds it drained', {
    timeout: 15_000
  }, async () => {
    const opts = { ...V5, clientId: 'amqp-drained', clean: false, properties: { sessionExpiryInterval: 600 } }
    const device = await connect(broker.mqttUrl, opts)
    await device.subscribeAsync('inbox/#', { qos: 1 })
    await end(device)
    const pub = await connect(broker.mqttUrl, V5)
    const ch = await a.channel(amqp)
    try {
      for (let i = 0; i < 4; i++) await pub.publishAsync('inbox/x', `i${i}`, { qos: 1, properties: { contentType: 'text/plain' } })
      const got = await ch.get('mqtt-session/amqp-drained', { noAck: false })
      assert.ok(got !== false)
      assert.equal(got.content.toString(), 'i0')
      assert.equal(got.fields.routingKey, 'inbox.x')
      assert.equal(got.properties.contentType, 'text/plain')
      ch.ack(got)
      const inbox = await a.consume(ch, 'mqtt-session/amqp-drained', {}, m => ch.ack(m))
      await inbox.waitFor(3)
      assert.deepEqual(inbox.bodies(), ['i1', 'i2', 'i3'])
      await ch.cancel(inbox.consumerTag)
      const back = await connect(broker.mqttUrl, opts)
      try {
        const backIn = collector(back)
        await pub.publishAsync('inbox/x', 'for mqtt', { qos: 1 })
        await backIn.waitFor(1)
        await holdsFor('what AMQP took is not delivered again', () => backIn.messages.length === 1, 200)
        assert.equal(backIn.messages[0]?.payload, 'for mqtt')
      } finally {
        await end(back)
      }
    } finally {
      await end(pub)
      await ch.close()
    }
  })

  test('deleting an MQTT session queue over AMQP: the MQTT 5 client gets DISCONNECT 0x98, the session is gone, and the client id connects again with a new session', {
    timeout: 20_000
  }, async () => {
    const port = broker.node.ports.mqtt
    const props = { clean: false, properties: { sessionExpiryInterval: 600 } }
    const { client: device } = await RawMqttClient.connect(port, { clientId: 'deleted-5', ...props })
    raws.push(device)
    device.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'del/#', qos: 1 }] })
    await device.waitFor('suback', 1)
    const ch = await a.channel(amqp)
    try {
      await ch.deleteQueue('mqtt-session/deleted-5')
      const [d] = (await device.waitFor('disconnect', 1)) as IDisconnectPacket[]
      assert.equal(d?.reasonCode, 0x98)
      await device.closed
      // The client id is free: a new session (present 0) that subscribes and receives again; then the
      // queue is deleted while the client is away, and it comes back to a new, empty session.
      const pub = await connect(broker.mqttUrl, V5)
      try {
        for (const [round, payload] of ['after delete', 'after delete offline'].entries()) {
          const { client: again, connack } = await RawMqttClient.connect(port, { clientId: 'deleted-5', ...props })
          raws.push(again)
          assert.equal(connack.sessionPresent, false, `round ${round}`)
          again.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'del/#', qos: 0 }] })
          await again.waitFor('suback', 1)
          await pub.publishAsync('del/x', payload, { qos: 1 })
          const [p] = (await again.waitFor('publish', 1)) as IPublishPacket[]
          assert.equal(String(p?.payload), payload)
          await again.destroy()
          await ch.deleteQueue('mqtt-session/deleted-5')
        }
      } finally {
        await end(pub)
      }
    } finally {
      await ch.close()
    }
  })

  test("deleting a 3.1.1 client's session queue over AMQP closes its connection", { timeout: 15_000 }, async () => {
    const device = await connect(broker.mqttUrl, { protocolVersion: 4, clientId: 'deleted-4', clean: false })
    await device.subscribeAsync('del4/#', { qos: 1 })
    const ch = await a.channel(amqp)
    try {
      await ch.deleteQueue('mqtt-session/deleted-4')
      await closed(device)
    } finally {
      await end(device)
      await ch.close()
    }
  })
})
