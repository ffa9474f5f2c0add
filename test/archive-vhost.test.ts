// archive[].vhost: an archive entry keeps the MQTT topics of the vhost it names in a stream there.
// Two entries with the same stream name, one in 'plant' and one in mqtt.vhost '/': each stream holds
// its own vhost's publishes, read back by amqplib as a stream consumer in that vhost; the vhost an
// entry names cannot be deleted.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { hashPassword } from '../core/auth/password-hash.ts'
import { startTestBroker } from './support/test-broker.ts'
import { connect, end } from './support/mqtt-helpers.ts'
import { channel, closeQuietly, connect as amqpConnect, consume } from './support/amqp-helpers.ts'
import { adminFetch } from './support/admin-http.ts'

const password = 'pw'

test('an archive entry keeps the topics of its own vhost, in a stream of that vhost', { timeout: 30_000 }, async t => {
  const broker = await startTestBroker(c => {
    c.amqp.vhosts = ['/', 'plant']
    c.auth.users = [{ username: 'dev', passwordHash: hashPassword(password) }]
    c.auth.permissions = ['/', 'plant'].map(vhost => ({ user: 'dev', vhost, configure: '.*', write: '.*', read: '.*' }))
    c.archive = [
      { filter: 'telemetry/#', stream: 'telemetry', vhost: 'plant' },
      { filter: 'telemetry/#', stream: 'telemetry' }
    ]
  })
  t.after(() => broker.close()) // here, not in the finally: a connect below that fails leaves nothing running
  const inPlant = await connect(broker.mqttUrl, { clientId: 'plant-device', username: 'plant:dev', password, protocolVersion: 5 })
  const inRoot = await connect(broker.mqttUrl, { clientId: 'root-device', username: 'dev', password, protocolVersion: 5 })
  const amqpPort = new URL(broker.amqpUrl).port
  const readers = await Promise.all(['plant', '/'].map(v => amqpConnect(`amqp://dev:${password}@127.0.0.1:${amqpPort}/${encodeURIComponent(v)}`)))
  try {
    for (const n of [1, 2, 3]) await inPlant.publishAsync('telemetry/t1', `plant ${n}`, { qos: 1 })
    await inRoot.publishAsync('telemetry/t1', 'root 1', { qos: 1 })

    const [plantStream, rootStream] = await Promise.all(
      readers.map(async conn => {
        const ch = await channel(conn)
        await ch.prefetch(10)
        return await consume(ch, 'telemetry', { arguments: { 'x-stream-offset': 'first' } })
      })
    )
    await plantStream?.waitFor(3)
    await rootStream?.waitFor(1)
    assert.deepEqual(plantStream?.bodies(), ['plant 1', 'plant 2', 'plant 3'])
    assert.deepEqual(rootStream?.bodies(), ['root 1'])

    const del = await adminFetch(`${broker.adminUrl}/api/vhosts/plant`, { method: 'DELETE' })
    assert.equal(del.status, 400)
    assert.match(((await del.json()) as { reason: string }).reason, /holds the archive stream 'telemetry'/)
  } finally {
    await closeQuietly(...readers)
    await end(inPlant, inRoot)
  }
})
