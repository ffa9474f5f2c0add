// AMQP 0-9-1 under the permission model, through amqplib and amqp-tools: each method that touches a
// resource allowed and refused (403 ACCESS_REFUSED with RabbitMQ's text), connection.open without
// access (530), topic permissions on binding keys and routing keys, and the bypass: a user
// whose MQTT ACL is alice/# binding a queue to amq.topic with '#' is refused.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import type { ChannelModel } from 'amqplib'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { channel, closeQuietly, connect, expectChannelClosed, consume } from './support/amqp-helpers.ts'
import { RawAmqp } from './support/raw-amqp.ts'
import { connect as mqttConnect, end } from './support/mqtt-helpers.ts'
import { hashPassword } from '../core/auth/password-hash.ts'

const password = 'pw'
const hash = hashPassword(password)

describe('AMQP permissions', { timeout: 60_000 }, () => {
  let broker: TestBroker
  let carol: ChannelModel
  let alice: ChannelModel
  let guest: ChannelModel
  const url = (user: string, vhost = '/'): string => `amqp://${user}:${password}@127.0.0.1:${broker.node.ports.amqp}/${encodeURIComponent(vhost)}`

  before(async () => {
    broker = await startTestBroker(c => {
      c.amqp.vhosts = ['/', 'tenant']
      c.auth.users = [
        // alice: the user, whose MQTT ACL is alice/# (and full permissions on '/', the legacy default).
        { username: 'alice', passwordHash: hash, publish: ['alice/#'], subscribe: ['alice/#'] },
        { username: 'carol', passwordHash: hash }
      ]
      c.auth.permissions = [{ user: 'carol', vhost: '/', configure: '^carol-', write: '^carol-', read: '^carol-' }]
    })
    guest = await connect(broker.amqpUrl)
    const g = await channel(guest)
    await g.assertQueue('other-q')
    await g.assertExchange('other-x', 'fanout')
    carol = await connect(url('carol'))
    alice = await connect(url('alice'))
  })
  after(async () => {
    await closeQuietly(carol, alice, guest)
    await broker.close()
  })

  const refused = (access: string, kind: string, name: string, user = 'carol'): RegExp =>
    new RegExp(`ACCESS_REFUSED - ${access} access to ${kind} '${name.replace(/\./g, '\\.')}' in vhost '/' refused for user '${user}'`)

  test('queue.declare and exchange.declare need configure on the name (a server-named queue too)', async () => {
    const ch = await channel(carol)
    await ch.assertQueue('carol-q')
    await ch.assertExchange('carol-x', 'topic')
    await ch.checkQueue('other-q') // passive: no permission needed
    await expectChannelClosed(ch, () => ch.assertQueue('dave-q'), 403, refused('configure', 'queue', 'dave-q'))
    const ch2 = await channel(carol)
    await expectChannelClosed(ch2, () => ch2.assertExchange('dave-x', 'direct'), 403, refused('configure', 'exchange', 'dave-x'))
    const ch3 = await channel(carol)
    await expectChannelClosed(ch3, () => ch3.assertQueue('', { exclusive: true }), 403, /configure access to queue 'amq\.gen-[\w-]{22}' in vhost '\/' refused/)
  })

  test('a dead-letter exchange needs write on it; an alternate exchange needs write on it', async () => {
    const ch = await channel(carol)
    await expectChannelClosed(ch, () => ch.assertQueue('carol-dl', { deadLetterExchange: 'amq.direct' }), 403, refused('write', 'exchange', 'amq.direct'))
    const ch2 = await channel(carol)
    await expectChannelClosed(
      ch2,
      () => ch2.assertExchange('carol-ae', 'direct', { alternateExchange: 'other-x' }),
      403,
      refused('write', 'exchange', 'other-x')
    )
    const ch3 = await channel(carol)
    await ch3.assertQueue('carol-dl', { deadLetterExchange: 'carol-x' })
    await ch3.close()
  })

  test('queue.bind needs write on the queue and read on the exchange; queue.unbind too', async () => {
    const ch = await channel(carol)
    await ch.bindQueue('carol-q', 'carol-x', 'k')
    await ch.unbindQueue('carol-q', 'carol-x', 'k')
    await expectChannelClosed(ch, () => ch.bindQueue('carol-q', 'amq.topic', 'k'), 403, refused('read', 'exchange', 'amq.topic'))
    const ch2 = await channel(carol)
    await expectChannelClosed(ch2, () => ch2.bindQueue('other-q', 'carol-x', 'k'), 403, refused('write', 'queue', 'other-q'))
  })

  test('basic.publish needs write on the exchange (the default one is amq.default)', async () => {
    const ch = await channel(carol)
    await ch.assertExchange('carol-fan', 'fanout')
    await ch.bindQueue('carol-q', 'carol-fan', '')
    ch.publish('carol-fan', '', Buffer.from('allowed'))
    const ch2 = await channel(carol)
    await expectChannelClosed(
      ch2,
      () => {
        ch2.publish('amq.direct', 'k', Buffer.from('x'))
      },
      403,
      refused('write', 'exchange', 'amq.direct')
    )
    const ch3 = await channel(carol)
    await expectChannelClosed(
      ch3,
      () => {
        ch3.sendToQueue('carol-q', Buffer.from('x'))
      },
      403,
      refused('write', 'exchange', 'amq.default')
    )
  })

  test('basic.consume, basic.get and queue.purge need read on the queue', async () => {
    const ch = await channel(carol)
    const got = await ch.get('carol-q', { noAck: true })
    assert.ok(got !== false && got.content.toString() === 'allowed')
    await ch.purgeQueue('carol-q')
    const inbox = await consume(ch, 'carol-q')
    await ch.cancel(inbox.consumerTag)
    await expectChannelClosed(ch, () => ch.consume('other-q', () => {}), 403, refused('read', 'queue', 'other-q'))
    const ch2 = await channel(carol)
    await expectChannelClosed(ch2, () => ch2.get('other-q'), 403, refused('read', 'queue', 'other-q'))
    const ch3 = await channel(carol)
    await expectChannelClosed(ch3, () => ch3.purgeQueue('other-q'), 403, refused('read', 'queue', 'other-q'))
  })

  test('queue.delete and exchange.delete need configure', async () => {
    const ch = await channel(carol)
    await expectChannelClosed(ch, () => ch.deleteQueue('other-q'), 403, refused('configure', 'queue', 'other-q'))
    const ch2 = await channel(carol)
    await expectChannelClosed(ch2, () => ch2.deleteExchange('other-x'), 403, refused('configure', 'exchange', 'other-x'))
    const ch3 = await channel(carol)
    await ch3.deleteExchange('carol-fan')
    await ch3.close()
  })

  test('connection.open to a vhost the user has no permissions in is 530 NOT_ALLOWED', async () => {
    const open = await RawAmqp.tryOpen(broker.node.ports.amqp, {}, { user: 'carol', password, vhost: 'tenant' })
    assert.ok('close' in open)
    assert.deepEqual([open.close.replyCode, open.close.replyText], [530, "NOT_ALLOWED - access to vhost 'tenant' refused for user 'carol'"])
    open.client.destroy()
  })

  test("the bypass is refused: alice (MQTT ACL alice/#) binding a queue to amq.topic with '#' is 403", async () => {
    const ch = await channel(alice)
    const { queue } = await ch.assertQueue('', { exclusive: true })
    await expectChannelClosed(
      ch,
      () => ch.bindQueue(queue, 'amq.topic', '#'),
      403,
      /ACCESS_REFUSED - read access to topic '#' in exchange 'amq\.topic' in vhost '\/' refused for user 'alice'/
    )
    const ch2 = await channel(alice)
    await expectChannelClosed(ch2, () => ch2.bindQueue(queue, 'amq.topic', 'bob.#'), 403, /read access to topic 'bob\.#'/)
    // Her own subtree binds, and she receives what is published there, not bob's topics.
    const ch3 = await channel(alice)
    await ch3.bindQueue(queue, 'amq.topic', 'alice.#')
    const inbox = await consume(ch3, queue, { noAck: true })
    const bob = await mqttConnect(broker.mqttUrl, { clientId: 'bob-device' })
    try {
      await bob.publishAsync('bob/secret', 'not for alice', { qos: 1 })
      await bob.publishAsync('alice/inbox', 'for alice', { qos: 1 })
      const [m] = await inbox.waitFor(1)
      assert.equal(m?.content.toString(), 'for alice')
      assert.equal(inbox.messages.length, 1)
    } finally {
      await end(bob)
    }
  })

  test('basic.publish to a topic exchange needs topic write on the routing key', async () => {
    const ch = await channel(alice)
    ch.publish('amq.topic', 'alice.status', Buffer.from('mine'))
    await expectChannelClosed(
      ch,
      () => {
        ch.publish('amq.topic', 'bob.status', Buffer.from('forged'))
      },
      403,
      /ACCESS_REFUSED - write access to topic 'bob\.status' in exchange 'amq\.topic' in vhost '\/' refused for user 'alice'/
    )
  })

  test('amqp-tools: amqp-declare-queue and amqp-publish are refused where the permissions say so', async () => {
    const tool = (name: string, args: string[]): Promise<{ code: number; output: string }> =>
      new Promise(resolve => {
        execFile(name, args, { timeout: 10_000 }, (err, stdout, stderr) =>
          resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? 1), output: stdout + stderr })
        )
      })
    const ok = await tool('amqp-declare-queue', ['--url', url('carol'), '-q', 'carol-tools'])
    assert.equal(ok.code, 0, ok.output)
    const no = await tool('amqp-declare-queue', ['--url', url('carol'), '-q', 'tools-q'])
    assert.notEqual(no.code, 0)
    assert.match(no.output, /ACCESS_REFUSED - configure access to queue 'tools-q' in vhost '\/' refused for user 'carol'/)
    const pub = await tool('amqp-publish', ['--url', url('carol'), '-e', 'amq.direct', '-r', 'k', '-b', 'x'])
    assert.notEqual(pub.code, 0)
  })
})
