// SIGHUP reloads TLS certificates without dropping connections: the broker runs as a child process
// (`wharf start`) so the signal is a real one.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as tlsConnect, type PeerCertificate } from 'node:tls'
import { startBrokerProcess } from './support/broker-process.ts'
import { connect, collector, end, eventually } from './support/mqtt-helpers.ts'
import { makeTestPki } from './support/test-pki.ts'

/** The certificate a new TLS connection is served. */
async function servedCertificate(port: number, ca: Buffer): Promise<PeerCertificate> {
  return await new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ca }, () => {
      resolve(s.getPeerCertificate())
      s.destroy()
    })
    s.once('error', reject)
    setTimeout(() => {
      s.destroy()
      reject(new Error('no TLS handshake within 5 s'))
    }, 5000).unref()
  })
}

test('SIGHUP serves a renewed certificate to new connections while an open one stays connected; a bad file keeps the last good one', {
  timeout: 60_000
}, async () => {
  const pki = makeTestPki()
  const dataDir = mkdtempSync(join(tmpdir(), 'wharf-reload-'))
  const broker = await startBrokerProcess(dataDir, {
    WHARF_MQTT_TLS_PORT: '0',
    WHARF_MQTT_TLS_CERT_FILE: pki.server.cert,
    WHARF_MQTT_TLS_KEY_FILE: pki.server.key
  })
  try {
    const port = (broker.ports as { mqttTls?: number }).mqttTls
    assert.ok(port !== undefined, 'the TLS listener is up')
    const ca = pki.read(pki.caFile)
    const before = await servedCertificate(port, ca)
    assert.equal(before.subject.CN, 'localhost')

    const old = await connect(`mqtts://localhost:${port}`, { clientId: 'kept-across-reload', ca, rejectUnauthorized: true })
    let oldClosed = false
    old.on('close', () => {
      oldClosed = true
    })
    const got = collector(old)
    await old.subscribeAsync('reload/t', { qos: 1 })

    pki.renewServer(pki.server, 'renewed.localhost')
    broker.child.kill('SIGHUP')
    await eventually('the reload logged', () => broker.lines.some(l => l.includes('tls certificates reloaded')), 5000)
    const after = await servedCertificate(port, ca)
    assert.equal(after.subject.CN, 'renewed.localhost', 'a new connection gets the new certificate')
    assert.notEqual(after.fingerprint256, before.fingerprint256)

    await old.publishAsync('reload/t', 'still here', { qos: 1 })
    assert.equal((await got.waitFor(1))[0]?.payload, 'still here')
    assert.equal(oldClosed, false, 'the connection opened before the reload was never dropped')

    writeFileSync(pki.server.cert, 'not a certificate')
    broker.child.kill('SIGHUP')
    await eventually('the failed reload logged', () => broker.lines.some(l => l.includes('tls certificates not reloaded')), 5000)
    assert.equal((await servedCertificate(port, ca)).fingerprint256, after.fingerprint256, 'the listener keeps the last good certificate')
    assert.equal(broker.child.exitCode, null, 'SIGHUP does not end the process')
    await end(old)
  } finally {
    await broker.terminate()
    rmSync(dataDir, { recursive: true, force: true })
    pki.remove()
  }
})
