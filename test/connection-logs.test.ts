// Connection logs (issue 12): MQTT and AMQP connections are logged when they open and when they close,
// with client id, user, vhost, peer, listener and the reason; log.format text writes the same events
// as human-readable lines; a warning repeated by AMQP (refused connections) is written once, then once
// more with the count held back, not once per refusal.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as netConnect } from 'node:net'
import { startTestBroker } from './support/test-broker.ts'
import { startBrokerProcess } from './support/broker-process.ts'
import { connect as amqpConnect, closeQuietly, eventually } from './support/amqp-helpers.ts'
import { connect as mqttConnect, end } from './support/mqtt-helpers.ts'

describe('connection logs', { timeout: 60_000 }, () => {
  test('MQTT: connect and disconnect lines with client id, user, vhost, peer, protocol, listener and reason', async () => {
    const broker = await startTestBroker()
    try {
      const device = await mqttConnect(broker.mqttUrl, { clientId: 'log-device', protocolVersion: 5 })
      await device.endAsync() // DISCONNECT 0x00, then the close
      await eventually('the disconnect line', () => broker.logs.some(l => l.msg === 'mqtt client disconnected'))
      const open = broker.logs.find(l => l.msg === 'mqtt client connected')
      const close = broker.logs.find(l => l.msg === 'mqtt client disconnected')
      for (const line of [open, close]) {
        assert.ok(line !== undefined)
        assert.deepEqual(
          [line.clientId, line.user, line.vhost, line.peer, line.protocol, line.listener],
          ['log-device', null, '/', '127.0.0.1', 'MQTT 5.0', 'tcp']
        )
      }
      assert.equal(close!.reason, 'client DISCONNECT (0x00)')
      assert.equal(close!.graceful, true)

      const dropped = await mqttConnect(broker.mqttUrl, { clientId: 'log-dropped' })
      dropped.stream.destroy()
      await eventually("the dropped client's line", () => broker.logs.some(l => l.msg === 'mqtt client disconnected' && l.clientId === 'log-dropped'))
      const lost = broker.logs.find(l => l.msg === 'mqtt client disconnected' && l.clientId === 'log-dropped')
      assert.equal(lost!.graceful, false)
      assert.match(String(lost!.reason), /closed|socket/)
      dropped.end(true)
    } finally {
      await broker.close()
    }
  })

  test('AMQP: opened and closed lines (a normal close too) with client name, user, vhost, peer and reason', async () => {
    const broker = await startTestBroker()
    try {
      const conn = await amqpConnect(broker.amqpUrl, { clientProperties: { connection_name: 'billing-service' } })
      await conn.close()
      await eventually('the close line', () => broker.logs.some(l => l.component === 'amqp' && l.msg === 'connection closed'))
      const open = broker.logs.find(l => l.component === 'amqp' && l.msg === 'connection opened')
      const close = broker.logs.find(l => l.component === 'amqp' && l.msg === 'connection closed')
      for (const line of [open, close]) {
        assert.ok(line !== undefined)
        assert.deepEqual([line.clientName, line.user, line.vhost, line.listener], ['billing-service', 'guest', '/', 'amqp'])
        assert.match(String(line.peer), /^127\.0\.0\.1:\d+$/)
        assert.match(String(line.client), /^amqplib /)
      }
      assert.equal(close!.level, 'info')
      assert.match(String(close!.reason), /^closed by the client: 200/)

      const cut = await amqpConnect(`${broker.amqpUrl}?heartbeat=0`, { clientProperties: { connection_name: 'cut' } })
      ;(cut.connection as unknown as { stream: { destroy(): void } }).stream.destroy()
      await eventually("the cut connection's line", () => broker.logs.some(l => l.msg === 'connection closed' && l.clientName === 'cut'))
      assert.equal(broker.logs.find(l => l.msg === 'connection closed' && l.clientName === 'cut')!.reason, 'connection lost without connection.close')
    } finally {
      await broker.close()
    }
  })

  test('AMQP: 20 connections refused at amqp.maxConnections write one warning and one count line', async t => {
    const broker = await startTestBroker(config => {
      config.amqp.maxConnections = 1
      config.log.repeatIntervalSeconds = 1
    })
    t.after(() => broker.close())
    const conn = await amqpConnect(broker.amqpUrl)
    try {
      const refusals = Array.from(
        { length: 20 },
        () =>
          new Promise<void>(resolve => {
            const s = netConnect(broker.node.ports.amqp, '127.0.0.1')
            s.on('error', () => resolve())
            s.on('close', () => resolve())
          })
      )
      await Promise.all(refusals)
      await eventually(
        'the count line',
        () => broker.logs.some(l => l.msg === 'connection refused: amqp.maxConnections reached' && l.suppressed !== undefined),
        5000
      )
      const lines = broker.logs.filter(l => l.msg === 'connection refused: amqp.maxConnections reached')
      assert.equal(lines.length, 2, JSON.stringify(lines))
      assert.equal(lines[1]!.suppressed, 19)
    } finally {
      await closeQuietly(conn)
    }
  })

  test('log.format text: human-readable lines, one per event', async t => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-textlog-'))
    try {
      const broker = await startBrokerProcess(dir, { WHARF_LOG_FORMAT: 'text' })
      t.after(() => broker.kill()) // a no-op once it exited below; else a failure before that leaves it running
      const device = await mqttConnect(`mqtt://127.0.0.1:${broker.ports.mqtt}`, { clientId: 'text-device' })
      await end(device)
      await eventually('the disconnect line', () => broker.lines.some(l => l.includes('mqtt client disconnected')))
      assert.equal(await broker.terminate(), 0)
      const ready = broker.lines.find(l => l.includes(' wharf ready '))
      assert.match(ready ?? '', /^\d{4}-\d\d-\d\dT[\d:.]+Z INFO {2}wharf ready version=\S+ /)
      assert.match(
        broker.lines.find(l => l.includes('mqtt client connected')) ?? '',
        /INFO {2}mqtt: mqtt client connected clientId=text-device user=null vhost=\/ peer=127\.0\.0\.1 protocol="MQTT 3\.1\.1" listener=tcp /
      )
      assert.equal(broker.lines.filter(l => l.startsWith('{')).length, 0, 'no JSON line')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
