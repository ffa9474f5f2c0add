// Who may log in and as whom: stored users (scrypt hashes), and, as in RabbitMQ, the built-in guest/guest
// while it is enabled and no stored user is named guest: loopback only, tag administrator, full
// permissions on '/'. Every protocol and the admin API log in here.
import type { Principal, TopicVariables, UserTag } from './access-types.ts'
import { fullPermissions } from './access-types.ts'
import type { AccessStore } from './access-store.ts'
import { VhostAccess } from './vhost-access.ts'
import { isLoopback } from './loopback.ts'
import { verifyPasswordAsync } from './password-hash.ts'

export const GUEST = 'guest'

export interface AccessControlOptions {
  readonly store: AccessStore
  /** auth.guest.enabled */
  readonly guestEnabled: boolean
  /** Checks a password against a stored scrypt hash; default verifyPasswordAsync (a cached verifier fits here). */
  readonly verifyPassword?: (password: string, passwordHash: string) => Promise<boolean>
}

export type LoginResult = { ok: true, principal: Principal } | { ok: false, reason: string }

export class AccessControl {
  readonly store: AccessStore
  private readonly guestEnabled: boolean
  private readonly verify: (password: string, passwordHash: string) => Promise<boolean>
  private readonly guest: Principal

  constructor (opts: AccessControlOptions) {
    this.store = opts.store
    this.guestEnabled = opts.guestEnabled
    this.verify = opts.verifyPassword ?? verifyPasswordAsync
    const store = opts.store
    const tags: readonly UserTag[] = Object.freeze(['administrator'])
    this.guest = {
      username: GUEST,
      tags,
      permissions: vhost => vhost === '/' && store.hasVhost('/') ? fullPermissions : undefined,
      topicPermission: () => undefined
    }
  }

  /** The access definitions' version (VhostAccess answers are remembered until it moves). */
  get version (): number { return this.store.version }

  /** Username and password, from a peer address (guest is refused unless it is loopback). Messages as RabbitMQ's log. */
  async login (username: string, password: string, remoteAddress: string | null | undefined): Promise<LoginResult> {
    const user = this.store.user(username)
    if (user === undefined) {
      if (this.isBuiltinGuest(username) && password === GUEST) {
        if (isLoopback(remoteAddress)) return { ok: true, principal: this.guest }
        return { ok: false, reason: `user '${GUEST}' can only connect via localhost` }
      }
      return { ok: false, reason: `user '${username}' - invalid credentials` }
    }
    if (!await this.verify(password, user.passwordHash)) return { ok: false, reason: `user '${username}' - invalid credentials` }
    const principal = this.store.principal(username)
    // Deleted while its password was being checked.
    if (principal === undefined) return { ok: false, reason: `user '${username}' - invalid credentials` }
    return { ok: true, principal }
  }

  /** A user proven another way (SCRAM, a client certificate): its principal, or undefined if there is none. */
  principal (username: string): Principal | undefined {
    return this.store.principal(username) ?? (this.isBuiltinGuest(username) ? this.guest : undefined)
  }

  /** The principal acting in the vhost, or undefined when the vhost does not exist or it has no permissions there. */
  vhostAccess (principal: Principal, vhost: string, variables: TopicVariables): VhostAccess | undefined {
    if (!this.store.hasVhost(vhost) || principal.permissions(vhost) === undefined) return undefined
    return new VhostAccess(principal, vhost, variables, this.store)
  }

  private isBuiltinGuest (username: string): boolean {
    return this.guestEnabled && username === GUEST && this.store.user(GUEST) === undefined
  }
}
