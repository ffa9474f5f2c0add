// AMQP -> MQTT: a routing key that is no MQTT Topic Name. An AMQP publish to the MQTT exchange may
// carry any routing key; '' is matched by an MQTT '#' subscription, and 'a.+', 'a.b#' or 'a\0b' by
// '#' or 'a/#'. Wharf handed them to the PUBLISH encoder: for '' it threw ('encodePublish: empty
// topic') in the AMQP publish's own path, so the AMQP publisher's connection was closed with 541
// INTERNAL_ERROR (and the entry, left in the session queue, threw again at the next dispatch, closing
// whichever AMQP publisher triggered it); the others went out as PUBLISHes naming wildcards or
// U+0000, which no PUBLISH may [MQTT-4.7.3-1] [MQTT-3.3.2-2] [MQTT-1.5.4-2]. Now such a delivery is
// skipped, counted in wharf_mqtt_unsendable_deliveries_total and logged once per interval. amqplib
// with confirms, a raw 3.1.1 peer (mqtt-packet's parser) and mqtt.js v5, over real sockets.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { ChannelModel, ConfirmChannel } from 'amqplib'
import type { MqttClient } from 'mqtt'
import type { IPublishPacket, Packet } from 'mqtt-packet'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { connect, collector, end } from './support/mqtt-helpers.ts'
import { rawConnect5, type RawPeer } from './support/raw-mqtt.ts'
import { adminFetch } from './support/admin-http.ts'
import * as a from './support/amqp-helpers.ts'

describe('AMQP routing keys that are no MQTT Topic Name', { timeout: 60_000 }, () => {
  let broker: TestBroker
  let amqp: ChannelModel
  let v4: RawPeer
  let v5: MqttClient
  before(async () => {
    broker = await startTestBroker()
    amqp = await a.connect(broker.amqpUrl)
    v4 = await rawConnect5(broker.node.ports.mqtt, { protocolVersion: 4, clientId: 'all-v4' })
    v4.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '#', qos: 1 }] } as Packet)
    await v4.waitFor('SUBACK', p => p.cmd === 'suback')
    v5 = await connect(broker.mqttUrl, { protocolVersion: 5 })
    await v5.subscribeAsync('#', { qos: 1 })
  })
  after(async () => {
    v4.destroy()
    await end(v5)
    await a.closeQuietly(amqp)
    await broker.close()
  })

  const unsendable = async (): Promise<number> => {
    const text = await (await adminFetch(`${broker.adminUrl}/metrics`)).text()
    return Number(/^wharf_mqtt_unsendable_deliveries_total(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? 0)
  }

  test("'', 'a.+', 'a.b#' and 'a\\0b' are skipped for MQTT subscribers, counted and logged; the AMQP publisher keeps its connection [MQTT-4.7.3-1] [MQTT-3.3.2-2] [MQTT-1.5.4-2]", async () => {
    const errors: string[] = []
    amqp.on('error', err => errors.push(String(err)))
    const ch: ConfirmChannel = await amqp.createConfirmChannel()
    const in5 = collector(v5)
    for (const key of ['', 'a.+', 'a.b#', 'a\u0000b', 'ok.last']) ch.publish('amq.topic', key, Buffer.from(key), { deliveryMode: 2 })
    await ch.waitForConfirms()
    const last = await v4.waitFor<IPublishPacket>('the last PUBLISH (3.1.1)', p => p.cmd === 'publish' && p.topic === 'ok/last')
    assert.deepEqual(
      v4.packets.filter(p => p.cmd === 'publish').map(p => (p as IPublishPacket).topic),
      ['ok/last'],
      'the 3.1.1 subscriber got the valid topic only'
    )
    v4.send({ cmd: 'puback', messageId: last.messageId } as Packet)
    const got = await in5.waitFor(1)
    assert.deepEqual(
      got.map(m => m.topic),
      ['ok/last'],
      'the MQTT 5 subscriber too'
    )
    assert.equal(await unsendable(), 8, 'four skipped for each subscriber')
    assert.equal(broker.logs.filter(l => l.msg === 'delivery skipped: the routing key is no MQTT Topic Name').length, 1, 'logged once per interval')
    // Nothing left behind in the sessions' queues to fail a later dispatch.
    ch.publish('amq.topic', 'ok.again', Buffer.from('again'), { deliveryMode: 2 })
    await ch.waitForConfirms()
    await v4.waitFor('the next PUBLISH', p => p.cmd === 'publish' && (p as IPublishPacket).topic === 'ok/again')
    await ch.close()
    assert.deepEqual(errors, [], 'the AMQP connection was not closed')
    assert.equal(v4.isClosed(), false)
  })
})
