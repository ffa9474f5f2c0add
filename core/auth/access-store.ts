// Users, vhosts, permissions and topic permissions (migration 5): held in memory for the checks, which
// never wait, and written through the store's group commit, so a change survives a restart once its
// promise resolves. This is the API the management API (and YAML seeding) changes them through.
import type Database from 'better-sqlite3'
import type { SqliteStore } from '../storage/sqlite-store.ts'
import { invalidRequest, notFound } from '../errors.ts'
import type { Principal, StoredUser, TopicPermission, UserTag, VhostPermissions } from './access-types.ts'
import { userTags } from './access-types.ts'
import { permissionRegexProblem } from './permission-regex.ts'

export interface UserPermissions extends VhostPermissions {
  readonly user: string
  readonly vhost: string
}
export interface UserTopicPermission extends TopicPermission {
  readonly user: string
  readonly vhost: string
}

/** What runs beside a vhost's life in the store: the model creates and deletes its exchanges and queues. */
export interface VhostListener {
  vhostAdded(name: string): void
  /** Before anything is deleted; throwing refuses the deletion (the vhost MQTT clients live in). */
  vhostDeleting(name: string): void
  vhostDeleted(name: string): Promise<void>
}

export type Upsert = 'created' | 'updated'

export class AccessStore {
  /** Bumped by every change: VhostAccess forgets remembered answers when it moves. */
  version = 0
  private readonly userMap = new Map<string, StoredUser>()
  private readonly vhostSet = new Set<string>()
  private readonly perms = new Map<string, Map<string, VhostPermissions>>()
  private readonly topicPerms = new Map<string, Map<string, Map<string, TopicPermission>>>()
  private readonly listeners = new Set<VhostListener>()
  private readonly userDeletedListeners = new Set<(name: string) => Promise<void>>()
  private readonly sql: ReturnType<typeof prepare>

  constructor(
    private readonly store: SqliteStore,
    private readonly nowMs: () => number = Date.now
  ) {
    this.sql = prepare(store.db)
    this.load()
  }

  addVhostListener(l: VhostListener): void {
    this.listeners.add(l)
  }

  /** Runs after a user is deleted (its limits go with it). */
  addUserDeletedListener(fn: (name: string) => Promise<void>): void {
    this.userDeletedListeners.add(fn)
  }

  // ---- reads ----------------------------------------------------------------------------------

  users(): StoredUser[] {
    return [...this.userMap.values()]
  }
  user(name: string): StoredUser | undefined {
    return this.userMap.get(name)
  }
  vhosts(): string[] {
    return [...this.vhostSet]
  }
  hasVhost(name: string): boolean {
    return this.vhostSet.has(name)
  }

  permissions(user: string, vhost: string): VhostPermissions | undefined {
    return this.perms.get(user)?.get(vhost)
  }

  listPermissions(): UserPermissions[] {
    const out: UserPermissions[] = []
    for (const [user, byVhost] of this.perms) for (const [vhost, p] of byVhost) out.push({ user, vhost, ...p })
    return out
  }

  topicPermission(user: string, vhost: string, exchange: string): TopicPermission | undefined {
    return this.topicPerms.get(user)?.get(vhost)?.get(exchange)
  }

  listTopicPermissions(): UserTopicPermission[] {
    const out: UserTopicPermission[] = []
    for (const [user, byVhost] of this.topicPerms) {
      for (const [vhost, byExchange] of byVhost) for (const p of byExchange.values()) out.push({ user, vhost, ...p })
    }
    return out
  }

  /** A live view of a stored user: later changes to its tags and permissions apply at once. */
  principal(name: string): Principal | undefined {
    if (!this.userMap.has(name)) return undefined
    const self = this
    return {
      username: name,
      get tags() {
        return self.userMap.get(name)?.tags ?? []
      },
      permissions: vhost => (self.vhostSet.has(vhost) ? self.permissions(name, vhost) : undefined),
      topicPermission: (vhost, exchange) => self.topicPermission(name, vhost, exchange)
    }
  }

  // ---- users ----------------------------------------------------------------------------------

  /** Adds the user or replaces its password hash, SCRAM credentials and tags (RabbitMQ's PUT /api/users/{name}). */
  async putUser(user: StoredUser): Promise<Upsert> {
    if (user.name === '') throw invalidRequest('user name must not be empty')
    for (const t of user.tags)
      if (!(userTags as readonly string[]).includes(t)) throw invalidRequest(`unknown user tag '${t}'; known tags: ${userTags.join(', ')}`)
    const existed = this.userMap.has(user.name)
    const stored: StoredUser = Object.freeze({
      name: user.name,
      passwordHash: user.passwordHash,
      scramSha256: user.scramSha256,
      tags: Object.freeze([...user.tags])
    })
    this.userMap.set(user.name, stored)
    this.changed()
    await this.store.write(() => {
      this.sql.putUser.run(user.name, user.passwordHash, user.scramSha256, JSON.stringify(user.tags))
    })
    return existed ? 'updated' : 'created'
  }

  /** Deletes the user with its permissions and topic permissions; false when there was none. */
  async deleteUser(name: string): Promise<boolean> {
    if (!this.userMap.delete(name)) return false
    this.perms.delete(name)
    this.topicPerms.delete(name)
    this.changed()
    await this.store.write(() => {
      this.sql.deleteUser.run(name)
      this.sql.deleteUserPermissions.run(name)
      this.sql.deleteUserTopicPermissions.run(name)
    })
    for (const fn of this.userDeletedListeners) await fn(name)
    return true
  }

  // ---- vhosts ---------------------------------------------------------------------------------

  async addVhost(name: string): Promise<boolean> {
    if (name === '') throw invalidRequest('vhost name must not be empty')
    if (this.vhostSet.has(name)) return false
    this.vhostSet.add(name)
    this.changed()
    for (const l of this.listeners) l.vhostAdded(name)
    await this.store.write(() => {
      this.sql.putVhost.run(name, this.nowMs())
    })
    return true
  }

  /** Deletes the vhost, every permission in it, and (through the listeners) its exchanges and queues. */
  async deleteVhost(name: string): Promise<boolean> {
    if (!this.vhostSet.has(name)) return false
    for (const l of this.listeners) l.vhostDeleting(name)
    this.vhostSet.delete(name)
    for (const byVhost of this.perms.values()) byVhost.delete(name)
    for (const byVhost of this.topicPerms.values()) byVhost.delete(name)
    this.changed()
    const written = this.store.write(() => {
      this.sql.deleteVhost.run(name)
      this.sql.deleteVhostPermissions.run(name)
      this.sql.deleteVhostTopicPermissions.run(name)
    })
    await Promise.all([written, ...[...this.listeners].map(l => l.vhostDeleted(name))])
    return true
  }

  // ---- permissions ----------------------------------------------------------------------------

  async setPermissions(user: string, vhost: string, p: VhostPermissions): Promise<Upsert> {
    this.requireUserAndVhost(user, vhost)
    for (const access of ['configure', 'write', 'read'] as const) checkRegex(access, p[access])
    let byVhost = this.perms.get(user)
    if (byVhost === undefined) {
      byVhost = new Map()
      this.perms.set(user, byVhost)
    }
    const existed = byVhost.has(vhost)
    byVhost.set(vhost, Object.freeze({ configure: p.configure, write: p.write, read: p.read }))
    this.changed()
    await this.store.write(() => {
      this.sql.putPermissions.run(user, vhost, p.configure, p.write, p.read)
    })
    return existed ? 'updated' : 'created'
  }

  async clearPermissions(user: string, vhost: string): Promise<boolean> {
    if (this.perms.get(user)?.delete(vhost) !== true) return false
    this.changed()
    await this.store.write(() => {
      this.sql.deletePermissions.run(user, vhost)
    })
    return true
  }

  async setTopicPermission(user: string, vhost: string, p: TopicPermission): Promise<Upsert> {
    this.requireUserAndVhost(user, vhost)
    checkRegex('write', p.write)
    checkRegex('read', p.read)
    let byVhost = this.topicPerms.get(user)
    if (byVhost === undefined) {
      byVhost = new Map()
      this.topicPerms.set(user, byVhost)
    }
    let byExchange = byVhost.get(vhost)
    if (byExchange === undefined) {
      byExchange = new Map()
      byVhost.set(vhost, byExchange)
    }
    const existed = byExchange.has(p.exchange)
    byExchange.set(p.exchange, Object.freeze({ exchange: p.exchange, write: p.write, read: p.read }))
    this.changed()
    await this.store.write(() => {
      this.sql.putTopicPermission.run(user, vhost, p.exchange, p.write, p.read)
    })
    return existed ? 'updated' : 'created'
  }

  /** Clears one exchange's topic permission, or (exchange undefined) all of the user's in the vhost. */
  async clearTopicPermissions(user: string, vhost: string, exchange?: string): Promise<boolean> {
    const byExchange = this.topicPerms.get(user)?.get(vhost)
    if (byExchange === undefined) return false
    const removed = exchange === undefined ? byExchange.size > 0 : byExchange.has(exchange)
    if (!removed) return false
    if (exchange === undefined) byExchange.clear()
    else byExchange.delete(exchange)
    this.changed()
    await this.store.write(() => {
      if (exchange === undefined) this.sql.deleteTopicPermissionsIn.run(user, vhost)
      else this.sql.deleteTopicPermission.run(user, vhost, exchange)
    })
    return true
  }

  // ---- internals ------------------------------------------------------------------------------

  private requireUserAndVhost(user: string, vhost: string): void {
    if (!this.userMap.has(user)) throw notFound(`no user '${user}'`)
    if (!this.vhostSet.has(vhost)) throw notFound(`no vhost '${vhost}'`)
  }

  private changed(): void {
    this.version++
  }

  private load(): void {
    for (const r of this.sql.loadVhosts.all() as Array<{ name: string }>) this.vhostSet.add(r.name)
    for (const r of this.sql.loadUsers.all() as UserRow[]) {
      this.userMap.set(
        r.name,
        Object.freeze({ name: r.name, passwordHash: r.password_hash, scramSha256: r.scram_sha256, tags: Object.freeze(JSON.parse(r.tags) as UserTag[]) })
      )
    }
    for (const r of this.sql.loadPermissions.all() as PermissionRow[]) {
      let byVhost = this.perms.get(r.username)
      if (byVhost === undefined) {
        byVhost = new Map()
        this.perms.set(r.username, byVhost)
      }
      byVhost.set(r.vhost, Object.freeze({ configure: r.configure, write: r.write, read: r.read }))
    }
    for (const r of this.sql.loadTopicPermissions.all() as TopicPermissionRow[]) {
      let byVhost = this.topicPerms.get(r.username)
      if (byVhost === undefined) {
        byVhost = new Map()
        this.topicPerms.set(r.username, byVhost)
      }
      let byExchange = byVhost.get(r.vhost)
      if (byExchange === undefined) {
        byExchange = new Map()
        byVhost.set(r.vhost, byExchange)
      }
      byExchange.set(r.exchange, Object.freeze({ exchange: r.exchange, write: r.write, read: r.read }))
    }
  }
}

function checkRegex(access: string, source: string): void {
  const problem = permissionRegexProblem(source)
  if (problem !== null) throw invalidRequest(`${access} permission '${source}' is not a valid regular expression: ${problem}`)
}

interface UserRow {
  name: string
  password_hash: string
  scram_sha256: string | null
  tags: string
}
interface PermissionRow {
  username: string
  vhost: string
  configure: string
  write: string
  read: string
}
interface TopicPermissionRow {
  username: string
  vhost: string
  exchange: string
  write: string
  read: string
}

function prepare(db: Database.Database) {
  return {
    loadVhosts: db.prepare('SELECT name FROM auth_vhosts ORDER BY created_ms, name'),
    loadUsers: db.prepare('SELECT name, password_hash, scram_sha256, tags FROM auth_users ORDER BY name'),
    loadPermissions: db.prepare('SELECT username, vhost, configure, write, read FROM auth_permissions'),
    loadTopicPermissions: db.prepare('SELECT username, vhost, exchange, write, read FROM auth_topic_permissions'),
    putVhost: db.prepare('INSERT OR IGNORE INTO auth_vhosts (name, created_ms) VALUES (?, ?)'),
    deleteVhost: db.prepare('DELETE FROM auth_vhosts WHERE name = ?'),
    deleteVhostPermissions: db.prepare('DELETE FROM auth_permissions WHERE vhost = ?'),
    deleteVhostTopicPermissions: db.prepare('DELETE FROM auth_topic_permissions WHERE vhost = ?'),
    putUser: db.prepare('INSERT OR REPLACE INTO auth_users (name, password_hash, scram_sha256, tags) VALUES (?, ?, ?, ?)'),
    deleteUser: db.prepare('DELETE FROM auth_users WHERE name = ?'),
    deleteUserPermissions: db.prepare('DELETE FROM auth_permissions WHERE username = ?'),
    deleteUserTopicPermissions: db.prepare('DELETE FROM auth_topic_permissions WHERE username = ?'),
    putPermissions: db.prepare('INSERT OR REPLACE INTO auth_permissions (username, vhost, configure, write, read) VALUES (?, ?, ?, ?, ?)'),
    deletePermissions: db.prepare('DELETE FROM auth_permissions WHERE username = ? AND vhost = ?'),
    putTopicPermission: db.prepare('INSERT OR REPLACE INTO auth_topic_permissions (username, vhost, exchange, write, read) VALUES (?, ?, ?, ?, ?)'),
    deleteTopicPermission: db.prepare('DELETE FROM auth_topic_permissions WHERE username = ? AND vhost = ? AND exchange = ?'),
    deleteTopicPermissionsIn: db.prepare('DELETE FROM auth_topic_permissions WHERE username = ? AND vhost = ?')
  }
}
