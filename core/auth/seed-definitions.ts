// The configuration file's access definitions applied to the store at start. The store holds the truth;
// the file wins where it changed: a definition the file adds or changes since the last start is applied
// (overwriting what runtime changes made of it), one it dropped is deleted, and one it left as it was is
// not touched, so runtime changes to it (a new password, revoked permissions, a deleted user) survive.
import type { SqliteStore } from '../storage/sqlite-store.ts'
import type { StoredUser } from './access-types.ts'
import type { AccessStore, UserPermissions, UserTopicPermission } from './access-store.ts'

export interface Definitions {
  readonly vhosts: readonly string[]
  readonly users: readonly StoredUser[]
  readonly permissions: readonly UserPermissions[]
  readonly topicPermissions: readonly UserTopicPermission[]
}

export interface SeedReport {
  /** Definitions applied (added or changed in the file) and deleted (dropped from the file), as 'kind key'. */
  readonly applied: string[]
  readonly deleted: string[]
  /** Definitions that could not be applied now (a permission for a vhost deleted at runtime); retried next start. */
  readonly skipped: string[]
}

type Kind = 'vhost' | 'user' | 'permission' | 'topic-permission'

interface Entry {
  readonly kind: Kind
  readonly key: string
  readonly digest: string
  /** Applies the definition; false when it cannot be applied now. */
  apply(): Promise<boolean>
  /** Applied even when unchanged, because something it belongs to was created now. */
  dependsOn: string[]
}

// Applied in this order, deleted in the reverse one: a permission needs its user and vhost.
const kinds: readonly Kind[] = ['vhost', 'user', 'permission', 'topic-permission']

export async function seedDefinitions(access: AccessStore, store: SqliteStore, defs: Definitions): Promise<SeedReport> {
  const previous = new Map<string, string>()
  for (const r of store.db.prepare('SELECT kind, key, digest FROM auth_seeded').all() as Array<{ kind: string; key: string; digest: string }>) {
    previous.set(id(r.kind, r.key), r.digest)
  }
  const entries = definitionEntries(access, defs)
  const report: SeedReport = { applied: [], deleted: [], skipped: [] }
  const current = new Set(entries.map(e => id(e.kind, e.key)))

  for (const kind of [...kinds].reverse()) {
    for (const [pid] of previous) {
      if (current.has(pid) || !pid.startsWith(kind + ' ')) continue
      await remove(access, kind, JSON.parse(pid.slice(kind.length + 1)) as string[])
      report.deleted.push(pid)
    }
  }
  const created = new Set<string>()
  const recorded: Array<[Kind, string, string]> = []
  for (const kind of kinds) {
    for (const e of entries.filter(x => x.kind === kind)) {
      const eid = id(e.kind, e.key)
      const changed = previous.get(eid) !== e.digest
      if (!changed && !e.dependsOn.some(d => created.has(d))) {
        recorded.push([e.kind, e.key, e.digest])
        continue
      }
      const existedBefore = exists(access, e.kind, JSON.parse(e.key) as string[])
      if (!(await e.apply())) {
        report.skipped.push(eid)
        continue
      }
      if (!existedBefore) created.add(eid)
      report.applied.push(eid)
      recorded.push([e.kind, e.key, e.digest])
    }
  }
  await store.write(db => {
    db.prepare('DELETE FROM auth_seeded').run()
    const put = db.prepare('INSERT INTO auth_seeded (kind, key, digest) VALUES (?, ?, ?)')
    for (const [kind, key, digest] of recorded) put.run(kind, key, digest)
  })
  return report
}

function definitionEntries(access: AccessStore, defs: Definitions): Entry[] {
  const entries: Entry[] = []
  for (const v of defs.vhosts) {
    entries.push({
      kind: 'vhost',
      key: key(v),
      digest: '{}',
      dependsOn: [],
      apply: async () => {
        await access.addVhost(v)
        return true
      }
    })
  }
  for (const u of defs.users) {
    entries.push({
      kind: 'user',
      key: key(u.name),
      digest: JSON.stringify({ passwordHash: u.passwordHash, scramSha256: u.scramSha256, tags: u.tags }),
      dependsOn: [],
      apply: async () => {
        await access.putUser(u)
        return true
      }
    })
  }
  for (const p of defs.permissions) {
    entries.push({
      kind: 'permission',
      key: key(p.user, p.vhost),
      digest: JSON.stringify({ configure: p.configure, write: p.write, read: p.read }),
      dependsOn: [id('user', key(p.user)), id('vhost', key(p.vhost))],
      apply: async () => {
        if (access.user(p.user) === undefined || !access.hasVhost(p.vhost)) return false
        await access.setPermissions(p.user, p.vhost, p)
        return true
      }
    })
  }
  for (const t of defs.topicPermissions) {
    entries.push({
      kind: 'topic-permission',
      key: key(t.user, t.vhost, t.exchange),
      digest: JSON.stringify({ write: t.write, read: t.read }),
      dependsOn: [id('user', key(t.user)), id('vhost', key(t.vhost))],
      apply: async () => {
        if (access.user(t.user) === undefined || !access.hasVhost(t.vhost)) return false
        await access.setTopicPermission(t.user, t.vhost, t)
        return true
      }
    })
  }
  return entries
}

function exists(access: AccessStore, kind: Kind, k: string[]): boolean {
  const [a = '', b = '', c = ''] = k
  if (kind === 'vhost') return access.hasVhost(a)
  if (kind === 'user') return access.user(a) !== undefined
  if (kind === 'permission') return access.permissions(a, b) !== undefined
  return access.topicPermission(a, b, c) !== undefined
}

async function remove(access: AccessStore, kind: Kind, k: string[]): Promise<void> {
  const [a = '', b = '', c = ''] = k
  if (kind === 'vhost') await access.deleteVhost(a)
  else if (kind === 'user') await access.deleteUser(a)
  else if (kind === 'permission') await access.clearPermissions(a, b)
  else await access.clearTopicPermissions(a, b, c)
}

const key = (...parts: string[]): string => JSON.stringify(parts)
const id = (kind: string, k: string): string => `${kind} ${k}`
