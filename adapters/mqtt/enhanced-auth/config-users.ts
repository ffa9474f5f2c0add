// auth.users as the SCRAM-SHA-256 method's credential source: parsed once, looked up by exact name.
import type { UserConfig } from '../../../edge-config/config-types.ts'
import { parseScramCredentials, scramIterationsDefault, type ScramCredentials } from '../../../core/auth/scram-credentials.ts'

export interface ScramUsers {
  credentials: (username: string) => ScramCredentials | undefined
  /** The iteration count most users have, so an unknown name is announced like a typical real one. */
  unknownUserIterations: number
}

/** Spread into ScramSha256's options: `new ScramSha256({ ...scramUsersFromConfig(users), serverSecret })`. */
export function scramUsersFromConfig (users: readonly UserConfig[]): ScramUsers {
  // A Map, not an object: a username such as '__proto__' must not find anything but its own entry.
  const byName = new Map<string, ScramCredentials>()
  const iterationCounts = new Map<number, number>()
  for (const user of users) {
    // validateConfig refused malformed strings; a user without scramSha256 cannot use SCRAM.
    const credentials = user.scramSha256 === undefined ? null : parseScramCredentials(user.scramSha256)
    if (credentials === null) continue
    byName.set(user.username, credentials)
    iterationCounts.set(credentials.iterations, (iterationCounts.get(credentials.iterations) ?? 0) + 1)
  }
  let unknownUserIterations = scramIterationsDefault
  let most = 0
  for (const [iterations, count] of iterationCounts) {
    if (count > most) { most = count; unknownUserIterations = iterations }
  }
  return { credentials: name => byName.get(name), unknownUserIterations }
}
