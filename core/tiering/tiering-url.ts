// The one parser of cold-tier URLs (tiering.url, `wharf segments --url`): a target, or the problem
// with the URL as a phrase ("has a query or fragment") that callers put after the field or flag.
//
//   file:///<absolute dir>       percent-decoded as file URLs are (pathToFileURL writes %20 for a space)
//   s3://<bucket>[/<prefix>][/]  bucket by S3's naming rules; the prefix taken literally, as the AWS
//                                CLI takes s3:// paths (segment keys hold '%2F' for the vhost '/'),
//                                without empty levels; one trailing '/' is allowed and dropped
//
// Credentials, endpoint and region never sit in the URL: they come from tiering.s3 and the AWS
// environment, resolved by the caller.
import { fileURLToPath } from 'node:url'

export type TieringTarget =
  | { readonly kind: 'file' /** Absolute directory. */; readonly dir: string }
  | { readonly kind: 's3'; readonly bucket: string /** '' or levels joined by '/', without leading or trailing '/'. */; readonly prefix: string }

export type ParsedTieringUrl = TieringTarget | { readonly kind: 'invalid'; readonly problem: string }

/** What a tiering URL may be, for error messages. */
export const TIERING_URL_FORMS = 'file:///<absolute dir> or s3://<bucket>[/<prefix>]'

/** S3 bucket naming rules (DNS-compatible, as path-style and virtual-host style both need). */
const bucketPattern = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/

export function parseTieringUrl(url: string): ParsedTieringUrl {
  if (url.startsWith('file:')) return parseFileUrl(url)
  if (url.startsWith('s3:')) return parseS3Url(url)
  return invalid('has a scheme other than file: and s3:')
}

function parseFileUrl(url: string): ParsedTieringUrl {
  // new URL('file:./x') quietly means /x: only the absolute form says what it means.
  if (!url.startsWith('file:///')) return invalid('has a host or no absolute path (file:///<dir>)')
  if (/[?#]/.test(url)) return invalid('has a query or fragment')
  try {
    return { kind: 'file', dir: fileURLToPath(url) }
  } catch (err) {
    return invalid(`is not a file path (${(err as Error).message})`)
  }
}

function parseS3Url(url: string): ParsedTieringUrl {
  if (!url.startsWith('s3://')) return invalid('is not s3://<bucket>[/<prefix>]')
  const rest = url.slice('s3://'.length)
  if (/[?#]/.test(rest)) return invalid('has a query or fragment')
  const slash = rest.indexOf('/')
  const bucket = slash < 0 ? rest : rest.slice(0, slash)
  const path = slash < 0 ? '' : rest.slice(slash + 1)
  if (bucket.includes('@')) return invalid('has credentials in it (they come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)')
  if (bucket.includes(':')) return invalid('has a port (an S3-compatible endpoint is tiering.s3.endpoint)')
  if (!bucketPattern.test(bucket) || bucket.includes('..'))
    return invalid(`has bucket '${bucket}', not an S3 bucket name (3-63 characters a-z 0-9 . -, starting and ending with a letter or digit)`)
  const prefix = path.endsWith('/') ? path.slice(0, -1) : path
  if (/[\\\u0000]/.test(prefix)) return invalid("has '\\' or NUL in its prefix")
  if (prefix !== '' && prefix.split('/').some(level => level === '')) return invalid("has an empty level in its prefix (a leading or doubled '/')")
  return { kind: 's3', bucket, prefix }
}

function invalid(problem: string): ParsedTieringUrl {
  return { kind: 'invalid', problem }
}
