import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { PeerCertificate } from 'node:tls'
import { certificateUsername, parseSubjectAltName } from './certificate-identity.ts'

const cert = (subject: Record<string, string | string[]>, subjectaltname?: string): PeerCertificate =>
  ({ subject, ...(subjectaltname === undefined ? {} : { subjectaltname }) }) as unknown as PeerCertificate

test('the CN, the first of several, or none', () => {
  assert.equal(certificateUsername(cert({ CN: 'device-7', O: 'Acme' }), 'commonName'), 'device-7')
  assert.equal(certificateUsername(cert({ CN: ['a', 'b'] }), 'commonName'), 'a')
  assert.equal(certificateUsername(cert({ O: 'Acme' }), 'commonName'), null)
  assert.equal(certificateUsername({}, 'commonName'), null, 'no certificate')
  assert.equal(certificateUsername(null, 'subjectAltName'), null)
})

test('the SAN: the first DNS name, else the first e-mail address, else the first URI', () => {
  assert.equal(certificateUsername(cert({ CN: 'x' }, 'email:a@b.example, DNS:one.example, DNS:two.example'), 'subjectAltName'), 'one.example')
  assert.equal(certificateUsername(cert({ CN: 'x' }, 'URI:spiffe://t/w, email:a@b.example'), 'subjectAltName'), 'a@b.example')
  assert.equal(certificateUsername(cert({ CN: 'x' }, 'URI:spiffe://t/w'), 'subjectAltName'), 'spiffe://t/w')
  assert.equal(certificateUsername(cert({ CN: 'x' }, 'IP Address:127.0.0.1'), 'subjectAltName'), null)
  assert.equal(certificateUsername(cert({ CN: 'x' }), 'subjectAltName'), null)
})

test("Node's quoted SAN values (a comma inside a name) are unquoted", () => {
  assert.deepEqual(parseSubjectAltName('DNS:"a,b.example", IP Address:10.0.0.1'), [
    { kind: 'DNS', value: 'a,b.example' },
    { kind: 'IP Address', value: '10.0.0.1' }
  ])
})
