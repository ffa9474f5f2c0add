// The users' SCRAM-SHA-256 credentials as the method's source: looked up by exact name at each login,
// so credentials set at runtime (the access store) apply at once.
import { parseScramCredentials, scramIterationsDefault, type ScramCredentials } from '../../../core/auth/scram-credentials.ts'

/** Where users are kept (the access store): a user's RFC 5803 credentials, or null when it has none. */
export interface ScramUserSource {
  user(name: string): { readonly scramSha256: string | null } | undefined
  users(): ReadonlyArray<{ readonly scramSha256: string | null }>
}

export interface ScramUsers {
  credentials: (username: string) => ScramCredentials | undefined
  /** The iteration count most users have, so an unknown name is announced like a typical real one. */
  unknownUserIterations: number
}

/** Spread into ScramSha256's options: `new ScramSha256({ ...scramUsersFrom(store), serverSecret })`. */
export function scramUsersFrom(source: ScramUserSource): ScramUsers {
  const iterationCounts = new Map<number, number>()
  for (const user of source.users()) {
    const credentials = user.scramSha256 === null ? null : parseScramCredentials(user.scramSha256)
    if (credentials === null) continue
    iterationCounts.set(credentials.iterations, (iterationCounts.get(credentials.iterations) ?? 0) + 1)
  }
  let unknownUserIterations = scramIterationsDefault
  let most = 0
  for (const [iterations, count] of iterationCounts) {
    if (count > most) {
      most = count
      unknownUserIterations = iterations
    }
  }
  return {
    credentials: name => {
      const encoded = source.user(name)?.scramSha256
      // Validation refused malformed strings; a user without scramSha256 cannot use SCRAM.
      return encoded === undefined || encoded === null ? undefined : (parseScramCredentials(encoded) ?? undefined)
    },
    unknownUserIterations
  }
}
