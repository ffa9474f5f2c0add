// The management API against a real broker, through real clients (amqplib, mqtt.js) and fetch:
// RabbitMQ's paths, methods and JSON fields, pagination and columns, declare/delete/purge/get/publish,
// bindings, closing AMQP and MQTT connections, deleting an MQTT session, and permission checks.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { ChannelModel } from 'amqplib'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { adminFetch, basicAuthorization } from './support/admin-http.ts'
import * as a from './support/amqp-helpers.ts'
import * as m from './support/mqtt-helpers.ts'
import { eventually } from './support/wait.ts'

type Json = Record<string, unknown>

describe('management API', { timeout: 60_000 }, () => {
  let broker: TestBroker
  let api: (path: string, init?: RequestInit) => Promise<Response>
  const getJson = async (path: string): Promise<unknown> => {
    const res = await api(path)
    assert.equal(res.status, 200, `GET ${path}: ${res.status} ${await res.clone().text()}`)
    return await res.json()
  }
  const send = async (method: string, path: string, body?: unknown): Promise<Response> =>
    await api(path, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })

  before(async () => {
    broker = await startTestBroker()
    api = async (path, init) => await adminFetch(`${broker.adminUrl}${path}`, init)
  })
  after(async () => {
    await broker.close()
  })

  test('queues: PUT declares (201, then 204), GET shows RabbitMQ fields, a different declaration is 400, DELETE removes', async () => {
    assert.equal((await send('PUT', '/api/queues/%2F/orders', { durable: true, auto_delete: false, arguments: { 'x-max-length': 100 } })).status, 201)
    assert.equal(
      (await send('PUT', '/api/queues/%2F/orders', { durable: 'true', arguments: { 'x-max-length': 100 } })).status,
      204,
      'rabbitmqadmin sends booleans as text'
    )
    const q = (await getJson('/api/queues/%2F/orders')) as Json
    assert.deepEqual(
      {
        name: q.name,
        vhost: q.vhost,
        durable: q.durable,
        auto_delete: q.auto_delete,
        exclusive: q.exclusive,
        type: q.type,
        state: q.state,
        messages: q.messages,
        arguments: q.arguments
      },
      {
        name: 'orders',
        vhost: '/',
        durable: true,
        auto_delete: false,
        exclusive: false,
        type: 'classic',
        state: 'running',
        messages: 0,
        arguments: { 'x-max-length': 100 }
      }
    )
    const differs = await send('PUT', '/api/queues/%2F/orders', { durable: false })
    assert.equal(differs.status, 400)
    assert.match(((await differs.json()) as Json).reason as string, /durable/)
    const reserved = await send('PUT', '/api/queues/%2F/mqtt-session%2Fsneaky', {})
    assert.equal(reserved.status, 403, "MQTT session queues are the engine's to declare")
    assert.equal((await send('DELETE', '/api/queues/%2F/orders')).status, 204)
    assert.equal((await api('/api/queues/%2F/orders')).status, 404)
    assert.equal((await api('/api/queues/nope')).status, 404, 'an unknown vhost')
  })

  test('exchanges: declare, list with the default exchange, bindings between exchange and queue, delete', async () => {
    assert.equal((await send('PUT', '/api/exchanges/%2F/events', { type: 'topic', durable: true })).status, 201)
    const all = (await getJson('/api/exchanges/%2F')) as Json[]
    const names = all.map(x => x.name)
    for (const n of ['', 'amq.direct', 'amq.topic', 'events']) assert.ok(names.includes(n), `${n} listed`)
    assert.deepEqual(await getJson('/api/exchanges/%2F/amq.default?columns=name,type'), { name: '', type: 'direct' })
    assert.equal((await send('PUT', '/api/queues/%2F/ev-q', {})).status, 201)
    const bound = await send('POST', '/api/bindings/%2F/e/events/q/ev-q', { routing_key: 'a.*', arguments: {} })
    assert.equal(bound.status, 201)
    assert.equal(bound.headers.get('location'), 'a.*')
    const bindings = (await getJson('/api/bindings/%2F/e/events/q/ev-q')) as Json[]
    assert.deepEqual(
      bindings.map(b => [b.source, b.destination, b.destination_type, b.routing_key, b.properties_key]),
      [['events', 'ev-q', 'queue', 'a.*', 'a.*']]
    )
    const queueBindings = (await getJson('/api/queues/%2F/ev-q/bindings')) as Json[]
    assert.deepEqual(
      queueBindings.map(b => b.source),
      ['', 'events'],
      "the default exchange's implicit binding first"
    )
    const routed = (await (
      await send('POST', '/api/exchanges/%2F/events/publish', {
        routing_key: 'a.b',
        payload: 'hello',
        payload_encoding: 'string',
        properties: { delivery_mode: 2, headers: { h: 'v' } }
      })
    ).json()) as Json
    assert.deepEqual(routed, { routed: true })
    const unrouted = (await (await send('POST', '/api/exchanges/%2F/events/publish', { routing_key: 'b.c', payload: 'x', properties: {} })).json()) as Json
    assert.deepEqual(unrouted, { routed: false })
    assert.equal((await send('DELETE', '/api/exchanges/%2F/events?if-unused=true')).status, 400, 'bound: in use')
    assert.equal((await send('DELETE', '/api/bindings/%2F/e/events/q/ev-q/a.*')).status, 204)
    assert.deepEqual(await getJson('/api/bindings/%2F/e/events/q/ev-q'), [])
    assert.equal((await send('DELETE', '/api/exchanges/%2F/events')).status, 204)
    assert.equal((await send('DELETE', '/api/exchanges/%2F/amq.topic')).status, 403)
    const got = (await (await send('POST', '/api/queues/%2F/ev-q/get', { count: 5, ackmode: 'ack_requeue_false', encoding: 'auto' })).json()) as Json[]
    assert.equal(got.length, 1)
    assert.deepEqual(
      {
        payload: got[0]?.payload,
        payload_encoding: got[0]?.payload_encoding,
        routing_key: got[0]?.routing_key,
        exchange: got[0]?.exchange,
        properties: got[0]?.properties
      },
      { payload: 'hello', payload_encoding: 'string', routing_key: 'a.b', exchange: 'events', properties: { delivery_mode: 2, headers: { h: 'v' } } }
    )
    const stats = ((await getJson('/api/queues/%2F/ev-q')) as Json).message_stats as Json
    assert.deepEqual({ publish: stats.publish, deliver_get: stats.deliver_get, ack: stats.ack }, { publish: 1, deliver_get: 1, ack: 1 })
    assert.deepEqual(Object.keys(stats.publish_details as Json), ['rate'])
    assert.equal((await send('DELETE', '/api/queues/%2F/ev-q')).status, 204)
  })

  test('get with requeue leaves the messages; purge empties the queue; binary payloads come as base64', async () => {
    await send('PUT', '/api/queues/%2F/work', {})
    for (const payload of ['one', 'two', 'three'])
      await send('POST', '/api/exchanges/%2F/amq.default/publish', { routing_key: 'work', payload, properties: {} })
    await send('POST', '/api/exchanges/%2F/amq.default/publish', {
      routing_key: 'work',
      payload: Buffer.from([0xff, 0x00]).toString('base64'),
      payload_encoding: 'base64',
      properties: {}
    })
    const peek = (await (await send('POST', '/api/queues/%2F/work/get', { count: 10, ackmode: 'ack_requeue_true', encoding: 'auto' })).json()) as Json[]
    assert.deepEqual(
      peek.map(x => [x.payload, x.payload_encoding, x.message_count]),
      [
        ['one', 'string', 3],
        ['two', 'string', 2],
        ['three', 'string', 1],
        ['/wA=', 'base64', 0]
      ]
    )
    const again = (await (await send('POST', '/api/queues/%2F/work/get', { count: 1, ackmode: 'reject_requeue_true' })).json()) as Json[]
    assert.equal(again[0]?.redelivered, true, 'a requeued message is redelivered')
    assert.equal(((await getJson('/api/queues/%2F/work')) as Json).messages, 4)
    assert.equal((await send('DELETE', '/api/queues/%2F/work/contents')).status, 204)
    assert.equal(((await getJson('/api/queues/%2F/work')) as Json).messages, 0)
    const bad = await send('POST', '/api/queues/%2F/work/get', { count: 1, ackmode: 'sometimes' })
    assert.equal(bad.status, 400)
    await send('DELETE', '/api/queues/%2F/work')
  })

  test('pagination, name filters, sorting and columns as RabbitMQ takes them', async () => {
    for (let i = 1; i <= 7; i++) await send('PUT', `/api/queues/%2F/page-q${i}`, { arguments: { 'x-max-length': i } })
    const page = (await getJson('/api/queues?page=2&page_size=3&name=page-q&sort=name&columns=name,arguments.x-max-length')) as Json
    assert.deepEqual(
      { page: page.page, page_size: page.page_size, page_count: page.page_count, filtered_count: page.filtered_count, item_count: page.item_count },
      { page: 2, page_size: 3, page_count: 3, filtered_count: 7, item_count: 3 }
    )
    assert.deepEqual(
      page.items,
      [4, 5, 6].map(i => ({ name: `page-q${i}`, arguments: { 'x-max-length': i } }))
    )
    const regex = (await getJson('/api/queues/%2F?page=1&name=%5Epage-q%5B12%5D%24&use_regex=true&columns=name')) as Json
    assert.deepEqual(regex.items, [{ name: 'page-q1' }, { name: 'page-q2' }])
    const reversed = (await getJson('/api/queues/%2F?sort=arguments.x-max-length&sort_reverse=true&columns=name')) as Json[]
    assert.deepEqual(reversed.slice(0, 2), [{ name: 'page-q7' }, { name: 'page-q6' }])
    assert.equal((await api('/api/queues?page=0')).status, 400)
    assert.equal((await api('/api/queues?page=1&page_size=501')).status, 400)
    for (let i = 1; i <= 7; i++) await send('DELETE', `/api/queues/%2F/page-q${i}`)
  })

  test('connections: AMQP and MQTT with protocol, user, peer, connected_at, client id; DELETE closes either', async () => {
    const conn: ChannelModel = await a.connect(broker.amqpUrl + '?heartbeat=30')
    const ch = await conn.createChannel()
    await ch.prefetch(7)
    const device = await m.connect(broker.mqttUrl, { clientId: 'mgmt-device', protocolVersion: 5, username: 'guest', password: 'guest' })
    try {
      let list: Json[] = []
      await eventually('both connections listed', async () => {
        list = (await getJson('/api/connections')) as Json[]
        return list.length === 2
      })
      const amqpConn = list.find(c => c.protocol === 'AMQP 0-9-1') as Json
      const mqttConn = list.find(c => c.protocol === 'MQTT 5.0') as Json
      assert.ok(amqpConn && mqttConn, JSON.stringify(list))
      assert.match(amqpConn.name as string, /^127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+$/)
      assert.equal(amqpConn.user, 'guest')
      assert.equal(amqpConn.vhost, '/')
      assert.equal(amqpConn.channels, 1)
      assert.equal(amqpConn.timeout, 30)
      assert.equal((amqpConn.client_properties as Json).product, 'amqplib')
      assert.ok(typeof amqpConn.connected_at === 'number' && amqpConn.connected_at > Date.now() - 60_000)
      assert.equal(mqttConn.user, 'guest')
      assert.equal(mqttConn.client_id, 'mgmt-device')
      assert.equal(mqttConn.vhost, '/')
      assert.equal(mqttConn.peer_host, '127.0.0.1')
      assert.ok(typeof mqttConn.recv_oct === 'number' && (mqttConn.recv_oct as number) > 0)
      assert.deepEqual(Object.keys(mqttConn.recv_oct_details as Json), ['rate'])
      const channels = (await getJson('/api/channels')) as Json[]
      assert.equal(channels.length, 1)
      assert.equal(channels[0]?.prefetch_count, 7)
      assert.equal(((channels[0]?.connection_details ?? {}) as Json).name, amqpConn.name)
      const ov = (await getJson('/api/overview')) as Json
      assert.deepEqual(ov.object_totals && { connections: (ov.object_totals as Json).connections, channels: (ov.object_totals as Json).channels }, {
        connections: 2,
        channels: 1
      })

      const mqttClosed = new Promise<number | undefined>(resolve => device.once('disconnect', p => resolve(p.reasonCode)))
      assert.equal((await send('DELETE', `/api/connections/${encodeURIComponent(mqttConn.name as string)}`)).status, 204)
      assert.equal(await mqttClosed, 0x98, 'MQTT 5: DISCONNECT Administrative action')
      const amqpClosed = new Promise<Error>(resolve => conn.once('close', resolve))
      const res = await api(`/api/connections/${encodeURIComponent(amqpConn.name as string)}`, { method: 'DELETE', headers: { 'x-reason': 'maintenance' } })
      assert.equal(res.status, 204)
      assert.match((await amqpClosed).message, /CONNECTION_FORCED - maintenance/)
      assert.equal((await send('DELETE', `/api/connections/${encodeURIComponent(amqpConn.name as string)}`)).status, 404)
    } finally {
      device.end(true)
      await a.closeQuietly?.(conn)
    }
  })

  test('an MQTT client closed over the API leaves its will', async () => {
    const watcher = await m.connect(broker.mqttUrl, { clientId: 'mgmt-will-watcher' })
    const got = m.collector(watcher)
    await watcher.subscribeAsync('wills/#', { qos: 1 })
    const device = await m.connect(broker.mqttUrl, {
      clientId: 'mgmt-will-device',
      reconnectPeriod: 0,
      will: { topic: 'wills/device', payload: Buffer.from('gone'), qos: 1, retain: false }
    })
    try {
      let name: string | undefined
      await eventually('the device is listed', async () => {
        name = ((await getJson('/api/connections')) as Json[]).find(c => c.client_id === 'mgmt-will-device')?.name as string | undefined
        return name !== undefined
      })
      const gone = m.closed(device)
      assert.equal((await send('DELETE', `/api/connections/${encodeURIComponent(name as string)}`)).status, 204)
      await gone
      const [will] = await got.waitFor(1)
      assert.deepEqual(will && { topic: will.topic, payload: will.payload }, { topic: 'wills/device', payload: 'gone' })
    } finally {
      device.end(true)
      await m.end(watcher)
    }
  })

  test('MQTT sessions and shared-subscription groups are queues; deleting a session ends it', async () => {
    const device = await m.connect(broker.mqttUrl, { clientId: 'mgmt-session', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 } })
    await device.subscribeAsync('plant/#', { qos: 1 })
    await device.subscribeAsync('$share/grp/plant/line', { qos: 1 })
    try {
      const sessions = (await getJson('/api/queues/%2F?page=1&name=mqtt-session%2F&columns=name,type,durable,consumers')) as Json
      assert.deepEqual(sessions.items, [{ name: 'mqtt-session/mgmt-session', type: 'mqtt-session', durable: true, consumers: 1 }])
      const shared = (await getJson(`/api/queues/%2F/${encodeURIComponent('mqtt-share/grp/plant/line')}`)) as Json
      assert.equal(shared.consumers, 1)
      const subs = (await getJson(`/api/queues/%2F/${encodeURIComponent('mqtt-session/mgmt-session')}/bindings`)) as Json[]
      assert.deepEqual(
        subs.filter(b => b.source === 'amq.topic').map(b => b.routing_key),
        ['plant.#']
      )
      const disconnected = new Promise<number | undefined>(resolve => device.once('disconnect', p => resolve(p.reasonCode)))
      assert.equal((await send('DELETE', `/api/queues/%2F/${encodeURIComponent('mqtt-session/mgmt-session')}`)).status, 204)
      assert.equal(await disconnected, 0x98)
      device.end(true)
      const again = await m.connect(broker.mqttUrl, {
        clientId: 'mgmt-session',
        clean: false,
        protocolVersion: 5,
        properties: { sessionExpiryInterval: 3600 },
        reconnectPeriod: 0
      })
      assert.equal(m.sessionPresent(again), false, 'the deleted session is gone')
      again.end(true)
    } finally {
      device.end(true)
    }
  })

  test('overview, vhosts, users, permissions, nodes, whoami; message_stats rates move', async () => {
    const ov = (await getJson('/api/overview')) as Json
    for (const k of ['message_stats', 'queue_totals', 'object_totals', 'product_version', 'node']) assert.ok(k in ov, `${k} in overview`)
    assert.deepEqual(Object.keys(ov.message_stats as Json).sort(), ['ack', 'ack_details', 'deliver_get', 'deliver_get_details', 'publish', 'publish_details'])
    const vhosts = (await getJson('/api/vhosts')) as Json[]
    assert.deepEqual(
      vhosts.map(v => v.name),
      ['/']
    )
    assert.equal(typeof vhosts[0]?.messages, 'number')
    const users = (await getJson('/api/users')) as Json[]
    assert.deepEqual(
      users.map(u => [u.name, u.tags]),
      [['guest', ['administrator']]]
    )
    const perms = (await getJson('/api/permissions')) as Json[]
    assert.deepEqual(perms, [{ user: 'guest', vhost: '/', configure: '.*', write: '.*', read: '.*' }])
    assert.deepEqual(await getJson('/api/whoami'), { name: 'guest', tags: ['administrator'] })
    const nodes = (await getJson('/api/nodes')) as Json[]
    assert.equal(nodes.length, 1)

    const publisher = await m.connect(broker.mqttUrl, { clientId: 'mgmt-rates' })
    try {
      await getJson('/api/overview')
      const stop = Date.now() + 1500
      while (Date.now() < stop) {
        await publisher.publishAsync('rates/x', 'r', { qos: 1 })
      }
      const later = (await getJson('/api/overview')) as Json
      const publish = (later.message_stats as Json).publish_details as Json
      assert.ok((publish.rate as number) > 0, `publish rate ${JSON.stringify(later.message_stats)}`)
    } finally {
      await m.end(publisher)
    }
  })

  test('users and permissions over HTTP; a user without permissions in a vhost cannot declare there; monitoring reads only', async () => {
    assert.equal((await send('PUT', '/api/vhosts/tenant-a', {})).status, 201)
    assert.equal((await send('PUT', '/api/users/ops', { password: 's3cret', tags: 'administrator' })).status, 201)
    assert.equal((await send('PUT', '/api/users/watcher', { password: 'w', tags: 'monitoring' })).status, 201)
    const asOps = async (method: string, path: string, body?: unknown): Promise<Response> =>
      await fetch(`${broker.adminUrl}${path}`, {
        method,
        headers: { authorization: basicAuthorization('ops', 's3cret'), 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) })
      })
    const refused = await asOps('PUT', '/api/queues/tenant-a/q', {})
    assert.equal(refused.status, 403, 'no permissions in tenant-a yet')
    assert.equal((await send('PUT', '/api/permissions/tenant-a/ops', { configure: '^q$', write: '.*', read: '.*' })).status, 201)
    assert.equal((await asOps('PUT', '/api/queues/tenant-a/q', {})).status, 201)
    assert.equal((await asOps('PUT', '/api/queues/tenant-a/other', {})).status, 403, 'configure regex ^q$')
    const watcher = { authorization: basicAuthorization('watcher', 'w') }
    assert.equal((await fetch(`${broker.adminUrl}/api/queues`, { headers: watcher })).status, 200)
    assert.equal((await fetch(`${broker.adminUrl}/api/queues/tenant-a/q`, { method: 'DELETE', headers: watcher })).status, 403)
    const users = (await getJson('/api/users?columns=name,tags,hashing_algorithm')) as Json[]
    assert.deepEqual(
      users.find(u => u.name === 'ops'),
      { name: 'ops', tags: ['administrator'], hashing_algorithm: 'wharf_scrypt' }
    )
    assert.deepEqual(await getJson('/api/users/ops/permissions'), [{ user: 'ops', vhost: 'tenant-a', configure: '^q$', write: '.*', read: '.*' }])
    assert.equal((await send('DELETE', '/api/vhosts/tenant-a')).status, 204)
    assert.equal((await send('DELETE', '/api/users/ops')).status, 204)
    assert.equal((await send('DELETE', '/api/users/watcher')).status, 204)
  })
  test('publish: CC and BCC headers route to their keys too, BCC is taken out, a CC that is not a list is 400 (as RabbitMQ)', async () => {
    for (const [queue, key] of [
      ['cc-main', 'main'],
      ['cc-copy', 'copy'],
      ['cc-hidden', 'hidden']
    ]) {
      assert.equal((await send('PUT', `/api/queues/%2F/${queue}`, { durable: false })).status, 201)
      assert.equal((await send('POST', `/api/bindings/%2F/e/amq.direct/q/${queue}`, { routing_key: key })).status, 201)
    }
    const routed = await send('POST', '/api/exchanges/%2F/amq.direct/publish', {
      routing_key: 'main',
      payload: 'to three',
      properties: { headers: { CC: ['copy'], BCC: ['hidden'], site: 'north' } }
    })
    assert.deepEqual(await routed.json(), { routed: true })
    for (const queue of ['cc-main', 'cc-copy', 'cc-hidden']) {
      const got = (await (await send('POST', `/api/queues/%2F/${queue}/get`, { count: 5, ackmode: 'ack_requeue_false', encoding: 'auto' })).json()) as Json[]
      assert.deepEqual(
        got.map(g => [g.payload, g.routing_key, (g.properties as Json).headers]),
        [['to three', 'main', { CC: ['copy'], site: 'north' }]],
        queue
      )
    }
    const bad = await send('POST', '/api/exchanges/%2F/amq.direct/publish', { routing_key: 'main', payload: 'x', properties: { headers: { CC: 'copy' } } })
    assert.equal(bad.status, 400)
    assert.match(await bad.text(), /header 'CC' must be an array of routing keys/)
    for (const queue of ['cc-main', 'cc-copy', 'cc-hidden']) assert.equal((await send('DELETE', `/api/queues/%2F/${queue}`)).status, 204)
  })
})
