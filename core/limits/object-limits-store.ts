// Limits an operator sets on one vhost or one user at runtime, as RabbitMQ's set_vhost_limits and
// set_user_limits do (migration 8): a vhost's max-connections and max-queues, a user's max-connections
// and max-channels. Held in memory for the checks, which never wait, and written through the store's
// group commit, so a limit survives a restart once its promise resolves. A limit that is not set is
// no limit (RabbitMQ's -1); 0 refuses every new connection, queue or channel.
import type Database from 'better-sqlite3'
import type { SqliteStore } from '../storage/sqlite-store.ts'
import { invalidRequest } from '../errors.ts'

export const vhostLimitNames = ['max-connections', 'max-queues'] as const
export const userLimitNames = ['max-connections', 'max-channels'] as const
export type VhostLimitName = (typeof vhostLimitNames)[number]
export type UserLimitName = (typeof userLimitNames)[number]
export type LimitKind = 'vhost' | 'user'

/** The limits set on one object, by RabbitMQ's names (its JSON `value`). */
export type LimitValues = Readonly<Record<string, number>>

export interface ObjectLimits {
  readonly kind: LimitKind
  readonly object: string
  readonly value: LimitValues
}

const namesOf: Record<LimitKind, readonly string[]> = { vhost: vhostLimitNames, user: userLimitNames }

export class ObjectLimitsStore {
  private readonly byKind: Record<LimitKind, Map<string, Map<string, number>>> = { vhost: new Map(), user: new Map() }
  private readonly sql: ReturnType<typeof prepare>

  constructor(private readonly store: SqliteStore) {
    this.sql = prepare(store.db)
    for (const row of this.sql.load.all() as Array<{ kind: LimitKind; object: string; name: string; value: number }>) {
      this.limitsMap(row.kind, row.object).set(row.name, row.value)
    }
  }

  /** The limit, or undefined when none is set. */
  vhostLimit(vhost: string, name: VhostLimitName): number | undefined {
    return this.byKind.vhost.get(vhost)?.get(name)
  }
  userLimit(user: string, name: UserLimitName): number | undefined {
    return this.byKind.user.get(user)?.get(name)
  }

  /** Every object of the kind with at least one limit set, sorted by name. */
  list(kind: LimitKind): ObjectLimits[] {
    return [...this.byKind[kind].entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([object, m]) => ({ kind, object, value: Object.fromEntries(m) }))
  }

  limitsOf(kind: LimitKind, object: string): LimitValues | undefined {
    const m = this.byKind[kind].get(object)
    return m === undefined ? undefined : Object.fromEntries(m)
  }

  /** Sets one limit; a negative value clears it, as RabbitMQ's -1 does. */
  async set(kind: LimitKind, object: string, name: string, value: number): Promise<void> {
    checkLimit(kind, name, value)
    if (value < 0) {
      await this.clear(kind, object, name)
      return
    }
    this.limitsMap(kind, object).set(name, value)
    await this.store.write(() => {
      this.sql.put.run(kind, object, name, value)
    })
  }

  /** Clears one limit (or every limit of the object without a name); false when none was set. */
  async clear(kind: LimitKind, object: string, name?: string): Promise<boolean> {
    const m = this.byKind[kind].get(object)
    if (m === undefined) return false
    if (name !== undefined && !m.has(name)) return false
    if (name === undefined) m.clear()
    else m.delete(name)
    if (m.size === 0) this.byKind[kind].delete(object)
    await this.store.write(() => {
      if (name === undefined) this.sql.deleteObject.run(kind, object)
      else this.sql.deleteOne.run(kind, object, name)
    })
    return true
  }

  /** The object's limits by name, made empty when it has none yet. */
  private limitsMap(kind: LimitKind, object: string): Map<string, number> {
    let m = this.byKind[kind].get(object)
    if (m === undefined) {
      m = new Map()
      this.byKind[kind].set(object, m)
    }
    return m
  }
}

/** Throws invalid-request naming the limit and what is allowed. */
export function checkLimit(kind: LimitKind, name: string, value: unknown): asserts value is number {
  const names = namesOf[kind]
  if (!names.includes(name)) throw invalidRequest(`unknown ${kind} limit '${name}'; known ${kind} limits: ${names.join(', ')}`)
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw invalidRequest(`${kind} limit '${name}' must be an integer (-1 for no limit), got ${JSON.stringify(value)}`)
  }
}

function prepare(db: Database.Database) {
  return {
    load: db.prepare('SELECT kind, object, name, value FROM object_limits'),
    put: db.prepare('INSERT OR REPLACE INTO object_limits (kind, object, name, value) VALUES (?, ?, ?, ?)'),
    deleteOne: db.prepare('DELETE FROM object_limits WHERE kind = ? AND object = ? AND name = ?'),
    deleteObject: db.prepare('DELETE FROM object_limits WHERE kind = ? AND object = ?')
  }
}
