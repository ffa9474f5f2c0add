// Where sealed segments go: tiering.url parsed into a local directory or an S3 bucket and prefix, and
// the defaults that depend on other fields (dataDir) or on the environment (AWS_REGION) resolved.
import { resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { WharfConfig } from './config-types.ts'

export type TieringTarget =
  | { kind: 'file', /** Absolute directory. */ dir: string }
  | { kind: 's3', bucket: string, /** '' or levels joined by '/', without leading or trailing '/'. */ prefix: string }

/** S3 bucket naming rules (DNS-compatible, as path-style and virtual-host style both need). */
const bucketPattern = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/

/** Why `url` is not a tiering URL (a phrase such as "has a query or fragment"), or null when it is one. */
export function tieringUrlProblem (url: string): string | null {
  if (url.startsWith('file:')) {
    if (!url.startsWith('file:///')) return 'has a host or no absolute path (file:///<dir>)'
    if (/[?#]/.test(url)) return 'has a query or fragment'
    try {
      fileURLToPath(url)
    } catch (err) {
      return `is not a file path (${(err as Error).message})`
    }
    return null
  }
  if (url.startsWith('s3://')) {
    const rest = url.slice('s3://'.length)
    const slash = rest.indexOf('/')
    const bucket = slash < 0 ? rest : rest.slice(0, slash)
    const prefix = slash < 0 ? '' : rest.slice(slash + 1)
    if (!bucketPattern.test(bucket) || bucket.includes('..')) return `has bucket '${bucket}', not an S3 bucket name (3-63 characters a-z 0-9 . -, starting and ending with a letter or digit)`
    if (/[?#\\\u0000]/.test(prefix)) return "has '?', '#', '\\' or NUL in its prefix"
    if (prefix !== '' && prefix.split('/').some(level => level === '')) return "has an empty level in its prefix (a leading, trailing or doubled '/')"
    return null
  }
  return 'has a scheme other than file: and s3:'
}

/** Parses a URL that tieringUrlProblem() accepts; throws on one it refuses. */
export function parseTieringUrl (url: string): TieringTarget {
  const problem = tieringUrlProblem(url)
  if (problem !== null) throw new Error(`tiering url ${JSON.stringify(url)}: ${problem}`)
  if (url.startsWith('file:')) return { kind: 'file', dir: fileURLToPath(url) }
  const rest = url.slice('s3://'.length)
  const slash = rest.indexOf('/')
  return slash < 0 ? { kind: 's3', bucket: rest, prefix: '' } : { kind: 's3', bucket: rest.slice(0, slash), prefix: rest.slice(slash + 1) }
}

/** tiering.url, with null resolved to file://<absolute dataDir>/cold. */
export function tieringUrl (config: Pick<WharfConfig, 'dataDir' | 'tiering'>): string {
  return config.tiering.url ?? pathToFileURL(resolve(config.dataDir, 'cold')).href
}

/** The resolved cold tier: tieringUrl(config) parsed. */
export function tieringTarget (config: Pick<WharfConfig, 'dataDir' | 'tiering'>): TieringTarget {
  return parseTieringUrl(tieringUrl(config))
}

/** tiering.s3.region, with null resolved to AWS_REGION from `env`, else us-east-1. */
export function s3Region (config: Pick<WharfConfig, 'tiering'>, env: Readonly<Record<string, string | undefined>>): string {
  const fromEnv = env.AWS_REGION
  return config.tiering.s3.region ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : 'us-east-1')
}
