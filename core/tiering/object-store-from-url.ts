// The one place a configured cold-tier URL becomes an object store: `file:///abs/dir` or
// `s3://bucket/prefix`. Credentials never sit in the URL; S3 takes them from the AWS environment.

import { fileURLToPath } from 'node:url'
import { DirectoryObjectStore } from './directory-object-store.ts'
import type { ObjectStore } from './object-store.ts'
import { S3ObjectStore } from './s3-object-store.ts'

export interface ObjectStoreUrlOptions {
  /** An S3-compatible endpoint, or null for AWS. */
  readonly s3Endpoint: string | null
  readonly s3ForcePathStyle: boolean
  /** Null: AWS_REGION, then 'us-east-1'. */
  readonly s3Region: string | null
}

const ALLOWED = "allowed: 'file:///absolute/dir' or 's3://bucket/prefix'"

export function objectStoreFromUrl (url: string, opts: ObjectStoreUrlOptions): ObjectStore {
  const refuse = (why: string): Error => new Error(`object store url ${JSON.stringify(url)}: ${why}; ${ALLOWED}`)
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw refuse('not a URL')
  }
  if (parsed.search !== '' || parsed.hash !== '') throw refuse('query and fragment are not allowed')
  if (parsed.protocol === 'file:') {
    // new URL('file:./x') quietly means /x; only the absolute form says what it means.
    if (!url.startsWith('file:///')) throw refuse('a file URL must be absolute (three slashes)')
    return new DirectoryObjectStore(fileURLToPath(parsed))
  }
  if (parsed.protocol === 's3:') {
    if (parsed.username !== '' || parsed.password !== '') throw refuse('credentials in the URL are not allowed (use AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)')
    if (parsed.hostname === '' || parsed.port !== '') throw refuse('the host part must be a bucket name')
    const prefix = decodeURIComponent(parsed.pathname).replace(/^\/+|\/+$/g, '')
    return new S3ObjectStore({
      bucket: parsed.hostname,
      prefix,
      endpoint: opts.s3Endpoint,
      region: opts.s3Region,
      forcePathStyle: opts.s3ForcePathStyle
    })
  }
  throw refuse(`scheme '${parsed.protocol}' is not supported`)
}
