// TLS on every listener, through real clients (mqtt.js, mosquitto_pub/sub, amqplib, Node's tls):
// client certificates required and verified when a CA is given, the username taken from the
// certificate (MQTT as Mosquitto's use_identity_as_username, AMQP through SASL EXTERNAL), AMQPS,
// admin HTTPS, minVersion, and each listener on its own bind address.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { connect as tlsConnect, createServer as createTlsServer, type ConnectionOptions, type TLSSocket } from 'node:tls'
import { connect as netConnect } from 'node:net'
import { request as httpsRequest } from 'node:https'
import amqplib from 'amqplib'
import { adminFetch } from './support/admin-http.ts'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { connect, collector, end, settled } from './support/mqtt-helpers.ts'
import { connect as amqpConnect, channel, consume, closeQuietly } from './support/amqp-helpers.ts'
import { makeTestPki, type CertFiles, type TestPki } from './support/test-pki.ts'
import { hashPassword } from '../core/auth/password-hash.ts'
import { defaultConfig } from '../edge-config/defaults.ts'
import { restartablePorts } from '../bench/brokers/free-port.ts'

interface ConnectionRow {
  client_id?: string
  user: string | null
  vhost: string
  protocol: string
}

async function connectionsOf(broker: TestBroker): Promise<ConnectionRow[]> {
  return (await (await adminFetch(`${broker.adminUrl}/api/connections`)).json()) as ConnectionRow[]
}

/** A TLS handshake (and a first read, where TLS 1.3 reports a refused client certificate): resolves with the socket or rejects. */
async function handshake(port: number, opts: ConnectionOptions): Promise<TLSSocket> {
  return await new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ...opts })
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error('no TLS outcome within 5 s'))
    }, 5000)
    socket.once('error', err => {
      clearTimeout(timer)
      reject(err)
    })
    // The server refuses a client certificate after the client's Finished in TLS 1.3: wait a moment for its alert.
    socket.once('secureConnect', () =>
      setTimeout(() => {
        clearTimeout(timer)
        if (socket.destroyed) reject(new Error('closed by the server after the handshake'))
        else resolve(socket)
      }, 200)
    )
  })
}

function run(cmd: string, args: string[], timeoutMs = 15_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise(resolve => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr })
    })
  })
}

describe('mutual TLS and identity as username', { timeout: 120_000 }, () => {
  let pki: TestPki
  let broker: TestBroker
  let device: CertFiles
  let stranger: CertFiles
  let foreign: CertFiles
  const tlsFiles = (): { certFile: string; keyFile: string; caFile: string } => ({ certFile: pki.server.cert, keyFile: pki.server.key, caFile: pki.caFile })
  const mqttTls = (files: CertFiles | null): Record<string, unknown> => ({
    ca: pki.read(pki.caFile),
    rejectUnauthorized: true,
    ...(files === null ? {} : { cert: pki.read(files.cert), key: pki.read(files.key) })
  })

  before(async () => {
    pki = makeTestPki()
    device = pki.client('device-1')
    stranger = pki.client('nobody-we-know')
    foreign = pki.client('device-1', { otherCa: true })
    const passwordHash = hashPassword('app-secret')
    broker = await startTestBroker(c => {
      c.mqtt.tls = { ...c.mqtt.tls, port: 0, ...tlsFiles(), identityAsUsername: 'commonName' }
      c.mqtt.ws.tls = { ...c.mqtt.ws.tls, port: 0, ...tlsFiles(), identityAsUsername: 'subjectAltName' }
      c.amqp.tls = { ...c.amqp.tls, port: 0, ...tlsFiles(), identityAsUsername: 'commonName' }
      c.admin.tls = { ...c.admin.tls, port: 0, certFile: pki.server.cert, keyFile: pki.server.key, minVersion: 'TLSv1.3' }
      c.amqp.vhosts = ['/', 'b', 'c']
      c.auth.users = [
        { username: 'device-1', passwordHash, vhosts: ['/', 'b'] }, // none in 'c'
        { username: 'sensor-7.example', passwordHash },
        { username: 'app', passwordHash }
      ]
    })
  })
  after(async () => {
    await broker?.close()
    pki?.remove()
  })

  test('MQTT over TLS with caFile: no client certificate is refused in the handshake', async () => {
    await assert.rejects(handshake(broker.node.ports.mqttTls as number, { ca: pki.read(pki.caFile) }))
    await assert.rejects(connect(`mqtts://localhost:${broker.node.ports.mqttTls}`, { clientId: 'no-cert', ...mqttTls(null) }, 3000))
  })

  test('a certificate from another CA is refused in the handshake', async () => {
    await assert.rejects(handshake(broker.node.ports.mqttTls as number, { ca: pki.read(pki.caFile), cert: pki.read(foreign.cert), key: pki.read(foreign.key) }))
    await assert.rejects(connect(`mqtts://localhost:${broker.node.ports.mqttTls}`, { clientId: 'foreign', ...mqttTls(foreign) }, 3000))
    const metrics = await (await adminFetch(`${broker.adminUrl}/metrics`)).text()
    const line = metrics
      .split('\n')
      .find(l => l.startsWith('wharf_tls_handshake_failures_total{') && l.includes('listener="mqtt tls"') && l.includes('reason="refused"'))
    const refused = Number(line?.split(' ').at(-1))
    assert.ok(refused >= 4, `refused handshakes counted: ${refused}`)
  })

  test('a good certificate is accepted and its CN is the username (the CONNECT credentials are not used)', async () => {
    const c = await connect(`mqtts://localhost:${broker.node.ports.mqttTls}`, { clientId: 'cn-client', username: 'app', password: 'wrong', ...mqttTls(device) })
    try {
      const got = collector(c)
      await c.subscribeAsync('tls/cn', { qos: 1 })
      await c.publishAsync('tls/cn', 'hello', { qos: 1 })
      assert.equal((await got.waitFor(1))[0]?.payload, 'hello')
      const row = (await connectionsOf(broker)).find(r => r.client_id === 'cn-client')
      assert.equal(row?.user, 'device-1')
    } finally {
      await end(c)
    }
  })

  test("the CONNECT username 'vhost:<certificate user>' or 'vhost:' picks the vhost; another user's name is ignored", async () => {
    const tlsUrl = `mqtts://localhost:${broker.node.ports.mqttTls}`
    // Password clients of device-1 on the plain listener watch 'b' and '/' (the TLS listener's vhost).
    const inB = await connect(broker.mqttUrl, { clientId: 'cert-watch-b', username: 'b:device-1', password: 'app-secret' })
    const inRoot = await connect(broker.mqttUrl, { clientId: 'cert-watch-root', username: 'device-1', password: 'app-secret' })
    const clients = [inB, inRoot]
    try {
      const gotB = collector(inB)
      const gotRoot = collector(inRoot)
      await inB.subscribeAsync('cert/#', { qos: 1 })
      await inRoot.subscribeAsync('cert/#', { qos: 1 })
      const named = await connect(tlsUrl, { clientId: 'cert-b', username: 'b:device-1', protocolVersion: 5, ...mqttTls(device) })
      const vhostOnly = await connect(tlsUrl, { clientId: 'cert-b-only', username: 'b:', ...mqttTls(device) })
      const otherUser = await connect(tlsUrl, { clientId: 'cert-other', username: 'b:app', password: 'app-secret', ...mqttTls(device) })
      clients.push(named, vhostOnly, otherUser)
      // Acknowledged means routed: each publish went through its vhost before the watchers are settled.
      await named.publishAsync('cert/v', 'named b', { qos: 1 })
      await vhostOnly.publishAsync('cert/v', 'only b', { qos: 1 })
      await otherUser.publishAsync('cert/v', 'ignored name', { qos: 1 })
      await gotB.waitFor(2)
      await gotRoot.waitFor(1)
      await settled(inB)
      await settled(inRoot)
      assert.deepEqual(
        gotB.messages.map(m => m.payload),
        ['named b', 'only b']
      )
      assert.deepEqual(
        gotRoot.messages.map(m => m.payload),
        ['ignored name']
      )
      const rows = new Map((await connectionsOf(broker)).map(r => [r.client_id, [r.user, r.vhost]]))
      assert.deepEqual(
        ['cert-b', 'cert-b-only', 'cert-other'].map(id => rows.get(id)),
        [
          ['device-1', 'b'],
          ['device-1', 'b'],
          ['device-1', '/']
        ]
      )
    } finally {
      await end(...clients)
    }
  })

  test('a certificate user naming a vhost it has no permissions in is refused: CONNACK 0x87 Not authorized (3.1.1: 5) naming the vhost', async () => {
    for (const protocolVersion of [5, 4] as const) {
      await assert.rejects(
        connect(
          `mqtts://localhost:${broker.node.ports.mqttTls}`,
          { clientId: `cert-c-${protocolVersion}`, username: 'c:device-1', protocolVersion, ...mqttTls(device) },
          3000
        ),
        (err: Error & { code?: number }) => {
          assert.equal(err.code, protocolVersion === 5 ? 0x87 : 5)
          return true
        }
      )
    }
    const refusals = broker.logs.filter(l => l.msg === 'mqtt connect refused' && String(l.clientId).startsWith('cert-c-'))
    assert.deepEqual(
      refusals.map(l => [l.clientId, l.reason]),
      [
        ['cert-c-5', "access to vhost 'c' refused for user 'device-1'"],
        ['cert-c-4', "access to vhost 'c' refused for user 'device-1'"]
      ]
    )
  })

  test('a certificate naming no user is refused: CONNACK 0x87 Not authorized (3.1.1: 5)', async () => {
    for (const protocolVersion of [5, 4] as const) {
      await assert.rejects(
        connect(`mqtts://localhost:${broker.node.ports.mqttTls}`, { clientId: `stranger-${protocolVersion}`, protocolVersion, ...mqttTls(stranger) }, 3000),
        (err: Error & { code?: number }) => {
          assert.equal(err.code, protocolVersion === 5 ? 0x87 : 5)
          return true
        }
      )
    }
  })

  test('mosquitto_pub and mosquitto_sub with --cafile --cert --key; without --cert refused', async () => {
    const port = String(broker.node.ports.mqttTls)
    const common = ['-h', 'localhost', '-p', port, '--cafile', pki.caFile, '--cert', device.cert, '--key', device.key, '-V', 'mqttv311']
    const sub = run('mosquitto_sub', [...common, '-i', 'mosq-sub', '-t', 'mosq/tls', '-C', '1', '-W', '10'])
    await new Promise(resolve => setTimeout(resolve, 700))
    const pub = await run('mosquitto_pub', [...common, '-i', 'mosq-pub', '-t', 'mosq/tls', '-m', 'over mutual tls', '-q', '1'])
    assert.equal(pub.code, 0, pub.stderr)
    const got = await sub
    assert.equal(got.code, 0, got.stderr)
    assert.equal(got.stdout.trim(), 'over mutual tls')
    const refused = await run('mosquitto_pub', [
      '-h',
      'localhost',
      '-p',
      port,
      '--cafile',
      pki.caFile,
      '-i',
      'mosq-nocert',
      '-t',
      'mosq/tls',
      '-m',
      'x',
      '-V',
      'mqttv311'
    ])
    assert.notEqual(refused.code, 0)
  })

  test('secure WebSocket with identityAsUsername subjectAltName: the first DNS name is the username', async () => {
    const sensor = pki.client('sensor-cn', { san: 'email:ops@example.com,DNS:sensor-7.example' })
    const c = await connect(`wss://localhost:${broker.node.ports.wsTls}/mqtt`, { clientId: 'san-client', ...mqttTls(sensor) })
    try {
      assert.equal((await connectionsOf(broker)).find(r => r.client_id === 'san-client')?.user, 'sensor-7.example')
    } finally {
      await end(c)
    }
    await assert.rejects(connect(`wss://localhost:${broker.node.ports.wsTls}/mqtt`, { clientId: 'wss-no-cert', ...mqttTls(null) }, 3000))
  })

  test('AMQPS with amqplib: PLAIN over mutual TLS carries messages; no certificate is refused', async () => {
    const opts = { ca: [pki.read(pki.caFile)], cert: pki.read(device.cert), key: pki.read(device.key), servername: 'localhost' }
    const conn = await amqpConnect(`amqps://app:app-secret@localhost:${broker.node.ports.amqpTls}`, opts)
    try {
      const ch = await channel(conn)
      const q = await ch.assertQueue('', { exclusive: true })
      const inbox = await consume(ch, q.queue, { noAck: true })
      ch.sendToQueue(q.queue, Buffer.from('over amqps'))
      assert.equal((await inbox.waitFor(1))[0]?.content.toString(), 'over amqps')
      assert.ok((await connectionsOf(broker)).some(r => r.protocol === 'AMQP 0-9-1' && r.user === 'app'))
    } finally {
      await closeQuietly(conn)
    }
    await assert.rejects(
      amqplib.connect(`amqps://app:app-secret@localhost:${broker.node.ports.amqpTls}`, { ca: [pki.read(pki.caFile)], servername: 'localhost' })
    )
  })

  test('AMQPS with SASL EXTERNAL logs in as the certificate CN; the plain listener does not offer EXTERNAL', async () => {
    const opts = {
      ca: [pki.read(pki.caFile)],
      cert: pki.read(device.cert),
      key: pki.read(device.key),
      servername: 'localhost',
      credentials: amqplib.credentials.external()
    }
    const conn = await amqpConnect({ protocol: 'amqps', hostname: 'localhost', port: broker.node.ports.amqpTls as number }, opts)
    try {
      const ch = await channel(conn)
      await ch.checkQueue((await ch.assertQueue('', { exclusive: true })).queue)
      assert.ok((await connectionsOf(broker)).some(r => r.protocol === 'AMQP 0-9-1' && r.user === 'device-1'))
    } finally {
      await closeQuietly(conn)
    }
    await assert.rejects(
      amqplib.connect(
        { protocol: 'amqps', hostname: 'localhost', port: broker.node.ports.amqpTls as number },
        { ...opts, cert: pki.read(stranger.cert), key: pki.read(stranger.key) }
      ),
      /ACCESS_REFUSED|Login was refused/
    )
    await assert.rejects(
      amqplib.connect({ protocol: 'amqp', hostname: '127.0.0.1', port: broker.node.ports.amqp }, { credentials: amqplib.credentials.external() }),
      /EXTERNAL is not provided by the server/
    )
  })

  test('minVersion: a TLS 1.2 client is refused by a TLSv1.3 listener (admin HTTPS), a TLS 1.3 one served', async () => {
    const port = broker.node.ports.adminTls as number
    await assert.rejects(handshake(port, { ca: pki.read(pki.caFile), maxVersion: 'TLSv1.2' }), /protocol version/i)
    const status = await new Promise<number>((resolve, reject) => {
      httpsRequest({ host: '127.0.0.1', port, path: '/healthz', servername: 'localhost', ca: pki.read(pki.caFile), minVersion: 'TLSv1.3' }, res => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
        .on('error', reject)
        .end()
    })
    assert.equal(status, 200)
  })

  test('minVersion TLSv1.2 (the default) refuses a TLS 1.1 client, where the local OpenSSL lets a client offer 1.1', async t => {
    // A probe server that accepts 1.1 tells whether this OpenSSL can make a 1.1 client at all.
    const legacy = { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' } as const
    const probe = createTlsServer({ cert: pki.read(pki.server.cert), key: pki.read(pki.server.key), ...legacy }, s => {
      s.on('error', () => {})
      setTimeout(() => s.destroy(), 1000)
    })
    await new Promise<void>(resolve => probe.listen(0, '127.0.0.1', resolve))
    const probePort = (probe.address() as { port: number }).port
    const clientCanOffer11 = await handshake(probePort, { ca: pki.read(pki.caFile), ...legacy }).then(
      s => {
        s.destroy()
        return true
      },
      () => false
    )
    probe.close()
    if (!clientCanOffer11) {
      t.skip('the local OpenSSL does not let a client negotiate TLS 1.1 (even at SECLEVEL=0): nothing to refuse')
      return
    }
    await assert.rejects(
      handshake(broker.node.ports.mqttTls as number, { ca: pki.read(pki.caFile), cert: pki.read(device.cert), key: pki.read(device.key), ...legacy }),
      /protocol version|unsupported protocol/i
    )
  })
})

describe('bind addresses', { timeout: 60_000 }, () => {
  /** True when a TCP connection to host:port is accepted. */
  const reachable = (host: string, port: number): Promise<boolean> =>
    new Promise(resolve => {
      const s = netConnect(port, host)
      s.once('connect', () => {
        s.destroy()
        resolve(true)
      })
      s.once('error', () => resolve(false))
    })

  test('the admin API defaults to 127.0.0.1 even when the protocol listeners bind every interface', async () => {
    assert.equal(defaultConfig().admin.host, '127.0.0.1')
    const broker = await startTestBroker(c => {
      c.host = '0.0.0.0'
      c.admin.host = defaultConfig().admin.host
    })
    try {
      // 127.0.0.2 is this machine too, but not the address the admin API bound.
      assert.equal(await reachable('127.0.0.2', broker.node.ports.mqtt), true, 'MQTT on 0.0.0.0')
      assert.equal(await reachable('127.0.0.2', broker.node.ports.admin), false, 'admin only on 127.0.0.1')
      assert.equal(await reachable('127.0.0.1', broker.node.ports.admin), true)
    } finally {
      await broker.close()
    }
  })

  test('each listener binds its own host; a TLS listener defaults to its plain sibling', async () => {
    const pki = makeTestPki()
    // Ports below the ephemeral range: a port-0 listener of a test running beside this one could
    // otherwise take the same port number on 127.0.0.1, and the checks that it is not reachable there
    // would find that listener (seen once: amqp on 127.0.0.1).
    const [mqttPort, amqpPort, amqpTlsPort, wsPort] = (await restartablePorts(4)) as [number, number, number, number]
    const broker = await startTestBroker(c => {
      c.host = '127.0.0.1'
      c.mqtt.port = mqttPort
      c.amqp.host = '127.0.0.3'
      c.amqp.port = amqpPort
      c.amqp.tls = { ...c.amqp.tls, port: amqpTlsPort, certFile: pki.server.cert, keyFile: pki.server.key }
      c.mqtt.ws.host = '127.0.0.4'
      c.mqtt.ws.port = wsPort
    })
    try {
      assert.deepEqual([broker.node.ports.mqtt, broker.node.ports.amqp, broker.node.ports.ws], [mqttPort, amqpPort, wsPort])
      assert.equal(await reachable('127.0.0.3', broker.node.ports.amqp), true)
      assert.equal(await reachable('127.0.0.1', broker.node.ports.amqp), false)
      assert.equal(await reachable('127.0.0.3', broker.node.ports.amqpTls as number), true, 'amqp.tls.host null = amqp.host')
      assert.equal(await reachable('127.0.0.4', broker.node.ports.ws), true)
      assert.equal(await reachable('127.0.0.1', broker.node.ports.ws), false)
      assert.equal(await reachable('127.0.0.1', broker.node.ports.mqtt), true, 'mqtt.host null = host')
      assert.equal(await reachable('127.0.0.3', broker.node.ports.mqtt), false)
    } finally {
      await broker.close()
      pki.remove()
    }
  })
})
