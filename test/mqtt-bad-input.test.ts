// Bad input closes that one connection with a logged reason; the broker keeps serving the others.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { connect, collector, end } from './support/mqtt-helpers.ts'
import { rawConnect, publishWithTopicBytes, withTimeout } from './support/raw-mqtt.ts'
import { adminFetch } from './support/admin-http.ts'

describe('MQTT bad input', { timeout: 60_000 }, () => {
  let broker: TestBroker
  before(async () => {
    broker = await startTestBroker(c => {
      c.mqtt.maxPacketBytes = 4096
    })
  })
  after(async () => {
    await broker.close()
  })

  async function stillServing(): Promise<void> {
    const a = await connect(broker.mqttUrl, { clientId: 'healthy-sub' })
    const b = await connect(broker.mqttUrl, { clientId: 'healthy-pub' })
    const got = collector(a)
    await a.subscribeAsync('healthy', { qos: 1 })
    await b.publishAsync('healthy', 'yes', { qos: 1 })
    assert.equal((await got.waitFor(1))[0]?.payload, 'yes')
    await end(a, b)
  }

  const cases: Array<[string, Buffer]> = [
    ['garbage bytes after CONNECT', Buffer.from([0xf0, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00])],
    ['ill-formed UTF-8 in a topic', publishWithTopicBytes(Buffer.from([0x61, 0x2f, 0xc3, 0x28]), Buffer.from('x'), 1)],
    ['U+0000 in a topic', publishWithTopicBytes(Buffer.from('a/\u0000/b'), Buffer.from('x'))],
    ['a wildcard in a PUBLISH topic', publishWithTopicBytes(Buffer.from('a/+/b'), Buffer.from('x'), 1)],
    ['a packet over mqtt.maxPacketBytes', publishWithTopicBytes(Buffer.from('big'), Buffer.alloc(10_000), 1)]
  ]
  for (const [name, bytes] of cases) {
    test(`${name} closes the connection; others are served`, async () => {
      const peer = await rawConnect(broker.node.ports.mqtt, `bad-${name.length}`)
      peer.socket.write(bytes)
      await withTimeout(peer.closed, 5000, `broker closing the connection after ${name}`)
      await stillServing()
    })
  }

  test('the oversize refusal is logged and counted', async () => {
    // Its own oversize packet: the test does not depend on the cases above having run.
    const peer = await rawConnect(broker.node.ports.mqtt, 'oversize-counted')
    peer.socket.write(publishWithTopicBytes(Buffer.from('big'), Buffer.alloc(10_000), 1))
    await withTimeout(peer.closed, 5000, 'broker closing the oversize connection')
    assert.ok(broker.logs.some(l => l.msg === 'mqtt connection closed: packet over mqtt.maxPacketBytes' && String(l.reason).includes('4096')))
    const metrics = await (await adminFetch(`${broker.adminUrl}/metrics`)).text()
    assert.match(metrics, /wharf_mqtt_oversize_packets_total [1-9]/)
  })

  test('a non-MQTT first packet is refused', async () => {
    const { connect: netConnect } = await import('node:net')
    const s = netConnect(broker.node.ports.mqtt, '127.0.0.1')
    s.on('error', () => {})
    const closed = new Promise<void>(resolve => s.once('close', () => resolve()))
    s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
    await withTimeout(closed, 5000, 'broker closing a non-MQTT connection')
    await stillServing()
  })
})
