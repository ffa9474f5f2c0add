import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ScramSha256, type ProofCheckedEvent, type ScramSha256Options } from './scram-sha-256.ts'
import type { AuthExchange, AuthStep } from './auth-method.ts'
import { scramCredentialsFor, type ScramCredentials } from '../../../core/auth/scram-credentials.ts'
import { ScramClient } from '../../../test/support/scram-client.ts'

// RFC 7677 §3, the whole exchange.
const rfc = {
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='
}
const users = new Map<string, ScramCredentials>([
  ['user', scramCredentialsFor('pencil', Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'), 4096)],
  ['a,b=c', scramCredentialsFor('odd name', Buffer.alloc(16, 7), 4096)]
])
const secret = Buffer.alloc(32, 0x5a)

function method(extra: Partial<ScramSha256Options> = {}): { scram: ScramSha256; checks: ProofCheckedEvent[] } {
  const checks: ProofCheckedEvent[] = []
  const scram = new ScramSha256({ credentials: name => users.get(name), serverSecret: secret, onProofChecked: e => checks.push(e), ...extra })
  return { scram, checks }
}

function start(scram: ScramSha256, username?: string): AuthExchange {
  return scram.start({ clientId: 'c1', username })
}

function data(step: AuthStep): Buffer {
  assert.equal(step.kind, 'continue', JSON.stringify(step))
  return (step as { data: Buffer }).data
}

function assertFailure(step: AuthStep, reasonCode: number, reason?: RegExp): void {
  assert.equal(step.kind, 'failure', JSON.stringify(step))
  const f = step as { reasonCode: number; reason: string }
  assert.equal(f.reasonCode, reasonCode, f.reason)
  if (reason) assert.match(f.reason, reason)
}

/** Client-first and client-final through the server; returns the last answer. */
async function run(scram: ScramSha256, client: ScramClient): Promise<AuthStep> {
  const exchange = start(scram)
  const serverFirst = data(await exchange.step(client.clientFirst()))
  return await exchange.step(client.clientFinal(serverFirst))
}

describe('SCRAM-SHA-256 server', () => {
  test('replays the RFC 7677 exchange byte for byte (fixed server nonce)', async () => {
    const { scram, checks } = method({ serverNonce: () => rfc.serverNonce })
    const exchange = start(scram)
    assert.equal(data(await exchange.step(Buffer.from(rfc.clientFirst))).toString(), rfc.serverFirst)
    const last = await exchange.step(Buffer.from(rfc.clientFinal))
    assert.deepEqual(last, { kind: 'success', username: 'user', data: Buffer.from(rfc.serverFinal) })
    assert.deepEqual(checks, [{ username: 'user', userKnown: true, valid: true }])
  })

  test('the test client writes the RFC 7677 messages too', () => {
    const client = new ScramClient({ username: 'user', password: 'pencil', nonce: 'rOprNGfwEbeRWgbNEkqO' })
    assert.equal(client.clientFirst().toString(), rfc.clientFirst)
    assert.equal(client.clientFinal(Buffer.from(rfc.serverFirst)).toString(), rfc.clientFinal)
    assert.equal(client.verifyServerFinal(Buffer.from(rfc.serverFinal)), true)
    assert.equal(client.verifyServerFinal(Buffer.from('v=' + Buffer.alloc(32).toString('base64'))), false)
  })

  test('a full exchange with the test client; the client verifies the server signature', async () => {
    const { scram } = method()
    const client = new ScramClient({ username: 'user', password: 'pencil' })
    const last = await run(scram, client)
    assert.equal(last.kind, 'success')
    assert.equal((last as { username: string }).username, 'user')
    assert.equal(client.verifyServerFinal((last as { data: Buffer }).data), true)
  })

  test('a username with "," and "=" travels escaped (=2C, =3D)', async () => {
    const { scram } = method()
    const client = new ScramClient({ username: 'a,b=c', password: 'odd name' })
    assert.match(client.clientFirst().toString(), /n=a=2Cb=3Dc,/)
    assert.equal((await run(scram, client)).kind, 'success')
  })

  test('gs2 header y,, (client could bind, thinks the server cannot) is accepted', async () => {
    const { scram } = method()
    assert.equal((await run(scram, new ScramClient({ username: 'user', password: 'pencil', gs2Header: 'y,,' }))).kind, 'success')
  })

  test('wrong password: 0x86 after the proof check', async () => {
    const { scram, checks } = method()
    assertFailure(await run(scram, new ScramClient({ username: 'user', password: 'pencil!' })), 0x86, /^SCRAM-SHA-256: authentication failed$/)
    assert.deepEqual(checks, [{ username: 'user', userKnown: true, valid: false }])
  })

  test('unknown user: the same steps, salt and iteration shape, proof check and answer as a wrong password', async () => {
    const { scram, checks } = method()
    const known = start(scram)
    const unknown = start(scram)
    const wrongPassword = new ScramClient({ username: 'user', password: 'x' })
    const knownFirst = data(await known.step(wrongPassword.clientFirst())).toString()
    const ghost = new ScramClient({ username: 'ghost', password: 'x' })
    const ghostFirst = data(await unknown.step(ghost.clientFirst())).toString()
    const shape = (s: string): string => s.replace(/^r=[^,]+/, 'r=').replace(/s=[^,]+/, m => `s=${Buffer.from(m.slice(2), 'base64').length}`)
    assert.equal(shape(ghostFirst), shape(knownFirst), 'a 16-byte salt and 4096 iterations for both')
    const wrong = await known.step(wrongPassword.clientFinal(Buffer.from(knownFirst)))
    const ghostLast = await unknown.step(ghost.clientFinal(Buffer.from(ghostFirst)))
    assert.deepEqual(ghostLast, wrong)
    assertFailure(ghostLast, 0x86)
    assert.deepEqual(
      checks.map(c => c.userKnown),
      [true, false],
      'both ran the proof check'
    )
    assert.equal(
      checks.every(c => !c.valid),
      true
    )
  })

  test('an unknown user gets the same salt every time, derived from the server secret', async () => {
    const salt = async (scram: ScramSha256, name: string): Promise<string> =>
      /s=([^,]+)/.exec(data(await start(scram).step(new ScramClient({ username: name, password: 'x' }).clientFirst())).toString())?.[1] ?? ''
    const { scram } = method()
    assert.equal(await salt(scram, 'ghost'), await salt(scram, 'ghost'))
    assert.notEqual(await salt(scram, 'ghost'), await salt(scram, 'ghost2'))
    assert.notEqual(await salt(method({ serverSecret: Buffer.alloc(32, 1) }).scram, 'ghost'), await salt(scram, 'ghost'))
    const announced = data(await start(method({ unknownUserIterations: 10_000 }).scram).step(Buffer.from('n,,n=ghost,r=abc'))).toString()
    assert.match(announced, /,i=10000$/)
  })
})

describe('SCRAM-SHA-256 server: bad input fails, never throws', () => {
  const clientFirsts: Array<[string, string | Buffer | undefined, number, RegExp]> = [
    ['no data', undefined, 0x82, /no Authentication Data/],
    ['empty data', '', 0x82, /no Authentication Data/],
    ['not UTF-8', Buffer.from([0x6e, 0x2c, 0x2c, 0xff, 0xfe]), 0x82, /not UTF-8/],
    ['too long', 'n,,n=user,r=' + 'x'.repeat(5000), 0x82, /at most 4096/],
    ['no gs2 header', 'n=user,r=abc', 0x82, /gs2 header/],
    ['bad gs2 flag', 'x,,n=user,r=abc', 0x82, /flag must be n or y/],
    ['channel binding requested', 'p=tls-server-end-point,,n=user,r=abc', 0x82, /channel binding \(p=tls-server-end-point\) is not supported/],
    ['authzid without a=', 'n,user,n=user,r=abc', 0x82, /authzid/],
    ['mandatory extension', 'n,,m=ext,n=user,r=abc', 0x82, /m= is not supported/],
    ['no username', 'n,,r=abc', 0x82, /n=<username>/],
    ['empty username', 'n,,n=,r=abc', 0x82, /n=<username>/],
    ['bare = in username', 'n,,n=a=b,r=abc', 0x82, /=2C and =3D/],
    ['lower-case escape', 'n,,n=a=2c,r=abc', 0x82, /=2C and =3D/],
    ['no nonce', 'n,,n=user', 0x82, /r=<nonce>/],
    ['empty nonce', 'n,,n=user,r=', 0x82, /r=<nonce>/],
    ['nonce not printable', 'n,,n=user,r=ab\u00e9', 0x82, /r=<nonce>/],
    ['bad extension', 'n,,n=user,r=abc,zz', 0x82, /extensions/],
    ['authzid for another user', 'n,a=admin,n=user,r=abc', 0x87, /authorization identity/]
  ]
  for (const [name, message, code, reason] of clientFirsts) {
    test(`client-first: ${name} -> 0x${code.toString(16)}`, async () => {
      const exchange = start(method().scram)
      assertFailure(await exchange.step(typeof message === 'string' ? Buffer.from(message) : message), code, reason)
      assertFailure(await exchange.step(Buffer.from(rfc.clientFinal)), 0x82, /exchange is over/)
    })
  }

  test('client-first: an authzid equal to the username is accepted', async () => {
    assert.equal((await start(method().scram).step(Buffer.from('n,a=user,n=user,r=abc'))).kind, 'continue')
  })

  test("client-first: a SCRAM username other than the connection's User Name -> 0x86", async () => {
    const { scram } = method()
    assertFailure(await start(scram, 'admin').step(Buffer.from('n,,n=user,r=abc')), 0x86, /differs from the User Name/)
    assert.equal((await start(scram, 'user').step(Buffer.from('n,,n=user,r=abc'))).kind, 'continue')
  })

  test('client-first: a credentials lookup that throws -> 0x80', async () => {
    const { scram } = method({
      credentials: () => {
        throw new Error('disk I/O error')
      }
    })
    assertFailure(await start(scram).step(Buffer.from(rfc.clientFirst)), 0x80, /could not be read/)
  })

  /** An exchange after a good client-first, with the RFC's nonce, and the RFC's client-final changed by `edit`. */
  async function final(edit: (clientFinal: string) => string | undefined): Promise<{ step: AuthStep; checks: ProofCheckedEvent[] }> {
    const { scram, checks } = method({ serverNonce: () => rfc.serverNonce })
    const exchange = start(scram)
    data(await exchange.step(Buffer.from(rfc.clientFirst)))
    const edited = edit(rfc.clientFinal)
    return { step: await exchange.step(edited === undefined ? undefined : Buffer.from(edited)), checks }
  }

  const clientFinals: Array<[string, (s: string) => string | undefined, RegExp]> = [
    ['no data', () => undefined, /no Authentication Data/],
    ['garbage', () => 'hello', /c=<base64/],
    ['another nonce', s => s.replace('k0,p=', 'k1,p='), /r= is not the nonce/],
    ['only the client nonce', s => s.replace('%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0', ''), /r= is not the nonce/],
    ['channel binding of y,,', s => s.replace('c=biws', 'c=eSws'), /c= is not the gs2 header/],
    ['no proof', s => s.slice(0, s.indexOf(',p=')), /p=<base64 proof>/],
    ['proof not base64', s => s.replace('p=dHzb', 'p=*Hzb'), /p=<base64 proof>/],
    ['short proof', s => s.replace(/p=.*$/, 'p=' + Buffer.alloc(20).toString('base64')), /p= has 20 bytes, not 32/],
    ['attributes out of order', () => 'r=x,c=biws,p=AAAA', /c=<base64/]
  ]
  for (const [name, edit, reason] of clientFinals) {
    test(`client-final: ${name} -> 0x82, no proof check`, async () => {
      const { step, checks } = await final(edit)
      assertFailure(step, 0x82, reason)
      assert.deepEqual(checks, [])
    })
  }

  test('client-final: an extension before p= enters AuthMessage, so the RFC proof no longer matches -> 0x86', async () => {
    const { step } = await final(s => s.replace(',p=', ',x=1,p='))
    assertFailure(step, 0x86)
  })

  test('client-final replayed on the same exchange after success -> 0x82', async () => {
    const { scram } = method({ serverNonce: () => rfc.serverNonce })
    const exchange = start(scram)
    data(await exchange.step(Buffer.from(rfc.clientFirst)))
    assert.equal((await exchange.step(Buffer.from(rfc.clientFinal))).kind, 'success')
    assertFailure(await exchange.step(Buffer.from(rfc.clientFinal)), 0x82, /exchange is over/)
  })

  test('a captured client-final replayed into a new exchange fails on the fresh server nonce', async () => {
    const { scram, checks } = method()
    const exchange = start(scram)
    data(await exchange.step(Buffer.from(rfc.clientFirst)))
    assertFailure(await exchange.step(Buffer.from(rfc.clientFinal)), 0x82, /r= is not the nonce/)
    assert.deepEqual(checks, [])
  })

  test('a second client-first in place of the client-final fails', async () => {
    const exchange = start(method().scram)
    data(await exchange.step(Buffer.from(rfc.clientFirst)))
    assertFailure(await exchange.step(Buffer.from(rfc.clientFirst)), 0x82)
  })

  test('a short server secret is a wiring error', () => {
    assert.throws(() => new ScramSha256({ credentials: () => undefined, serverSecret: Buffer.alloc(8) }), /server secret of 8 bytes; at least 16/)
  })
})
