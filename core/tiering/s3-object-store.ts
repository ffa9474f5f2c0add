// The cold tier on S3 or any S3-compatible store (MinIO, Ceph, s3rver). Keys are relative to a
// prefix inside the bucket. Requests are bounded in time and retried little, so an outage reaches
// the caller quickly: the uploader has its own backoff and keeps data local meanwhile (§5).

import { createRequire } from 'node:module'
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3'
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

export interface S3ObjectStoreOptions {
  readonly bucket: string
  /** Key prefix inside the bucket, without leading or trailing '/' ('' for the bucket root). */
  readonly prefix: string
  /** An S3-compatible endpoint (`http://127.0.0.1:9000`); null or absent for AWS. */
  readonly endpoint?: string | null
  /** Null or absent: 'us-east-1'. The AWS_REGION default is resolved by the caller (core reads no environment). */
  readonly region?: string | null
  /** Path-style URLs (`endpoint/bucket/key`), which most S3-compatible stores need. */
  readonly forcePathStyle: boolean
  /** Absent: the SDK's standard chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles, ...). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string }
  /** Keys per ListObjectsV2 page (S3's maximum and default is 1000). */
  readonly listPageSize?: number
  readonly connectTimeoutMs?: number
  /** Whole request, body included: bounds a segment upload over a slow link. */
  readonly requestTimeoutMs?: number
  /** Tries per request, the first included. */
  readonly maxAttempts?: number
}

export const S3_DEFAULTS = {
  listPageSize: 1000,
  connectTimeoutMs: 5_000,
  requestTimeoutMs: 60_000,
  maxAttempts: 2,
  region: 'us-east-1'
} as const

// The SDK is loaded by the first S3 store, not by importing this module: a broker whose cold tier is a
// directory does not carry it (about 20 MB of resident memory).
type S3Sdk = typeof import('@aws-sdk/client-s3')
let loadedSdk: S3Sdk | undefined
function s3Sdk(): S3Sdk {
  loadedSdk ??= createRequire(import.meta.url)('@aws-sdk/client-s3') as S3Sdk
  return loadedSdk
}

/** Bounds a paginated listing whose server keeps answering "truncated": a server bug, not data. */
const LIST_PAGES_MAX = 1_000_000

export class S3ObjectStore implements ObjectStore {
  readonly description: string
  readonly stats: ObjectStoreStats = { puts: 0, gets: 0, getBytes: 0, lists: 0, deletes: 0, failures: 0 }
  private readonly sdk: S3Sdk = s3Sdk()
  private readonly client: S3Client
  private readonly bucket: string
  private readonly prefix: string
  private readonly listPageSize: number

  constructor(options: S3ObjectStoreOptions) {
    this.bucket = options.bucket
    this.prefix = options.prefix.replace(/^\/+|\/+$/g, '')
    this.listPageSize = options.listPageSize ?? S3_DEFAULTS.listPageSize
    if (!Number.isSafeInteger(this.listPageSize) || this.listPageSize < 1 || this.listPageSize > 1000) {
      throw new RangeError(`s3: listPageSize ${this.listPageSize}: must be an integer from 1 to 1000`)
    }
    this.description = `s3://${this.bucket}/${this.prefix}`
    this.client = new this.sdk.S3Client(clientConfig(options))
  }

  async put(key: string, body: Buffer): Promise<void> {
    this.stats.puts++
    try {
      await this.client.send(
        new this.sdk.PutObjectCommand({
          Bucket: this.bucket,
          Key: this.fullKey(key),
          Body: body,
          ContentLength: body.length
        })
      )
    } catch (err) {
      throw this.failure('put', key, err)
    }
  }

  async get(key: string, range?: ByteRange): Promise<Buffer> {
    this.stats.gets++
    if (range !== undefined) assertValidRange(range)
    let body: Buffer
    try {
      const res = await this.client.send(
        new this.sdk.GetObjectCommand({
          Bucket: this.bucket,
          Key: this.fullKey(key),
          ...(range === undefined ? {} : { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` })
        })
      )
      body = res.Body === undefined ? Buffer.alloc(0) : Buffer.from(await res.Body.transformToByteArray())
    } catch (err) {
      if (isNotFound(err)) throw new ObjectNotFoundError(key, 's3')
      // 416: the range starts at or after the end of the object.
      if (range !== undefined && httpStatus(err) === 416) throw new ObjectRangeError(key, range, null, 's3')
      throw this.failure('get', key, err)
    }
    // S3 answers a range that runs past the end with the bytes it has; the contract is no short reads.
    if (range !== undefined && body.length !== range.length) throw new ObjectRangeError(key, range, null, 's3')
    this.stats.getBytes += body.length
    return body
  }

  async head(key: string): Promise<ObjectInfo | null> {
    try {
      const res = await this.client.send(new this.sdk.HeadObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }))
      return { key, sizeBytes: res.ContentLength ?? 0 }
    } catch (err) {
      // A HEAD answer has no body, so a missing bucket is a bare 404 too.
      if (isNotFound(err)) return null
      throw this.failure('head', key, err)
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    this.stats.lists++
    const found: ObjectInfo[] = []
    const strip = this.prefix === '' ? 0 : this.prefix.length + 1
    let token: string | undefined
    try {
      for (let page = 0; page < LIST_PAGES_MAX; page++) {
        const res = await this.client.send(
          new this.sdk.ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.fullKey(prefix),
            MaxKeys: this.listPageSize,
            ...(token === undefined ? {} : { ContinuationToken: token })
          })
        )
        for (const object of res.Contents ?? []) {
          if (object.Key !== undefined) found.push({ key: object.Key.slice(strip), sizeBytes: object.Size ?? 0 })
        }
        if (res.IsTruncated !== true) return found.sort((a, b) => compareObjectKeys(a.key, b.key))
        if (res.NextContinuationToken === undefined) throw new Error('truncated page without a continuation token')
        token = res.NextContinuationToken
      }
      throw new Error(`more than ${LIST_PAGES_MAX} pages`)
    } catch (err) {
      throw this.failure('list', prefix, err)
    }
  }

  async delete(key: string): Promise<void> {
    this.stats.deletes++
    try {
      await this.client.send(new this.sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }))
    } catch (err) {
      if (isNotFound(err)) return
      throw this.failure('delete', key, err)
    }
  }

  async close(): Promise<void> {
    this.client.destroy()
  }

  private fullKey(key: string): string {
    return this.prefix === '' ? key : `${this.prefix}/${key}`
  }

  private failure(op: string, key: string, err: unknown): Error {
    this.stats.failures++
    return new Error(`s3: ${op} s3://${this.bucket}/${this.fullKey(key)}: ${describeCause(err)}`, { cause: err })
  }
}

function clientConfig(options: S3ObjectStoreOptions): S3ClientConfig {
  const endpoint = options.endpoint ?? null
  return {
    region: options.region ?? S3_DEFAULTS.region,
    forcePathStyle: options.forcePathStyle,
    maxAttempts: options.maxAttempts ?? S3_DEFAULTS.maxAttempts,
    requestHandler: {
      connectionTimeout: options.connectTimeoutMs ?? S3_DEFAULTS.connectTimeoutMs,
      requestTimeout: options.requestTimeoutMs ?? S3_DEFAULTS.requestTimeoutMs,
      throwOnRequestTimeout: true
    },
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    ...(endpoint === null
      ? {}
      : {
          endpoint,
          // S3-compatible stores mostly do not know the SDK's default CRC trailers (aws-chunked bodies).
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED'
        })
  }
}

function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode
}

/** NoSuchKey (GET), NotFound (HEAD), or any other 404 except a missing bucket, which is a setup error. */
function isNotFound(err: unknown): boolean {
  const name = (err as { name?: string } | null)?.name
  if (name === 'NoSuchKey' || name === 'NotFound') return true
  return httpStatus(err) === 404 && name !== 'NoSuchBucket'
}

/** The SDK's message, or the socket's code when the message is empty (an AggregateError of connect attempts). */
function describeCause(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const code = (err as NodeJS.ErrnoException).code
  const status = httpStatus(err)
  const text = err.message !== '' ? err.message : (code ?? err.name)
  const parts = [err.name !== 'Error' && !text.includes(err.name) ? `${err.name}: ${text}` : text]
  if (status !== undefined) parts.push(`(HTTP ${status})`)
  return parts.join(' ')
}
