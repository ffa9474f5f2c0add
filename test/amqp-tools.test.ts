// A second, independent AMQP client: Debian's amqp-tools (rabbitmq-c) against the listening
// broker, interoperating with amqplib on the same queues. Skipped when the tools are not installed
// (.ci/run installs the amqp-tools package).
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { promisify } from 'node:util'
import type { Channel, ChannelModel } from 'amqplib'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { channel, closeQuietly, connect, consume, eventually } from './support/amqp-helpers.ts'

const run = promisify(execFile)
const installed = ['amqp-declare-queue', 'amqp-publish', 'amqp-consume', 'amqp-get'].every(t => existsSync(`/usr/bin/${t}`))

async function tool(name: string, args: string[], input?: string): Promise<{ stdout: string; code: number }> {
  try {
    const child = run(`/usr/bin/${name}`, args, { timeout: 10_000 })
    if (input !== undefined) {
      child.child.stdin?.end(input)
    } else {
      child.child.stdin?.end()
    }
    const { stdout } = await child
    return { stdout, code: 0 }
  } catch (err) {
    const e = err as { code?: number; stdout?: string }
    return { stdout: e.stdout ?? '', code: typeof e.code === 'number' ? e.code : -1 }
  }
}

describe('amqp-tools (rabbitmq-c) against Wharf', { timeout: 60_000, skip: installed ? false : 'amqp-tools not installed' }, () => {
  let broker: TestBroker
  let conn: ChannelModel
  let ch: Channel
  let url: string

  before(async () => {
    broker = await startTestBroker()
    url = broker.amqpUrl
    conn = await connect(url)
    ch = await channel(conn)
  })
  after(async () => {
    await closeQuietly(conn)
    await broker.close()
  })

  test('amqp-declare-queue declares (durable, server-named); amqplib sees the queue', async () => {
    const named = await tool('amqp-declare-queue', ['--url', url, '-q', 'tools-q', '-d'])
    assert.equal(named.code, 0)
    assert.equal(named.stdout.trim(), 'tools-q')
    assert.equal(broker.node.broker.vhost('/')?.queues.get('tools-q')?.durable, true)
    const generated = await tool('amqp-declare-queue', ['--url', url, '-q', ''])
    assert.match(generated.stdout.trim(), /^amq\.gen-/)
  })

  test('amqp-publish → amqplib consumer, with persistent mode, content type and headers', async () => {
    await ch.assertQueue('tools-in', { durable: true })
    const inbox = await consume(ch, 'tools-in', { noAck: true })
    const published = await tool('amqp-publish', [
      '--url',
      url,
      '-r',
      'tools-in',
      '-p',
      '-C',
      'text/plain',
      '-H',
      'origin: rabbitmq-c',
      '-b',
      'from amqp-publish'
    ])
    assert.equal(published.code, 0)
    const [m] = await inbox.waitFor(1)
    assert.equal(m?.content.toString(), 'from amqp-publish')
    assert.equal(m?.properties.contentType, 'text/plain')
    assert.equal(m?.properties.deliveryMode, 2)
    assert.equal(m?.properties.headers?.origin, 'rabbitmq-c')
    await ch.cancel(inbox.consumerTag)
  })

  test('amqplib publish → amqp-get and amqp-consume', async () => {
    await ch.assertQueue('tools-out')
    ch.sendToQueue('tools-out', Buffer.from('for amqp-get'))
    ch.sendToQueue('tools-out', Buffer.from('one'))
    ch.sendToQueue('tools-out', Buffer.from('two'))
    await eventually('3 messages', async () => (await ch.checkQueue('tools-out')).messageCount === 3)
    const got = await tool('amqp-get', ['--url', url, '-q', 'tools-out'])
    assert.equal(got.code, 0)
    assert.equal(got.stdout, 'for amqp-get')
    const consumed = await tool('amqp-consume', ['--url', url, '-q', 'tools-out', '-c', '2', 'cat'])
    assert.equal(consumed.code, 0)
    assert.equal(consumed.stdout, 'onetwo')
    assert.equal((await ch.checkQueue('tools-out')).messageCount, 0)
    const empty = await tool('amqp-get', ['--url', url, '-q', 'tools-out'])
    assert.notEqual(empty.code, 0, 'amqp-get reports an empty queue')
  })

  test('amqp-consume binds its exclusive queue to an exchange and receives what amqp-publish sends there', async () => {
    const consumer = tool('amqp-consume', ['--url', url, '-e', 'amq.topic', '-r', 'tools.#', '-x', '-c', '1', 'cat'])
    await eventually(
      "the tool's queue bound",
      () => [...(broker.node.broker.vhost('/')?.exchange('amq.topic').bindings.values() ?? [])].some(b => b.routingKey === 'tools.#'),
      5000
    )
    const published = await tool('amqp-publish', ['--url', url, '-e', 'amq.topic', '-r', 'tools.x', '-b', 'via topic'])
    assert.equal(published.code, 0)
    const { stdout, code } = await consumer
    assert.equal(code, 0)
    assert.equal(stdout, 'via topic')
  })

  test('a wrong password makes the tools fail, not the broker', async () => {
    const refused = await tool('amqp-get', ['--url', url.replace('guest:guest', 'guest:wrong'), '-q', 'tools-out'])
    assert.notEqual(refused.code, 0)
    assert.equal((await ch.checkQueue('tools-out')).messageCount, 0)
  })
})
