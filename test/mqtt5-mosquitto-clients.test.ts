// Debian's mosquitto_sub and mosquitto_pub (mosquitto-clients) against Wharf at MQTT 5 and 3.1.1:
// what another implementation's clients send and expect, checked by what mosquitto_sub prints.
// Every child process is bounded in time (-W / -C and a SIGKILL guard) and killed at the end.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { connect, collector, end } from './support/mqtt-helpers.ts'
import { eventually } from './support/wait.ts'
import { sessionQueueName } from '../adapters/mqtt/topic-grammar.ts'

interface Run {
  child: ChildProcess
  stdout: () => string
  done: Promise<{ code: number | null; stdout: string; stderr: string }>
}

const children = new Set<ChildProcess>()

/** Starts a mosquitto client; it is SIGKILLed after timeoutMs if it has not exited by then. */
function run(bin: 'mosquitto_sub' | 'mosquitto_pub', args: string[], timeoutMs = 10_000, input?: string): Run {
  const child = spawn(bin, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] })
  children.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', d => {
    stdout += String(d)
  })
  child.stderr?.on('data', d => {
    stderr += String(d)
  })
  if (input !== undefined) child.stdin?.end(input)
  const guard = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>(resolve => {
    child.once('close', code => {
      clearTimeout(guard)
      children.delete(child)
      resolve({ code, stdout, stderr })
    })
  })
  return { child, stdout: () => stdout, done }
}

async function ok(r: Run, what: string): Promise<string> {
  const { code, stdout, stderr } = await r.done
  assert.equal(code, 0, `${what} exited with ${code}: ${stderr}${stdout}`)
  return stdout
}

describe('mosquitto clients (-V 5 and -V 311)', { timeout: 90_000 }, () => {
  let broker: TestBroker
  let p: string[]
  before(async () => {
    broker = await startTestBroker()
    p = ['-h', '127.0.0.1', '-p', String(broker.node.ports.mqtt)]
  })
  after(async () => {
    for (const c of children) c.kill('SIGKILL')
    await broker.close()
  })

  /** Resolves once the session of clientId has `bindings` subscriptions bound in the broker. */
  async function subscribed(clientId: string, bindings = 1): Promise<void> {
    await eventually(`${clientId} subscribed`, () => (broker.node.broker.vhost('/')?.queueNamed(sessionQueueName(clientId))?.inbound.size ?? 0) >= bindings)
  }

  for (const [subV, pubV] of [
    ['5', '5'],
    ['311', '311'],
    ['5', '311'],
    ['311', '5']
  ] as const) {
    test(`mosquitto_sub -V ${subV} gets what mosquitto_pub -V ${pubV} publishes, QoS 0/1/2 in order [MQTT-4.6.0-6]`, async () => {
      const id = `moss-sub-${subV}-${pubV}`
      const sub = run('mosquitto_sub', [...p, '-V', subV, '-i', id, '-t', `moss/${id}/#`, '-q', '2', '-v', '-C', '3', '-W', '8'])
      await subscribed(id)
      for (const q of ['0', '1', '2']) await ok(run('mosquitto_pub', [...p, '-V', pubV, '-t', `moss/${id}/q${q}`, '-m', `m${q}`, '-q', q]), 'mosquitto_pub')
      assert.equal(await ok(sub, 'mosquitto_sub'), `moss/${id}/q0 m0\nmoss/${id}/q1 m1\nmoss/${id}/q2 m2\n`)
    })
  }

  test('MQTT 5 publish properties set with -D reach mosquitto_sub unaltered (%C %R %D %F %E %P) [MQTT-3.3.2-4] [MQTT-3.3.2-15] [MQTT-3.3.2-16] [MQTT-3.3.2-17] [MQTT-3.3.2-18] [MQTT-3.3.2-20]', async () => {
    const sub = run('mosquitto_sub', [...p, '-V', '5', '-i', 'moss-props', '-t', 'props/#', '-q', '1', '-C', '1', '-W', '8', '-F', '%t|%C|%R|%D|%F|%P|%p'])
    await subscribed('moss-props')
    await ok(
      run('mosquitto_pub', [
        ...p,
        '-V',
        '5',
        '-t',
        'props/x',
        '-m',
        'hello',
        '-q',
        '1',
        '-D',
        'publish',
        'content-type',
        'text/plain',
        '-D',
        'publish',
        'response-topic',
        'props/reply',
        '-D',
        'publish',
        'correlation-data',
        'corr-1',
        '-D',
        'publish',
        'payload-format-indicator',
        '1',
        '-D',
        'publish',
        'user-property',
        'b',
        '2',
        '-D',
        'publish',
        'user-property',
        'a',
        '1',
        '-D',
        'publish',
        'user-property',
        'b',
        '3'
      ]),
      'mosquitto_pub'
    )
    assert.equal(await ok(sub, 'mosquitto_sub'), 'props/x|text/plain|props/reply|corr-1|1|b:2 a:1 b:3|hello\n')
  })

  test('Message Expiry Interval set with -D arrives counted down, never above what was sent [MQTT-3.3.2-6]', async () => {
    const sub = run('mosquitto_sub', [...p, '-V', '5', '-i', 'moss-expiry', '-t', 'expiry/#', '-q', '1', '-C', '1', '-W', '8', '-F', '%E %p'])
    await subscribed('moss-expiry')
    await ok(
      run('mosquitto_pub', [...p, '-V', '5', '-t', 'expiry/x', '-m', 'soon', '-q', '1', '-D', 'publish', 'message-expiry-interval', '60']),
      'mosquitto_pub'
    )
    const line = (await ok(sub, 'mosquitto_sub')).trim()
    assert.match(line, /^(59|60) soon$/)
  })

  test('a Subscription Identifier set with -D subscribe comes back with the message (%S) [MQTT-3.3.4-3]', async () => {
    const sub = run('mosquitto_sub', [
      ...p,
      '-V',
      '5',
      '-i',
      'moss-subid',
      '-t',
      'subid/#',
      '-q',
      '1',
      '-C',
      '1',
      '-W',
      '8',
      '-D',
      'subscribe',
      'subscription-identifier',
      '42',
      '-F',
      '%S %t %p'
    ])
    await subscribed('moss-subid')
    await ok(run('mosquitto_pub', [...p, '-V', '5', '-t', 'subid/x', '-m', 'tagged', '-q', '1']), 'mosquitto_pub')
    assert.equal(await ok(sub, 'mosquitto_sub'), '42 subid/x tagged\n')
  })

  test('mosquitto_pub -l with a Topic Alias: later lines go with the alias only, all delivered on the topic [MQTT-3.3.2-12]', async () => {
    const sub = run('mosquitto_sub', [...p, '-V', '5', '-i', 'moss-alias', '-t', 'alias/#', '-q', '1', '-C', '3', '-W', '8', '-v'])
    await subscribed('moss-alias')
    await ok(
      run('mosquitto_pub', [...p, '-V', '5', '-t', 'alias/x', '-q', '1', '-l', '-D', 'publish', 'topic-alias', '1'], 10_000, 'one\ntwo\nthree\n'),
      'mosquitto_pub -l'
    )
    assert.equal(await ok(sub, 'mosquitto_sub'), 'alias/x one\nalias/x two\nalias/x three\n')
  })

  test('a retained message from mosquitto_pub -r reaches a later mosquitto_sub with the retain flag (%r) [MQTT-3.3.1-5] [MQTT-3.3.1-9]', async () => {
    await ok(run('mosquitto_pub', [...p, '-V', '5', '-t', 'moss-retained/state', '-m', 'on', '-q', '1', '-r']), 'mosquitto_pub -r')
    const sub = run('mosquitto_sub', [...p, '-V', '5', '-i', 'moss-retained', '-t', 'moss-retained/#', '-q', '1', '-C', '1', '-W', '8', '-F', '%t %p %r'])
    assert.equal(await ok(sub, 'mosquitto_sub'), 'moss-retained/state on 1\n')
    await ok(run('mosquitto_pub', [...p, '-V', '5', '-t', 'moss-retained/state', '-n', '-r']), 'clearing the retained message')
  })

  for (const v of ['5', '311'] as const) {
    test(`a persistent mosquitto_sub -V ${v} session (-c${v === '5' ? ' -x 60' : ''}) gets what was published while it was away, in order [MQTT-3.1.2-5] [MQTT-3.1.2-23]`, async () => {
      const id = `moss-persist-${v}`
      const expiry = v === '5' ? ['-x', '60'] : []
      // -E: exit (with DISCONNECT) once the SUBACK came.
      await ok(run('mosquitto_sub', [...p, '-V', v, '-i', id, '-c', ...expiry, '-q', '1', '-t', `persist${v}/#`, '-E']), 'mosquitto_sub -E')
      await eventually(`${id} offline`, () => !broker.node.broker.vhost('/')?.queueNamed(sessionQueueName(id))?.consumerCount)
      await ok(run('mosquitto_pub', [...p, '-V', v, '-t', `persist${v}/x`, '-q', '1', '-l'], 10_000, 'a\nb\nc\n'), 'mosquitto_pub -l')
      const back = run('mosquitto_sub', [...p, '-V', v, '-i', id, '-c', ...expiry, '-q', '1', '-t', `persist${v}/#`, '-C', '3', '-W', '8', '-v'])
      assert.equal(await ok(back, 'mosquitto_sub (back)'), `persist${v}/x a\npersist${v}/x b\npersist${v}/x c\n`)
      // Ended with -x 0 / a clean session, so the test leaves no session behind.
      await ok(run('mosquitto_sub', [...p, '-V', v, '-i', id, '-q', '1', '-t', `persist${v}/#`, '-E']), 'mosquitto_sub (clean)')
    })
  }

  test('-D connect session-expiry-interval: a session that outlives the connection, and ends after it [MQTT-3.1.2-23] [MQTT-4.1.0-2]', async () => {
    await ok(
      run('mosquitto_sub', [...p, '-V', '5', '-i', 'moss-sei', '-D', 'connect', 'session-expiry-interval', '1', '-q', '1', '-t', 'sei/#', '-E']),
      'mosquitto_sub -E'
    )
    assert.ok(broker.node.broker.vhost('/')?.queueNamed(sessionQueueName('moss-sei')) !== undefined, 'kept after the disconnect')
    await eventually('the 1 s session to expire', () => broker.node.broker.vhost('/')?.queueNamed(sessionQueueName('moss-sei')) === undefined, 5000)
  })

  test('the will of a mosquitto_sub that dies is published, with its -D will properties; not after a normal exit [MQTT-3.1.2-8] [MQTT-3.14.4-3]', async () => {
    const watcher = await connect(broker.mqttUrl, { protocolVersion: 5, clientId: 'moss-will-watch' })
    const got = collector(watcher)
    await watcher.subscribeAsync('moss-will/#', { qos: 1 })
    // A normal exit (DISCONNECT 0x00) first: no will.
    await ok(
      run('mosquitto_sub', [
        ...p,
        '-V',
        '5',
        '-i',
        'moss-will-ok',
        '-t',
        'x/#',
        '-E',
        '--will-topic',
        'moss-will/ok',
        '--will-payload',
        'must not appear',
        '--will-qos',
        '1'
      ]),
      'mosquitto_sub -E'
    )
    const dying = run('mosquitto_sub', [
      ...p,
      '-V',
      '5',
      '-i',
      'moss-will',
      '-t',
      'x/#',
      '-W',
      '20',
      '--will-topic',
      'moss-will/dead',
      '--will-payload',
      'gone',
      '--will-qos',
      '1',
      '-D',
      'will',
      'content-type',
      'text/plain',
      '-D',
      'will',
      'user-property',
      'why',
      'killed'
    ])
    await subscribed('moss-will')
    dying.child.kill('SIGKILL')
    await dying.done
    const [m] = await got.waitFor(1)
    assert.equal(m?.topic, 'moss-will/dead')
    assert.equal(m?.payload, 'gone')
    assert.equal(m?.properties?.contentType, 'text/plain')
    assert.deepEqual({ ...(m?.properties?.userProperties as object) }, { why: 'killed' })
    assert.equal(got.messages.length, 1, 'no will from the client that exited normally')
    await end(watcher)
  })

  test('mosquitto_pub -V 5 to a topic nobody subscribed to succeeds (PUBACK 0x10 is a success) [§3.4.2.1]', async () => {
    await ok(run('mosquitto_pub', [...p, '-V', '5', '-t', 'nobody/listens', '-m', 'x', '-q', '1']), 'mosquitto_pub')
    await ok(run('mosquitto_pub', [...p, '-V', '5', '-t', 'nobody/listens', '-m', 'x', '-q', '2']), 'mosquitto_pub QoS 2')
  })
})
