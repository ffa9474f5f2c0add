// MQTT 5 enhanced authentication (§4.12) end to end: SCRAM-SHA-256 through mqtt.js (the client side
// in test/support/scram-client.ts), refusals, re-authentication, and the rules around AUTH on raw sockets.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import mqtt, { type MqttClient } from 'mqtt'
import type { IAuthPacket, IConnackPacket, IDisconnectPacket, IPubackPacket, ISubackPacket, Packet } from 'mqtt-packet'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { connect, collector, end, settled } from './support/mqtt-helpers.ts'
import { rawConnect5, rawOpen, withTimeout, type RawPeer } from './support/raw-mqtt.ts'
import { adminFetch } from './support/admin-http.ts'
import { ScramClient, scramHandleAuth } from './support/scram-client.ts'
import { hashPassword } from '../core/auth/password-hash.ts'
import { formatScramCredentials, newScramCredentials } from '../core/auth/scram-credentials.ts'

const METHOD = 'SCRAM-SHA-256'

/**
 * Connects with SCRAM-SHA-256 through mqtt.js (SCRAM n=username; the CONNECT's User Name only when
 * connectUsername is given); resolves with the client and its CONNACK, rejects with the refusal.
 */
async function scramConnect(
  url: string,
  clientId: string,
  username: string,
  password: string,
  connectUsername?: string
): Promise<{ client: MqttClient; connack: IConnackPacket; scram: ScramClient }> {
  const scram = new ScramClient({ username, password })
  const client = mqtt.connect(url, {
    protocolVersion: 5,
    clientId,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...(connectUsername === undefined ? {} : { username: connectUsername }),
    properties: { authenticationMethod: METHOD, authenticationData: scram.clientFirst() }
  })
  client.handleAuth = scramHandleAuth(scram)
  collector(client)
  try {
    const connack = await withTimeout(
      new Promise<IConnackPacket>((resolve, reject) => {
        client.once('connect', resolve)
        client.once('error', reject)
        client.once('close', () => reject(new Error('closed before CONNACK')))
      }),
      5000,
      `SCRAM connect as ${username}`
    )
    client.removeAllListeners('error')
    client.on('error', () => {})
    return { client, connack, scram }
  } catch (err) {
    client.end(true)
    throw err
  }
}

/** CONNECT with User Name `connectUsername` (none: undefined) and the two SCRAM steps on a raw socket; resolves with the server's AUTH and the CONNACK. */
async function rawScramConnect(
  port: number,
  clientId: string,
  connectUsername: string | undefined,
  scram: ScramClient
): Promise<RawPeer & { firstAuth: IAuthPacket; connack: IConnackPacket }> {
  const peer = await rawOpen(port)
  peer.send({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 5,
    clean: true,
    clientId,
    keepalive: 30,
    ...(connectUsername === undefined ? {} : { username: connectUsername }),
    properties: { authenticationMethod: METHOD, authenticationData: scram.clientFirst() }
  })
  const first = await peer.waitFor<IAuthPacket>('AUTH 0x18', p => p.cmd === 'auth')
  peer.send({
    cmd: 'auth',
    reasonCode: 0x18,
    properties: { authenticationMethod: METHOD, authenticationData: scram.clientFinal(first.properties?.authenticationData) }
  })
  return Object.assign(peer, { firstAuth: first, connack: await peer.waitFor<IConnackPacket>('CONNACK', p => p.cmd === 'connack') })
}

async function connectionVhosts(broker: TestBroker): Promise<Map<string, [string, string]>> {
  const rows = (await (await adminFetch(`${broker.adminUrl}/api/connections`)).json()) as Array<{ client_id?: string; user: string; vhost: string }>
  return new Map(rows.filter(r => r.client_id !== undefined).map(r => [r.client_id as string, [r.user, r.vhost]]))
}

describe('MQTT 5 enhanced authentication: SCRAM-SHA-256', { timeout: 60_000 }, () => {
  let broker: TestBroker
  before(async () => {
    broker = await startTestBroker(config => {
      config.auth.allowAnonymous = false
      config.amqp.vhosts = ['/', 'b', 'c']
      config.auth.users = [
        {
          username: 'alice',
          vhosts: ['/', 'b'], // none in 'c'
          passwordHash: hashPassword('not-the-scram-one'),
          scramSha256: formatScramCredentials(newScramCredentials('wonderland')),
          publish: ['devices/%u/#'],
          subscribe: ['devices/#', 'commands/%u/#']
        },
        { username: 'bob', passwordHash: hashPassword('builder') } // no SCRAM credentials
      ]
    })
  })
  after(async () => {
    await broker.close()
  })

  test('success: CONNACK 0x00 with the method and a server-final that proves the server knew the key [MQTT-4.12.0-2] [MQTT-4.12.0-5]', async () => {
    const { client, connack, scram } = await scramConnect(broker.mqttUrl, 'scram-ok', 'alice', 'wonderland')
    assert.equal(connack.reasonCode, 0)
    assert.equal(connack.properties?.authenticationMethod, METHOD)
    assert.equal(scram.verifyServerFinal(connack.properties?.authenticationData), true)
    await end(client)
  })

  test('the authenticated user name is the one the ACL applies to (%u) [§4.12]', async () => {
    const { client } = await scramConnect(broker.mqttUrl, 'scram-acl', 'alice', 'wonderland')
    const got = collector(client)
    assert.deepEqual(
      (await client.subscribeAsync('devices/#', { qos: 1 })).map(g => g.qos),
      [1]
    )
    // SUBACK 0x87 for another user's commands (mqtt.js turns it into an error).
    await assert.rejects(client.subscribeAsync('commands/bob/#', { qos: 1 }), /Not authorized/)
    await client.publishAsync('devices/alice/temp', '21', { qos: 1 })
    assert.deepEqual(
      (await got.waitFor(1)).map(m => [m.topic, m.payload]),
      [['devices/alice/temp', '21']]
    )
    // Outside alice's publish list: PUBACK 0x87, nothing routed.
    await assert.rejects(client.publishAsync('devices/bob/temp', 'spoofed', { qos: 1 }), (err: Error & { code?: number }) => err.code === 0x87)
    await client.publishAsync('devices/alice/temp', '22', { qos: 1 })
    await got.waitFor(2)
    assert.deepEqual(
      got.messages.map(m => m.payload),
      ['21', '22']
    )
    await end(client)
  })

  test("a will topic outside the user's publish ACL is refused with CONNACK 0x87", async () => {
    const scram = new ScramClient({ username: 'alice', password: 'wonderland' })
    const client = mqtt.connect(broker.mqttUrl, {
      protocolVersion: 5,
      clientId: 'scram-will',
      reconnectPeriod: 0,
      will: { topic: 'devices/bob/status', payload: Buffer.from('spoofed'), qos: 1, retain: false },
      properties: { authenticationMethod: METHOD, authenticationData: scram.clientFirst() }
    })
    client.handleAuth = scramHandleAuth(scram)
    const err = await withTimeout(new Promise<Error & { code?: number }>(resolve => client.once('error', resolve)), 5000, 'the refusal')
    assert.equal(err.code, 0x87)
    client.end(true)
  })

  test('a wrong password is refused with CONNACK 0x86 and the connection closed [MQTT-4.12.0-4]', async () => {
    await assert.rejects(scramConnect(broker.mqttUrl, 'scram-bad', 'alice', 'looking-glass'), (err: Error & { code?: number }) => err.code === 0x86)
  })

  test('an unknown user and a user without SCRAM credentials get the same 0x86 [MQTT-4.12.0-4]', async () => {
    await assert.rejects(scramConnect(broker.mqttUrl, 'scram-nobody', 'mallory', 'x'), (err: Error & { code?: number }) => err.code === 0x86)
    await assert.rejects(scramConnect(broker.mqttUrl, 'scram-bob', 'bob', 'builder'), (err: Error & { code?: number }) => err.code === 0x86)
  })

  test('an unknown Authentication Method is refused with CONNACK 0x8C and the connection closed [MQTT-4.12.0-1]', async () => {
    const peer = await rawConnect5(broker.node.ports.mqtt, {
      clientId: 'scram-method',
      properties: { authenticationMethod: 'KERBEROS-9', authenticationData: Buffer.from('x') }
    })
    assert.equal(peer.connack.reasonCode, 0x8c)
    assert.equal(peer.connack.sessionPresent, false) // [MQTT-3.2.2-6]
    await peer.waitClosed()
    // mqtt.js sees the same refusal.
    await assert.rejects(
      connect(broker.mqttUrl, { protocolVersion: 5, clientId: 'scram-method-js', properties: { authenticationMethod: 'KERBEROS-9' } }),
      (err: Error & { code?: number }) => err.code === 0x8c
    )
  })

  test('re-authentication: AUTH 0x19 leads through AUTH 0x18 to AUTH 0x00; the connection keeps working [MQTT-4.12.1-1]', async () => {
    const { client } = await scramConnect(broker.mqttUrl, 'scram-reauth', 'alice', 'wonderland')
    const got = collector(client)
    await client.subscribeAsync('devices/alice/#', { qos: 1 })
    const again = new ScramClient({ username: 'alice', password: 'wonderland' })
    client.handleAuth = scramHandleAuth(again)
    const authPackets: IAuthPacket[] = []
    client.on('packetreceive', p => {
      if (p.cmd === 'auth') authPackets.push(p)
    })
    ;(client as unknown as { _sendPacket(p: IAuthPacket): void })._sendPacket({
      cmd: 'auth',
      reasonCode: 0x19,
      properties: { authenticationMethod: METHOD, authenticationData: again.clientFirst() }
    })
    await withTimeout(
      (async () => {
        while (!authPackets.some(p => p.reasonCode === 0)) await new Promise(resolve => setTimeout(resolve, 10))
      })(),
      5000,
      'AUTH 0x00 ending the re-authentication'
    )
    assert.deepEqual(
      authPackets.map(p => p.reasonCode),
      [0x18, 0x00]
    )
    assert.equal(again.verifyServerFinal(authPackets[1]?.properties?.authenticationData), true)
    assert.equal(client.connected, true)
    await client.publishAsync('devices/alice/x', 'after re-auth', { qos: 1 })
    assert.deepEqual(
      (await got.waitFor(1)).map(m => m.payload),
      ['after re-auth']
    )
    await end(client)
  })

  test('a re-authentication that fails ends the connection with a DISCONNECT Reason Code (0x87) [§4.12.1] [MQTT-3.14.2-1]', async () => {
    const good = new ScramClient({ username: 'alice', password: 'wonderland' })
    const peer = await rawScramConnect(broker.node.ports.mqtt, 'scram-reauth-bad', undefined, good)
    assert.equal(peer.connack.reasonCode, 0)
    const first = peer.firstAuth
    const bad = new ScramClient({ username: 'alice', password: 'wrong' })
    peer.send({ cmd: 'auth', reasonCode: 0x19, properties: { authenticationMethod: METHOD, authenticationData: bad.clientFirst() } })
    const second = await peer.waitFor<IAuthPacket>('re-authentication AUTH 0x18', p => p.cmd === 'auth' && p !== first)
    assert.equal(second.reasonCode, 0x18)
    peer.send({
      cmd: 'auth',
      reasonCode: 0x18,
      properties: { authenticationMethod: METHOD, authenticationData: bad.clientFinal(second.properties?.authenticationData) }
    })
    const d = await peer.waitFor<IDisconnectPacket>('DISCONNECT', p => p.cmd === 'disconnect')
    assert.equal(d.reasonCode, 0x87) // 0x86 is a CONNACK code; DISCONNECT has 0x87 Not authorized
    await peer.waitClosed()
  })

  test('re-authentication with another method is a Protocol Error [MQTT-4.12.1-1]', async () => {
    const { client } = await scramConnect(broker.mqttUrl, 'scram-reauth-method', 'alice', 'wonderland')
    const kicked = withTimeout(new Promise<IDisconnectPacket>(resolve => client.once('disconnect', resolve)), 5000, 'server DISCONNECT')
    ;(client as unknown as { _sendPacket(p: IAuthPacket): void })._sendPacket({ cmd: 'auth', reasonCode: 0x19, properties: { authenticationMethod: 'PLAIN' } })
    assert.equal((await kicked).reasonCode, 0x82)
    await end(client)
  })

  test('AUTH on a connection that did not authenticate with a method is a Protocol Error [MQTT-4.12.0-7]', async () => {
    const peer = await rawConnect5(broker.node.ports.mqtt, { clientId: 'plain-then-auth', username: 'bob', password: Buffer.from('builder') })
    assert.equal(peer.connack.reasonCode, 0)
    assert.equal(peer.connack.properties?.authenticationMethod, undefined) // [MQTT-4.12.0-6]
    peer.send({
      cmd: 'auth',
      reasonCode: 0x19,
      properties: { authenticationMethod: METHOD, authenticationData: new ScramClient({ username: 'bob', password: 'builder' }).clientFirst() }
    })
    const d = await peer.waitFor<IDisconnectPacket>('DISCONNECT', p => p.cmd === 'disconnect')
    assert.equal(d.reasonCode, 0x82)
    await peer.waitClosed()
  })

  test('Authentication Data without an Authentication Method in CONNECT: CONNACK 0x82 [§3.1.2.11.10]', async () => {
    const peer = await rawConnect5(broker.node.ports.mqtt, {
      clientId: 'auth-data-only',
      username: 'bob',
      password: Buffer.from('builder'),
      properties: { authenticationData: Buffer.from('x') }
    })
    assert.equal(peer.connack.reasonCode, 0x82)
    await peer.waitClosed()
  })

  test('an AUTH that does not continue the exchange before CONNACK is refused (CONNACK 0x82) [MQTT-4.12.0-4]', async () => {
    const scram = new ScramClient({ username: 'alice', password: 'wonderland' })
    const peer = await rawOpen(broker.node.ports.mqtt)
    peer.send({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 5,
      clean: true,
      clientId: 'scram-wrong-step',
      keepalive: 30,
      properties: { authenticationMethod: METHOD, authenticationData: scram.clientFirst() }
    })
    await peer.waitFor('AUTH 0x18', p => p.cmd === 'auth')
    peer.send({ cmd: 'auth', reasonCode: 0x19, properties: { authenticationMethod: METHOD, authenticationData: Buffer.from('x') } })
    const connack = await peer.waitFor<IConnackPacket>('CONNACK', p => p.cmd === 'connack')
    assert.equal(connack.reasonCode, 0x82)
    await peer.waitClosed()
  })

  test("'vhost:user' as the User Name: SCRAM proves the user part and the client lands in that vhost, not the listener's", async () => {
    // Password clients in 'b' (alice) and in '/', the listener's (bob: no ACL lists, so settled() may subscribe) watch where the publish goes.
    const inB = await connect(broker.mqttUrl, { protocolVersion: 5, clientId: 'v-watch-b', username: 'b:alice', password: 'not-the-scram-one' })
    const inRoot = await connect(broker.mqttUrl, { protocolVersion: 5, clientId: 'v-watch-root', username: 'bob', password: 'builder' })
    const { client, connack, scram } = await scramConnect(broker.mqttUrl, 'v-scram-b', 'alice', 'wonderland', 'b:alice')
    const onlyVhost = await scramConnect(broker.mqttUrl, 'v-scram-b-only', 'alice', 'wonderland', 'b:') // 'vhost:': the user is the one SCRAM proves
    try {
      assert.equal(connack.reasonCode, 0)
      assert.equal(scram.verifyServerFinal(connack.properties?.authenticationData), true)
      const gotB = collector(inB)
      const gotRoot = collector(inRoot)
      await inB.subscribeAsync('devices/#', { qos: 1 })
      await inRoot.subscribeAsync('devices/#', { qos: 1 })
      await client.publishAsync('devices/alice/where', 'from b', { qos: 1 }) // acknowledged = routed
      await onlyVhost.client.publishAsync('devices/alice/where', 'from b too', { qos: 1 })
      await gotB.waitFor(2)
      await settled(inRoot)
      assert.deepEqual(
        gotB.messages.map(m => m.payload),
        ['from b', 'from b too']
      )
      assert.deepEqual(gotRoot.messages, [], "nothing reaches '/'")
      const byId = await connectionVhosts(broker)
      assert.deepEqual(byId.get('v-scram-b'), ['alice', 'b'])
      assert.deepEqual(byId.get('v-scram-b-only'), ['alice', 'b'])
    } finally {
      await end(inB, inRoot, client, onlyVhost.client)
    }
  })

  test("'vhost:user' with SCRAM: a vhost without permissions, or none, gets CONNACK 0x87 naming it [MQTT-3.2.2-6] [MQTT-3.2.2-7]; n= must be the user part (0x86)", async () => {
    const peer = await rawScramConnect(broker.node.ports.mqtt, 'v-scram-c', 'c:alice', new ScramClient({ username: 'alice', password: 'wonderland' }))
    assert.equal(peer.connack.reasonCode, 0x87)
    assert.equal(peer.connack.sessionPresent, false)
    assert.match(String(peer.connack.properties?.reasonString), /access to vhost 'c' refused for user 'alice'/)
    await peer.waitClosed()
    await assert.rejects(
      scramConnect(broker.mqttUrl, 'v-scram-nowhere', 'alice', 'wonderland', 'nowhere:alice'),
      (err: Error & { code?: number }) => err.code === 0x87
    )
    // The method authenticates the user part: n=<the whole User Name> is another name.
    await assert.rejects(
      scramConnect(broker.mqttUrl, 'v-scram-whole', 'b:alice', 'wonderland', 'b:alice'),
      (err: Error & { code?: number }) => err.code === 0x86
    )
  })

  test("re-authentication of a 'vhost:user' SCRAM connection: the same user (n=alice) gets AUTH 0x00 and stays in its vhost [MQTT-4.12.1-1]", async () => {
    const peer = await rawScramConnect(broker.node.ports.mqtt, 'v-scram-reauth', 'b:alice', new ScramClient({ username: 'alice', password: 'wonderland' }))
    assert.equal(peer.connack.reasonCode, 0)
    const again = new ScramClient({ username: 'alice', password: 'wonderland' })
    const later = (p: Packet): boolean => peer.packets.indexOf(p) > peer.packets.indexOf(peer.connack)
    peer.send({ cmd: 'auth', reasonCode: 0x19, properties: { authenticationMethod: METHOD, authenticationData: again.clientFirst() } })
    const continued = await peer.waitFor<IAuthPacket>('re-authentication AUTH 0x18', p => p.cmd === 'auth' && p.reasonCode === 0x18 && later(p))
    peer.send({
      cmd: 'auth',
      reasonCode: 0x18,
      properties: { authenticationMethod: METHOD, authenticationData: again.clientFinal(continued.properties?.authenticationData) }
    })
    const done = await peer.waitFor<IAuthPacket>('AUTH 0x00', p => p.cmd === 'auth' && p.reasonCode === 0x00)
    assert.equal(again.verifyServerFinal(done.properties?.authenticationData), true)
    assert.equal(peer.isClosed(), false)
    assert.deepEqual((await connectionVhosts(broker)).get('v-scram-reauth'), ['alice', 'b'])
    peer.destroy()
  })

  test('password authentication at MQTT 5: a wrong password gets CONNACK 0x86, none (anonymous off) 0x87 [MQTT-3.1.4-2]', async () => {
    await assert.rejects(
      connect(broker.mqttUrl, { protocolVersion: 5, clientId: 'pw-bad', username: 'bob', password: 'wrong' }),
      (err: Error & { code?: number }) => err.code === 0x86
    )
    await assert.rejects(connect(broker.mqttUrl, { protocolVersion: 5, clientId: 'pw-none' }), (err: Error & { code?: number }) => err.code === 0x87)
    const ok = await connect(broker.mqttUrl, { protocolVersion: 5, clientId: 'pw-ok', username: 'bob', password: 'builder' })
    const peer = await rawConnect5(broker.node.ports.mqtt, { clientId: 'pw-ok-raw', username: 'bob', password: Buffer.from('builder') })
    peer.send({ cmd: 'publish', topic: 'anything', payload: Buffer.from('x'), qos: 1, messageId: 7, retain: false, dup: false })
    const ack = await peer.waitFor<IPubackPacket>('PUBACK', p => p.cmd === 'puback')
    assert.ok(ack.reasonCode === 0x00 || ack.reasonCode === 0x10, `PUBACK 0x${(ack.reasonCode ?? 0).toString(16)}`) // no ACL lists for bob: the defaults allow
    peer.send({ cmd: 'subscribe', messageId: 8, subscriptions: [{ topic: 'anything', qos: 1 }] })
    assert.deepEqual((await peer.waitFor<ISubackPacket>('SUBACK', p => p.cmd === 'suback')).granted, [1])
    peer.destroy()
    await end(ok)
  })
})
