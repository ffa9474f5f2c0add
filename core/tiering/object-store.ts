// The object store behind the cold tier: five operations, with one meaning of "not found" for
// every backend (as litestream's replica client). Two implementations: a local directory (the
// embedded default) and S3 (any S3-compatible endpoint). One contract suite runs against both.

/** A byte range of an object: `length` bytes from `offset`. */
export interface ByteRange {
  readonly offset: number
  readonly length: number
}

export interface ObjectInfo {
  readonly key: string
  readonly sizeBytes: number
}

/** Requests made, so tests and metrics can count GETs (prefetch, cache hits) and puts. */
export interface ObjectStoreStats {
  puts: number
  gets: number
  getBytes: number
  lists: number
  deletes: number
  failures: number
}

export interface ObjectStore {
  /** For logs and errors: `dir /abs/path` or `s3://bucket/prefix`. */
  readonly description: string
  readonly stats: ObjectStoreStats
  /** Writes the whole object; after it resolves the object is durable and readable. Overwrites. */
  put(key: string, body: Buffer): Promise<void>
  /**
   * The object, or the given range of it. Throws ObjectNotFoundError when there is no such key and
   * ObjectRangeError when the range is not wholly inside the object (never a short read).
   */
  get(key: string, range?: ByteRange): Promise<Buffer>
  /** Size of the object, or null when there is no such key. */
  head(key: string): Promise<ObjectInfo | null>
  /** Every object whose key starts with prefix, in key order (all pages). */
  list(prefix: string): Promise<ObjectInfo[]>
  /** Removes the object; removing a missing key is not an error. */
  delete(key: string): Promise<void>
  /** Releases connections (the S3 client's sockets); the store is not used after it. Idempotent. */
  close(): Promise<void>
}

/** S3's key order (UTF-8 bytes), which every backend's list returns; JS's default sort is UTF-16. */
export function compareObjectKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

/** A range the caller asked for that the object does not wholly hold: a bug or a wrong index, not "not found". */
export class ObjectRangeError extends Error {
  readonly code = 'OBJECT_RANGE'
  constructor(
    readonly key: string,
    readonly range: ByteRange,
    readonly sizeBytes: number | null,
    where: string
  ) {
    const size = sizeBytes === null ? 'a shorter object' : `an object of ${sizeBytes} bytes`
    super(`${where}: get ${key} bytes ${range.offset}-${range.offset + range.length - 1}: range outside ${size}`)
    this.name = 'ObjectRangeError'
  }
}

/** Ranges are built from a segment index, so a bad one is a programmer error. */
export function assertValidRange(range: ByteRange): void {
  if (!Number.isSafeInteger(range.offset) || range.offset < 0 || !Number.isSafeInteger(range.length) || range.length < 1) {
    throw new RangeError(`object store: invalid byte range offset=${range.offset} length=${range.length} (offset >= 0, length >= 1)`)
  }
}

/** The one "not found" every backend maps its own to. */
export class ObjectNotFoundError extends Error {
  readonly code = 'OBJECT_NOT_FOUND'
  constructor(
    readonly key: string,
    where: string
  ) {
    super(`${where}: get ${key}: no such object`)
    this.name = 'ObjectNotFoundError'
  }
}

export function isObjectNotFound(err: unknown): err is ObjectNotFoundError {
  return err instanceof ObjectNotFoundError
}
