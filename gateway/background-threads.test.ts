// The threads beside the event loop run below it (background-threads.ts): read back from /proc, in this
// process (a Worker stands for the checkpointer's) and in a started broker with the default config.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { lowerBackgroundThreads } from './background-threads.ts'
import { startBrokerProcess } from '../test/support/broker-process.ts'

/** Nice is per thread on Linux only; elsewhere lowerBackgroundThreads does nothing. */
const linuxOnly = { skip: process.platform !== 'linux' && 'nice per thread is Linux only' }

/** Each thread's nice value, from field 19 of /proc/<pid>/task/<tid>/stat (after the parenthesised name). */
function niceByThread(pid: number | 'self'): Map<number, number> {
  const dir = `/proc/${pid}/task`
  const out = new Map<number, number>()
  for (const tid of readdirSync(dir)) {
    try {
      const stat = readFileSync(`${dir}/${tid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      out.set(Number(tid), Number(fields[16]))
    } catch {
      // a thread that ended meanwhile
    }
  }
  return out
}

test('an increment outside 0-19, or not an integer, is refused with the reason', () => {
  for (const bad of [-1, 20, 1.5, Number.NaN]) {
    assert.throws(() => lowerBackgroundThreads(bad), /^Error: lower background threads: the increment must be an integer 0-19, got /)
  }
})

test('increment 0, or no /proc, changes nothing', linuxOnly, () => {
  const before = niceByThread('self')
  assert.equal(lowerBackgroundThreads(0), null)
  assert.equal(lowerBackgroundThreads(5, join(tmpdir(), 'wharf-no-such-proc-dir')), null)
  assert.deepEqual(niceByThread('self'), before)
})

test('every thread but the event loop goes the increment below it, capped at 19', { ...linuxOnly, timeout: 20_000 }, async () => {
  const worker = new Worker('setInterval(() => {}, 1000)', { eval: true })
  await new Promise<void>(resolve => worker.once('online', () => resolve()))
  try {
    const eventLoopNice = niceByThread('self').get(process.pid)
    assert.equal(typeof eventLoopNice, 'number')
    const lowered = lowerBackgroundThreads(5)
    const threads = niceByThread('self')
    assert.ok(threads.size >= 3, `threads: ${threads.size}`)
    assert.deepEqual(lowered, { nice: Math.min(19, (eventLoopNice as number) + 5), threads: threads.size - 1 })
    for (const [tid, nice] of threads) assert.equal(nice, tid === process.pid ? eventLoopNice : lowered?.nice, `thread ${tid}`)
    // Again with a larger step: the result is capped, never past 19.
    assert.equal(lowerBackgroundThreads(19)?.nice, 19)
  } finally {
    await worker.terminate()
  }
})

test('a broker started with the defaults runs its other threads 10 below its event loop', { ...linuxOnly, timeout: 60_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'wharf-threads-'))
  const broker = await startBrokerProcess(dataDir)
  try {
    const pid = broker.child.pid as number
    const threads = niceByThread(pid)
    const eventLoop = threads.get(pid) as number
    const others = [...threads].filter(([tid]) => tid !== pid)
    // V8's platform workers, libuv's pool and the WAL checkpointer's worker at least.
    assert.ok(others.length >= 5, `threads: ${JSON.stringify([...threads])}`)
    for (const [tid, nice] of others) assert.equal(nice, Math.min(19, eventLoop + 10), `thread ${tid} of ${JSON.stringify([...threads])}`)
  } finally {
    assert.equal(await broker.terminate(), 0)
    rmSync(dataDir, { recursive: true, force: true })
  }
})
