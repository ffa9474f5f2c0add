// A small file written so that a crash leaves either nothing or the whole file: a temporary file,
// fsync, rename, then fsync of the directory (the rename is durable once the directory entry is).
import { randomBytes } from 'node:crypto'
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs'

export function writeFileDurably(dir: string, file: string, bytes: Buffer, mode: number): void {
  mkdirSync(dir, { recursive: true })
  const tmp = `${file}.tmp-${randomBytes(6).toString('hex')}`
  const fd = openSync(tmp, 'wx', mode)
  try {
    writeSync(fd, bytes)
    fsyncSync(fd)
  } catch (err) {
    closeSync(fd)
    unlinkSync(tmp)
    throw err
  }
  closeSync(fd)
  renameSync(tmp, file)
  const d = openSync(dir, 'r')
  try {
    fsyncSync(d)
  } finally {
    closeSync(d)
  }
}
