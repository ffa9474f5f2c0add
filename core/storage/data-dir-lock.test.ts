import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DataDirLockedError, lockDataDir } from './data-dir-lock.ts'

test('a second lock on the same directory is refused naming the directory and the holder; released, it can be taken again', t => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-lock-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const first = lockDataDir(dir, 4242)
  // SQLite's locks are shared between connections of one process, so a second connection here stands for a second process.
  assert.throws(
    () => lockDataDir(dir, 4343),
    (err: unknown) => {
      assert.ok(err instanceof DataDirLockedError)
      assert.equal(err.holderPid, 4242)
      assert.match(err.message, new RegExp(`data directory ${dir} is locked by another wharf process \\(pid 4242\\)`))
      return true
    }
  )
  first.release()
  first.release()
  const again = lockDataDir(dir, 4343)
  again.release()
})

test('creates the directory; a path under a regular file is refused naming the directory', t => {
  const root = mkdtempSync(join(tmpdir(), 'wharf-lock-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  lockDataDir(join(root, 'a', 'b')).release()
  writeFileSync(join(root, 'file'), '')
  assert.throws(() => lockDataDir(join(root, 'file', 'data')), /data directory .*file\/data: create: ENOTDIR/)
})
