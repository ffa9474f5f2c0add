// Who may connect: the users of auth.users (the same scrypt hashes MQTT checks), and, as in
// RabbitMQ, guest/guest from loopback only, and only while no user named guest is configured.
import type { UserConfig } from '../../edge-config/config-types.ts'
import { PasswordVerifier } from '../../core/auth/password-verifier.ts'
import type { Credentials } from './sasl.ts'

export interface AuthenticatedUser {
  readonly username: string
  readonly vhosts: readonly string[]
}

export type AuthResult = { ok: true, user: AuthenticatedUser } | { ok: false, reason: string }

export class Authenticator {
  private readonly users: Map<string, UserConfig>

  constructor (users: readonly UserConfig[], private readonly verifier: PasswordVerifier = new PasswordVerifier(0)) {
    this.users = new Map(users.map(u => [u.username, u]))
  }

  /**
   * SASL EXTERNAL: the verified client certificate named the user, so no password is asked; as
   * RabbitMQ's rabbitmq_auth_mechanism_ssl, the user must exist.
   */
  authenticateExternal (username: string): AuthResult {
    const user = this.users.get(username)
    if (user === undefined) return { ok: false, reason: `user '${username}' (from the client certificate) - no such user` }
    return { ok: true, user: { username: user.username, vhosts: user.vhosts ?? ['/'] } }
  }

  async authenticate (credentials: Credentials, remoteAddress: string | undefined): Promise<AuthResult> {
    const user = this.users.get(credentials.username)
    if (user === undefined && credentials.username === 'guest' && credentials.password === 'guest') {
      if (isLoopback(remoteAddress)) return { ok: true, user: { username: 'guest', vhosts: ['/'] } }
      return { ok: false, reason: "user 'guest' can only connect via localhost" }
    }
    // An unknown user costs the scrypt a known one does (the verifier runs one against a dummy hash).
    if (!await this.verifier.verify(credentials.username, credentials.password, user?.passwordHash) || user === undefined) {
      return { ok: false, reason: `user '${credentials.username}' - invalid credentials` }
    }
    return { ok: true, user: { username: user.username, vhosts: user.vhosts ?? ['/'] } }
  }
}

function isLoopback (address: string | undefined): boolean {
  if (address === undefined) return false
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.')
}
