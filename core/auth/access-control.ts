// Who may log in and as whom: stored users (scrypt hashes), and, as in RabbitMQ, the built-in guest/guest
// while it is enabled and no stored user is named guest: loopback only, tag administrator, full
// permissions on '/'. Every protocol and the admin API log in here.
import type { Principal, TopicVariables, UserTag } from './access-types.ts'
import { fullPermissions } from './access-types.ts'
import type { AccessStore } from './access-store.ts'
import { VhostAccess } from './vhost-access.ts'
import { isLoopback } from './loopback.ts'
import { PasswordVerifier } from './password-verifier.ts'

export const GUEST = 'guest'

export interface AccessControlOptions {
  readonly store: AccessStore
  /** auth.guest.enabled */
  readonly guestEnabled: boolean
  /** Password checks, shared by every protocol and the admin API; default: one that remembers nothing. */
  readonly verifier?: PasswordVerifier
}

export type LoginResult = { ok: true; principal: Principal } | { ok: false; reason: string }

export class AccessControl {
  readonly store: AccessStore
  private readonly guestEnabled: boolean
  private readonly verifier: PasswordVerifier
  private readonly guest: Principal

  constructor(opts: AccessControlOptions) {
    this.store = opts.store
    this.guestEnabled = opts.guestEnabled
    this.verifier = opts.verifier ?? new PasswordVerifier(0)
    const store = opts.store
    const tags: readonly UserTag[] = Object.freeze(['administrator'])
    this.guest = {
      username: GUEST,
      tags,
      permissions: vhost => (vhost === '/' && store.hasVhost('/') ? fullPermissions : undefined),
      topicPermission: () => undefined
    }
  }

  /** The access definitions' version (VhostAccess answers are remembered until it moves). */
  get version(): number {
    return this.store.version
  }

  /** Username and password, from a peer address (guest is refused unless it is loopback). Messages as RabbitMQ's log. */
  async login(username: string, password: string, remoteAddress: string | null | undefined): Promise<LoginResult> {
    const user = this.store.user(username)
    if (user === undefined && this.isBuiltinGuest(username) && password === GUEST) {
      if (isLoopback(remoteAddress)) return { ok: true, principal: this.guest }
      return { ok: false, reason: `user '${GUEST}' can only connect via localhost` }
    }
    // An unknown user costs the scrypt a known one does (the verifier runs one against a dummy hash).
    if (!(await this.verifier.verify(username, password, user?.passwordHash))) return { ok: false, reason: `user '${username}' - invalid credentials` }
    const principal = this.store.principal(username)
    // Deleted while its password was being checked.
    if (principal === undefined) return { ok: false, reason: `user '${username}' - invalid credentials` }
    return { ok: true, principal }
  }

  /**
   * A verified client certificate named the user (SASL EXTERNAL, MQTT identityAsUsername): no password
   * is asked, and as in RabbitMQ the user must exist (its permissions are what it may do).
   */
  certificateLogin(username: string, source: string): LoginResult {
    const principal = this.store.principal(username)
    if (principal === undefined) return { ok: false, reason: `certificate ${source} '${username}' is not a user` }
    return { ok: true, principal }
  }

  /** A user proven another way (SCRAM, a client certificate): its principal, or undefined if there is none. */
  principal(username: string): Principal | undefined {
    return this.store.principal(username) ?? (this.isBuiltinGuest(username) ? this.guest : undefined)
  }

  /** The principal acting in the vhost, or undefined when the vhost does not exist or it has no permissions there. */
  vhostAccess(principal: Principal, vhost: string, variables: TopicVariables): VhostAccess | undefined {
    if (!this.store.hasVhost(vhost) || principal.permissions(vhost) === undefined) return undefined
    return new VhostAccess(principal, vhost, variables, this.store)
  }

  private isBuiltinGuest(username: string): boolean {
    return this.guestEnabled && username === GUEST && this.store.user(GUEST) === undefined
  }
}
