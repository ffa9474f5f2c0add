import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AuthMethods, type EnhancedAuthMethod } from './auth-method.ts'

function fakeMethod(name: string): EnhancedAuthMethod {
  return { name, start: () => ({ step: async () => ({ kind: 'failure', reasonCode: 0x87, reason: 'no' }) }) }
}

test('AuthMethods: registered methods are found by exact name; others are undefined (CONNACK 0x8C)', () => {
  const methods = new AuthMethods()
  const scram = fakeMethod('SCRAM-SHA-256')
  methods.register(scram)
  methods.register(fakeMethod('KERBEROS'))
  assert.equal(methods.get('SCRAM-SHA-256'), scram)
  assert.equal(methods.get('scram-sha-256'), undefined)
  assert.equal(methods.get('SCRAM-SHA-1'), undefined)
  assert.deepEqual(methods.names(), ['SCRAM-SHA-256', 'KERBEROS'])
})

test('AuthMethods: a second method under one name is a wiring error', () => {
  const methods = new AuthMethods()
  methods.register(fakeMethod('SCRAM-SHA-256'))
  assert.throws(() => methods.register(fakeMethod('SCRAM-SHA-256')), /register SCRAM-SHA-256: a method of that name is already registered/)
})
