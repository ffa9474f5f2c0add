// The embedded cold tier: one file per object under a root directory, key '/' = directory
// separator. Writes go to `<file>.tmp-<random>`, fsync, rename, fsync the directory (as litestream's
// file replica), so a crash leaves either the old object or the new one, never a torn one.
// A key cannot be both an object and a "directory" of other keys here (S3 allows it; Wharf's
// segment keys never do it).

import { randomBytes } from 'node:crypto'
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import path from 'node:path'
import {
  ObjectNotFoundError,
  ObjectRangeError,
  assertValidRange,
  compareObjectKeys,
  type ByteRange,
  type ObjectInfo,
  type ObjectStore,
  type ObjectStoreStats
} from './object-store.ts'

const TMP_MARK = '.tmp-'
/** fs codes that mean "no object at this key": missing, a directory, or a file where a directory should be. */
const MISSING_CODES = new Set(['ENOENT', 'ENOTDIR', 'EISDIR'])

export class DirectoryObjectStore implements ObjectStore {
  readonly rootDir: string
  readonly description: string
  readonly stats: ObjectStoreStats = { puts: 0, gets: 0, getBytes: 0, lists: 0, deletes: 0, failures: 0 }

  constructor(rootDir: string) {
    this.rootDir = path.resolve(rootDir)
    this.description = `dir ${this.rootDir}`
  }

  async put(key: string, body: Buffer): Promise<void> {
    this.stats.puts++
    const file = this.fileOf('put', key)
    const tmp = `${file}${TMP_MARK}${randomBytes(6).toString('hex')}`
    try {
      const firstCreated = await mkdir(path.dirname(file), { recursive: true })
      await writeDurably(tmp, body)
      await rename(tmp, file)
      await fsyncCreatedDirs(path.dirname(file), firstCreated)
    } catch (err) {
      this.stats.failures++
      await unlink(tmp).catch(() => {})
      throw this.failure('put', key, err)
    }
  }

  async get(key: string, range?: ByteRange): Promise<Buffer> {
    this.stats.gets++
    if (range !== undefined) assertValidRange(range)
    const file = this.fileOf('get', key)
    let handle: FileHandle
    try {
      handle = await open(file, 'r')
    } catch (err) {
      if (isMissing(err)) throw new ObjectNotFoundError(key, 'dir')
      this.stats.failures++
      throw this.failure('get', key, err)
    }
    try {
      const body = range === undefined ? await handle.readFile() : await this.readRange(handle, key, range)
      this.stats.getBytes += body.length
      return body
    } catch (err) {
      if (err instanceof ObjectRangeError) throw err
      // A directory opens fine on Linux and fails on read: it is no object.
      if (isMissing(err)) throw new ObjectNotFoundError(key, 'dir')
      this.stats.failures++
      throw this.failure('get', key, err)
    } finally {
      await handle.close()
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const file = this.fileOf('head', key)
    try {
      const info = await stat(file)
      return info.isFile() ? { key, sizeBytes: info.size } : null
    } catch (err) {
      if (isMissing(err)) return null
      this.stats.failures++
      throw this.failure('head', key, err)
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    this.stats.lists++
    // Walk only the directory the prefix ends in; its last part may be a partial name ('segments/se').
    const dirKey = prefix.slice(0, prefix.lastIndexOf('/') + 1)
    const dir = dirKey === '' ? this.rootDir : this.fileOf('list', dirKey.slice(0, -1))
    try {
      const found: ObjectInfo[] = []
      await walk(dir, dirKey, prefix, found)
      return found.sort((a, b) => compareObjectKeys(a.key, b.key))
    } catch (err) {
      this.stats.failures++
      throw this.failure('list', prefix, err)
    }
  }

  async delete(key: string): Promise<void> {
    this.stats.deletes++
    const file = this.fileOf('delete', key)
    try {
      await unlink(file)
    } catch (err) {
      if (isMissing(err)) return
      this.stats.failures++
      throw this.failure('delete', key, err)
    }
  }

  async close(): Promise<void> {}

  private async readRange(handle: FileHandle, key: string, range: ByteRange): Promise<Buffer> {
    const { size } = await handle.stat()
    if (range.offset + range.length > size) throw new ObjectRangeError(key, range, size, 'dir')
    const body = Buffer.alloc(range.length)
    let filled = 0
    while (filled < range.length) {
      const { bytesRead } = await handle.read(body, filled, range.length - filled, range.offset + filled)
      if (bytesRead === 0) throw new ObjectRangeError(key, range, range.offset + filled, 'dir')
      filled += bytesRead
    }
    return body
  }

  /** The file of a key; refuses keys that would leave the root or that list would hide. */
  private fileOf(op: string, key: string): string {
    const why = invalidKeyReason(key)
    if (why !== null) throw new Error(`dir: ${op} ${JSON.stringify(key)}: invalid key: ${why}`)
    return path.join(this.rootDir, ...key.split('/'))
  }

  private failure(op: string, key: string, err: unknown): Error {
    const cause = err instanceof Error ? err.message : String(err)
    return new Error(`dir: ${op} ${path.join(this.rootDir, key)}: ${cause}`, { cause: err })
  }
}

function invalidKeyReason(key: string): string | null {
  if (key === '') return 'empty'
  if (key.startsWith('/')) return 'absolute (keys are relative to the store root)'
  if (key.includes('\0')) return 'contains NUL'
  if (key.includes('\\')) return 'contains a backslash'
  for (const part of key.split('/')) {
    if (part === '') return "empty path part ('//' or a trailing '/')"
    if (part === '.' || part === '..') return `path part '${part}' is not allowed`
    if (part.includes(TMP_MARK)) return `'${TMP_MARK}' marks unfinished writes and is not allowed in keys`
  }
  return null
}

async function writeDurably(file: string, body: Buffer): Promise<void> {
  const handle = await open(file, 'wx')
  try {
    await handle.writeFile(body)
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Makes the rename durable, and every directory mkdir just created (each lives in its parent's entries). */
async function fsyncCreatedDirs(fileDir: string, firstCreated: string | undefined): Promise<void> {
  const dirs = [fileDir]
  if (firstCreated !== undefined) {
    for (let dir = fileDir; dir !== firstCreated && dir !== path.dirname(dir); ) {
      dir = path.dirname(dir)
      dirs.push(dir)
    }
    dirs.push(path.dirname(firstCreated))
  }
  for (const dir of dirs) {
    const handle = await open(dir, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  }
}

async function walk(dir: string, dirKey: string, prefix: string, found: ObjectInfo[]): Promise<void> {
  let entries
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch (err) {
    if (isMissing(err)) return
    throw err
  }
  for (const entry of entries) {
    if (entry.name.includes(TMP_MARK)) continue
    const key = dirKey + entry.name
    if (entry.isDirectory()) {
      // Descend only where keys can still start with the prefix.
      const sub = key + '/'
      if (sub.startsWith(prefix) || prefix.startsWith(sub)) await walk(path.join(dir, entry.name), sub, prefix, found)
    } else if (entry.isFile() && key.startsWith(prefix)) {
      const info = await stat(path.join(dir, entry.name)).catch((err: unknown) => {
        if (isMissing(err)) return null
        throw err
      })
      if (info !== null) found.push({ key, sizeBytes: info.size })
    }
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code
  return code !== undefined && MISSING_CODES.has(code)
}
