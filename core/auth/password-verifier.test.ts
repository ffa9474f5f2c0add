import { test } from 'node:test'
import assert from 'node:assert/strict'
import { performance } from 'node:perf_hooks'
import { hashPassword } from './password-hash.ts'
import { PasswordVerifier } from './password-verifier.ts'

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now()
  const value = await fn()
  return { value, ms: performance.now() - start }
}

/**
 * CPU time (all threads: scrypt runs on libuv's pool) of one call: the work a check costs, which is
 * what must not tell users apart. Wall time measured the machine's load as well (a busy core made it flaky).
 */
async function cpuTimed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = process.cpuUsage()
  const value = await fn()
  const used = process.cpuUsage(start)
  return { value, ms: (used.user + used.system) / 1000 }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

test("a user's second login with the same password costs no scrypt (measured)", async () => {
  const hash = hashPassword('s3cret')
  const v = new PasswordVerifier(100)
  const first = await timed(() => v.verify('alice', 's3cret', hash))
  const second = await timed(() => v.verify('alice', 's3cret', hash))
  assert.equal(first.value, true)
  assert.equal(second.value, true)
  assert.deepEqual(v.stats, { hits: 1, scrypts: 1 })
  assert.ok(second.ms * 20 < first.ms, `second login ${second.ms.toFixed(3)} ms, first ${first.ms.toFixed(1)} ms`)
})

test('an unknown user, a wrong password and a wrong password of a remembered user cost the same scrypt (measured)', async () => {
  const hash = hashPassword('s3cret')
  const v = new PasswordVerifier(100)
  await v.verify('alice', 's3cret', hash) // remembered
  const unknown: number[] = []
  const wrong: number[] = []
  for (let i = 0; i < 5; i++) {
    const u = await cpuTimed(() => v.verify('nobody', 's3cret', undefined))
    const w = await cpuTimed(() => v.verify('alice', 'guess', hash))
    assert.equal(u.value, false)
    assert.equal(w.value, false)
    unknown.push(u.ms)
    wrong.push(w.ms)
  }
  const ratio = median(unknown) / median(wrong)
  assert.ok(ratio > 0.7 && ratio < 1.4, `unknown user ${median(unknown).toFixed(1)} ms, wrong password ${median(wrong).toFixed(1)} ms`)
  assert.equal(v.stats.hits, 0)
})

test('a changed hash is never accepted from memory; forget() and the bound drop entries', async () => {
  const v = new PasswordVerifier(2)
  const old = hashPassword('old')
  assert.equal(await v.verify('alice', 'old', old), true)
  const changed = hashPassword('new')
  assert.equal(await v.verify('alice', 'old', changed), false, 'the old password after the change')
  assert.equal(await v.verify('alice', 'new', changed), true)
  await v.verify('bob', 'b', hashPassword('b'))
  await v.verify('carol', 'c', hashPassword('c'))
  assert.equal(v.size, 2, 'alice, least recently used, was forgotten')
  v.forget('bob')
  assert.equal(v.size, 1)
  const zero = new PasswordVerifier(0)
  await zero.verify('alice', 'new', changed)
  assert.equal(zero.size, 0)
})
