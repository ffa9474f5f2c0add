// A RabbitMQ remote whose permissions refuse part of what the bridge does: user edge may write to
// amq.topic only the routing keys up.seq and up.ok.*, and read only cmd.ok.*. A publish to another
// key closes the uplink channel with 403 ACCESS_REFUSED naming the key; before, the bridge sent that
// message again at every reconnect, in error for good, and sent the messages before it again each
// time (observed: one message arrived 16 times in 4 s). Now the messages to the refused topic are
// dead-lettered, the topic is listed in /api/bridges, and the rest arrive in order. An `in` topic
// it may not read (queue.bind 403) failed the whole link, so nothing went up either (observed:
// state error, 20 reconnects in 4 s, the backlog growing); now it is reported and the rest of the
// bridge works. Its MQTT plugin (3.10) closes the connection at such a SUBSCRIBE, without a SUBACK:
// the bridge failed the same way at every reconnect (observed: 'connect: subscribe: Connection
// closed', 68 reconnects in 20 s); now that topic is skipped for reconnectMaxMs, and reported.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { MqttClient } from 'mqtt'
import { connect, end } from './support/mqtt-helpers.ts'
import { eventually } from './support/wait.ts'
import { adminFetch, guestAuthorization } from './support/admin-http.ts'
import { amqpInbox, type RemoteInbox } from './support/bridge-inboxes.ts'
import { checkArrivals } from './support/bridge-checks.ts'
import { bridgeTo, inTopicRefused, publishNumbered, startEdge, waitForBridge } from './support/bridge-scenarios.ts'
import { rabbitmqUnavailable, startRabbitmq, type RabbitmqNode } from './support/rabbitmq-node.ts'
import { connect as amqpConnect, closeQuietly } from './support/amqp-helpers.ts'
import type { TestBroker } from './support/test-broker.ts'

async function rabbitApi(rabbit: RabbitmqNode, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${rabbit.managementUrl}${path}`, {
    method: 'PUT',
    headers: { authorization: guestAuthorization, 'content-type': 'application/json' },
    body: JSON.stringify(body)
  })
  assert.ok(res.status === 201 || res.status === 204, `PUT ${path}: ${res.status}`)
}

/** The edge's dead-lettered messages (taken off bridge-dead/<bridge>) through its management API. */
async function deadLettered(edge: TestBroker, bridge: string): Promise<Array<{ routing_key: string; properties: { headers: Record<string, unknown> } }>> {
  const res = await adminFetch(`${edge.adminUrl}/api/queues/%2F/${encodeURIComponent(`bridge-dead/${bridge}`)}/get`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ count: 100, ackmode: 'ack_requeue_false', encoding: 'auto' })
  })
  assert.equal(res.status, 200)
  return (await res.json()) as Array<{ routing_key: string; properties: { headers: Record<string, unknown> } }>
}

describe('bridges to RabbitMQ as a user with narrow permissions', { skip: rabbitmqUnavailable(), timeout: 240_000 }, () => {
  let rabbit: RabbitmqNode
  let edgeUrl: string

  before(async () => {
    rabbit = await startRabbitmq({ management: true, mqtt: true })
    await rabbitApi(rabbit, '/api/users/edge', { password: 'edge', tags: '' })
    // Its MQTT plugin declares a queue per subscribing client: mqtt-subscription-<client id>qos<n>.
    await rabbitApi(rabbit, '/api/permissions/%2F/edge', { configure: '^(wharf-bridge\\.|mqtt-subscription-)', write: '.*', read: '.*' })
    await rabbitApi(rabbit, '/api/topic-permissions/%2F/edge', { exchange: 'amq.topic', write: '^up\\.(seq|ok\\..*)$', read: '^cmd\\.ok\\..*' })
    edgeUrl = rabbit.amqpUrl.replace('guest:guest', 'edge:edge')
  })
  after(async () => {
    await rabbit?.stop()
  })

  test('a publish refused by topic permission: those messages dead-lettered, the topic listed, the rest in order', async () => {
    const inbox: RemoteInbox = await amqpInbox(rabbit.amqpUrl, 'perm-inbox', ['up.#'])
    const edge = await startEdge([bridgeTo(edgeUrl, { in: { topics: [], localPrefix: '', remotePrefix: '' } })])
    let pub: MqttClient | undefined
    try {
      await waitForBridge(edge, 'connected', s => s.state === 'connected')
      pub = await connect(edge.mqttUrl, { clientId: 'perm-publisher', protocolVersion: 5 })
      await publishNumbered(pub, 5)
      await pub.publishAsync('up/no/b', 'refused 1', { qos: 1 })
      await pub.publishAsync('up/no/b', 'refused 2', { qos: 1 })
      await publishNumbered(pub, 5, 'up/seq', 5)
      const s = await waitForBridge(edge, 'the two refused dead-lettered, the rest confirmed', s => s.deadLettered === 2 && s.backlog.messages === 0, 20_000)
      assert.deepEqual(s.refusedTopics, ['up/no/b'])
      await eventually(`10 messages at RabbitMQ (${inbox.messages.length})`, () => inbox.messages.length >= 10)
      const report = checkArrivals(
        inbox.messages,
        Array.from({ length: 10 }, (_, i) => i),
        'around the refused topic'
      )
      assert.ok(report.duplicates <= s.redelivered, `${report.duplicates} repeats, ${s.redelivered} counted as redelivered`)
      await waitForBridge(edge, 'connected again', s => s.state === 'connected')
      const dead = await deadLettered(edge, 'cloud')
      assert.deepEqual(
        dead.map(m => m.routing_key),
        ['up.no.b', 'up.no.b']
      )
      assert.match(String(dead[0]?.properties.headers['x-wharf-refusal']), /access to topic 'up\.no\.b' in exchange 'amq\.topic'/)
      // Later messages to it are dead-lettered unsent: no further link lost.
      const { reconnects } = s
      await pub.publishAsync('up/no/b', 'refused 3', { qos: 1 })
      await publishNumbered(pub, 1, 'up/seq', 10)
      const after = await waitForBridge(edge, 'the third dead-lettered unsent', s => s.deadLettered === 3 && s.backlog.messages === 0)
      assert.equal(after.reconnects, reconnects)
      assert.equal(edge.logs.filter(l => String(l.msg).startsWith('bridge: the remote refuses a topic')).length, 1, 'logged once')
    } finally {
      await end(pub)
      await inbox.close()
      await edge.close()
    }
  })

  const inTopics = { topics: ['cmd/ok/#', 'cmd/no/#'], localPrefix: '', remotePrefix: '' }
  const publishAtRabbit = async (topic: string, body: string): Promise<void> => {
    const conn = await amqpConnect(rabbit.amqpUrl)
    try {
      const ch = await conn.createConfirmChannel()
      ch.publish('amq.topic', topic.replaceAll('/', '.'), Buffer.from(body), { persistent: true })
      await ch.waitForConfirms()
    } finally {
      await closeQuietly(conn)
    }
  }

  test('over AMQP, an in topic it may not read (queue.bind 403) is reported; the rest of the bridge works', async () => {
    const edge = await startEdge([bridgeTo(edgeUrl, { in: inTopics })])
    try {
      await inTopicRefused(edge, /^'cmd\/no\/#': the remote refused queue\.bind .* with 'cmd\.no\.#': .*403 \(ACCESS-REFUSED\)/, publishAtRabbit)
    } finally {
      await edge.close()
    }
  })

  test('over its MQTT plugin (3.1.1), an in topic whose SUBSCRIBE closes the connection is skipped and reported; the rest of the bridge works', async () => {
    const url = rabbit.mqttUrl.replace('mqtt://', 'mqtt://edge:edge@')
    const mqtt = { qos: 1, clientId: null, cleanSession: false, sessionExpirySeconds: 3600, protocolVersion: 4 } as const
    const edge = await startEdge([bridgeTo(url, { in: inTopics, mqtt })])
    try {
      await inTopicRefused(edge, /^'cmd\/no\/#': the remote closed the connection at its SUBSCRIBE/, publishAtRabbit)
    } finally {
      await edge.close()
    }
  })
})
