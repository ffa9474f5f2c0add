// An access store on its own temporary SQLite file, for suites that build an adapter without a node.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteStore } from '../../core/storage/sqlite-store.ts'
import { AccessStore } from '../../core/auth/access-store.ts'
import { AccessControl } from '../../core/auth/access-control.ts'

export interface TestAccess {
  control: AccessControl
  store: AccessStore
  close(): void
}

/** Vhost '/' and the built-in guest (loopback only, full permissions on '/'). */
export async function testAccess(vhosts: readonly string[] = ['/']): Promise<TestAccess> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-access-'))
  const sqlite = SqliteStore.open({ dataDir: dir, durability: 'process', commitWindowMs: 0, commitBatchMax: 1000 })
  const store = new AccessStore(sqlite)
  for (const v of vhosts) await store.addVhost(v)
  return {
    control: new AccessControl({ store, guestEnabled: true }),
    store,
    close: () => {
      sqlite.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
