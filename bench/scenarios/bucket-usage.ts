import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'
import type { S3Target } from '../brokers/wharf-tiered.ts'

export interface BucketUsage {
  readonly objects: number
  readonly bytes: number
}

const LIST_PAGES_MAX = 10_000

/**
 * Every object in the bucket and the sum of their sizes, by ListObjectsV2 straight from the SDK
 * (not through Wharf's object store), so the stored-bytes figure does not rest on Wharf's own count.
 */
export async function bucketUsage(s3: S3Target): Promise<BucketUsage> {
  // The SDK warns once per process about Node 20 reaching its end of support: noise in a report.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true'
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }
  })
  try {
    let objects = 0
    let bytes = 0
    let token: string | undefined
    for (let page = 0; page < LIST_PAGES_MAX; page++) {
      const res = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket, ...(token === undefined ? {} : { ContinuationToken: token }) }))
      for (const object of res.Contents ?? []) {
        objects++
        bytes += object.Size ?? 0
      }
      if (res.IsTruncated !== true) return { objects, bytes }
      token = res.NextContinuationToken
      if (token === undefined) throw new Error('truncated page without a continuation token')
    }
    throw new Error(`more than ${LIST_PAGES_MAX} pages`)
  } catch (err) {
    throw new Error(`s3: list bucket ${s3.bucket}: ${err instanceof Error ? err.message : String(err)}`)
  } finally {
    client.destroy()
  }
}
