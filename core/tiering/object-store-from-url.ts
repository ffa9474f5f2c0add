// The one place a cold-tier URL becomes an object store (the daemon's tiering.url and
// `wharf segments --url` both come here): parsed by tiering-url.ts, refused with its problem.
// S3 settings arrive resolved (the region default from AWS_REGION is the caller's business):
// core reads no environment.
import { DirectoryObjectStore } from './directory-object-store.ts'
import type { ObjectStore } from './object-store.ts'
import { S3ObjectStore } from './s3-object-store.ts'
import { TIERING_URL_FORMS, parseTieringUrl, type TieringTarget } from './tiering-url.ts'

export interface ObjectStoreUrlOptions {
  /** An S3-compatible endpoint, or null for AWS. */
  readonly s3Endpoint: string | null
  readonly s3ForcePathStyle: boolean
  readonly s3Region: string
}

/** The store of a URL tieringUrlProblem accepts; throws naming the URL and the problem otherwise. */
export function objectStoreFromUrl(url: string, opts: ObjectStoreUrlOptions): ObjectStore {
  const parsed = parseTieringUrl(url)
  if (parsed.kind === 'invalid') throw new Error(`object store url ${JSON.stringify(url)} ${parsed.problem}; allowed: ${TIERING_URL_FORMS}`)
  return objectStoreFor(parsed, opts)
}

export function objectStoreFor(target: TieringTarget, opts: ObjectStoreUrlOptions): ObjectStore {
  if (target.kind === 'file') return new DirectoryObjectStore(target.dir)
  return new S3ObjectStore({
    bucket: target.bucket,
    prefix: target.prefix,
    endpoint: opts.s3Endpoint,
    region: opts.s3Region,
    forcePathStyle: opts.s3ForcePathStyle
  })
}
