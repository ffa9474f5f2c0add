// What an MQTT bridge took from its remote at QoS 2 and the remote has not released yet (migration
// 9): the packet ids between PUBREC and PUBREL. The message is published into the core before its
// PUBREC and its id is written in the same transaction, so a PUBLISH the remote sends again (it got
// no PUBREC: a lost link, a killed edge) is recognised and not published twice [MQTT-4.3.3-10]; the
// id is deleted, committed, before the PUBCOMP, so one the remote uses again is never taken for a
// resend. One per bridge, across its links; memory only without a store (the model's tests).
import type Database from 'better-sqlite3'
import type { SqliteStore } from '../../core/storage/sqlite-store.ts'

export class DownlinkReceipts {
  /**
   * Drops the receipts of bridges no longer configured: no link will ever release them, and a bridge
   * configured again later under the same name starts a new remote session anyway (its first CONNACK
   * clears what the remote kept, or it keeps ours by client id, which open() handles).
   */
  static async forgetUnconfigured(store: SqliteStore | null, configured: readonly string[]): Promise<number> {
    if (store === null) return 0
    const names = JSON.stringify(configured)
    let forgotten = 0
    await store.write(db => {
      forgotten = db.prepare('DELETE FROM bridge_qos2_received WHERE bridge NOT IN (SELECT value FROM json_each(?))').run(names).changes
    })
    return forgotten
  }

  private readonly ids = new Set<number>()
  private clientId: string | null = null
  private readonly sql: ReturnType<typeof prepare> | null

  constructor(
    private readonly store: SqliteStore | null,
    private readonly bridge: string
  ) {
    this.sql = store === null ? null : prepare(store.db)
  }

  /**
   * The receipts of the session of clientId at the remote, read from the store at the first link;
   * those of another client id (the configuration changed) belong to no session and are dropped.
   */
  open(clientId: string): void {
    if (this.clientId === clientId) return
    this.clientId = clientId
    this.ids.clear()
    if (this.sql === null) return
    for (const r of this.sql.load.all(this.bridge, clientId) as Array<{ packet_id: number }>) this.ids.add(r.packet_id)
    this.write(sql => sql.deleteOthers.run(this.bridge, clientId)).catch(() => {}) // tidying: tried again at the next start
  }

  has(packetId: number): boolean {
    return this.ids.has(packetId)
  }

  /** Call right after the message was published into the core, in the same turn: one transaction. */
  add(packetId: number): Promise<void> {
    this.ids.add(packetId)
    return this.write(sql => sql.put.run(this.bridge, this.session(), packetId))
  }

  release(packetId: number): Promise<void> {
    if (!this.ids.delete(packetId)) return Promise.resolve()
    return this.write(sql => sql.delete.run(this.bridge, this.session(), packetId))
  }

  /** The remote has no session for us (CONNACK Session Present 0): nothing of it is in flight. */
  clear(): Promise<void> {
    if (this.ids.size === 0) return Promise.resolve()
    this.ids.clear()
    return this.write(sql => sql.deleteAll.run(this.bridge, this.session()))
  }

  get size(): number {
    return this.ids.size
  }

  private session(): string {
    if (this.clientId === null) throw new Error('downlink receipts: used before open()')
    return this.clientId
  }

  private write(fn: (sql: ReturnType<typeof prepare>) => void): Promise<void> {
    const sql = this.sql
    if (sql === null || this.store === null) return Promise.resolve()
    return this.store.write(() => fn(sql))
  }
}

function prepare(db: Database.Database) {
  return {
    load: db.prepare('SELECT packet_id FROM bridge_qos2_received WHERE bridge = ? AND client_id = ?'),
    put: db.prepare('INSERT OR IGNORE INTO bridge_qos2_received (bridge, client_id, packet_id) VALUES (?, ?, ?)'),
    delete: db.prepare('DELETE FROM bridge_qos2_received WHERE bridge = ? AND client_id = ? AND packet_id = ?'),
    deleteAll: db.prepare('DELETE FROM bridge_qos2_received WHERE bridge = ? AND client_id = ?'),
    deleteOthers: db.prepare('DELETE FROM bridge_qos2_received WHERE bridge = ? AND client_id <> ?')
  }
}
