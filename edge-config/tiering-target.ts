// Where sealed segments go, as configured: tiering.url checked with core's one tiering URL parser
// (core/tiering/tiering-url.ts, which the daemon and `wharf segments` use too), and the defaults
// that depend on other fields (dataDir) or on the environment (AWS_REGION) resolved here.
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseTieringUrl } from '../core/tiering/tiering-url.ts'
import type { WharfConfig } from './config-types.ts'

/** Why `url` is not a tiering URL (a phrase such as "has a query or fragment"), or null when it is one. */
export function tieringUrlProblem(url: string): string | null {
  const parsed = parseTieringUrl(url)
  return parsed.kind === 'invalid' ? parsed.problem : null
}

/** tiering.url, with null resolved to file://<absolute dataDir>/cold. */
export function tieringUrl(config: Pick<WharfConfig, 'dataDir' | 'tiering'>): string {
  return config.tiering.url ?? pathToFileURL(resolve(config.dataDir, 'cold')).href
}

/** tiering.s3.region, with null resolved to AWS_REGION from `env`, else us-east-1. */
export function s3Region(config: Pick<WharfConfig, 'tiering'>, env: Readonly<Record<string, string | undefined>>): string {
  const fromEnv = env.AWS_REGION
  return config.tiering.s3.region ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : 'us-east-1')
}
