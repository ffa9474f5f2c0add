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
  put (key: string, body: Buffer): Promise<void>
  /** The object, or the given range of it. Throws ObjectNotFoundError when there is no such key. */
  get (key: string, range?: ByteRange): Promise<Buffer>
  /** Size of the object, or null when there is no such key. */
  head (key: string): Promise<ObjectInfo | null>
  /** Every object whose key starts with prefix, in key order (all pages). */
  list (prefix: string): Promise<ObjectInfo[]>
  /** Removes the object; removing a missing key is not an error. */
  delete (key: string): Promise<void>
}

/** The one "not found" every backend maps its own to. */
export class ObjectNotFoundError extends Error {
  readonly code = 'OBJECT_NOT_FOUND'
  constructor (readonly key: string, where: string) {
    super(`${where}: get ${key}: no such object`)
    this.name = 'ObjectNotFoundError'
  }
}

export function isObjectNotFound (err: unknown): err is ObjectNotFoundError {
  return err instanceof ObjectNotFoundError
}
