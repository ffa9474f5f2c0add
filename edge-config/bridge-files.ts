// The files a bridge reads at each connect: its TLS CA bundle, client certificate and key. `wharf
// check-config` says when one cannot be read; without it a missing file showed only once the broker
// ran, as a bridge retrying for ever. Not a start-up check: a bridge reads its files again at each
// connect (a renewed certificate is picked up without a restart), so a broker whose bridge file is
// missing starts, serves its local clients, and shows that bridge in state error naming the file.
import { readFileSync } from 'node:fs'
import { ConfigError } from './config-error.ts'
import type { WharfConfig } from './config-types.ts'

const TLS_FILES = ['caFile', 'certFile', 'keyFile'] as const

/** One error per bridge TLS file that cannot be read, named by field, value and cause. */
export function bridgeFileProblems(c: WharfConfig, source?: string): ConfigError[] {
  const problems: ConfigError[] = []
  c.bridges.forEach((b, i) => {
    for (const key of TLS_FILES) {
      const file = b.tls[key]
      if (file === null) continue
      try {
        readFileSync(file)
      } catch (err) {
        problems.push(
          new ConfigError({ field: `bridges[${i}].tls.${key}`, value: file, allowed: `must be a readable file: ${(err as Error).message}`, source })
        )
      }
    }
  })
  return problems
}
