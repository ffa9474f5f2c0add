// Who may connect: the users of auth.users (the same scrypt hashes MQTT checks), and, as in
// RabbitMQ, guest/guest from loopback only, and only while no user named guest is configured.
import type { UserConfig } from '../../edge-config/config-types.ts'
import { verifyPasswordAsync } from '../../core/auth/password-hash.ts'
import type { Credentials } from './sasl.ts'

export interface AuthenticatedUser {
  readonly username: string
  readonly vhosts: readonly string[]
}

export type AuthResult = { ok: true, user: AuthenticatedUser } | { ok: false, reason: string }

export class Authenticator {
  private readonly users: Map<string, UserConfig>

  constructor (users: readonly UserConfig[]) {
    this.users = new Map(users.map(u => [u.username, u]))
  }

  async authenticate (credentials: Credentials, remoteAddress: string | undefined): Promise<AuthResult> {
    const user = this.users.get(credentials.username)
    if (user === undefined) {
      if (credentials.username === 'guest' && credentials.password === 'guest') {
        if (isLoopback(remoteAddress)) return { ok: true, user: { username: 'guest', vhosts: ['/'] } }
        return { ok: false, reason: "user 'guest' can only connect via localhost" }
      }
      return { ok: false, reason: `user '${credentials.username}' - invalid credentials` }
    }
    if (!await verifyPasswordAsync(credentials.password, user.passwordHash)) {
      return { ok: false, reason: `user '${credentials.username}' - invalid credentials` }
    }
    return { ok: true, user: { username: user.username, vhosts: user.vhosts ?? ['/'] } }
  }
}

function isLoopback (address: string | undefined): boolean {
  if (address === undefined) return false
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.')
}
