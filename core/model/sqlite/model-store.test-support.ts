// What the model's SQLite tests share: a JSON properties codec, a consumer with fixed credit, and
// helpers to commit and count rows.
import type { SqliteStore } from '../../storage/sqlite-store.ts'
import type { MessageProperties } from '../message.ts'
import type { QueueConsumer } from '../queue.ts'
import type { QueueEntry } from '../queue-entry.ts'
import type { PropertiesCodec } from './sqlite-durable-store.ts'

/** The model's tests use a JSON codec; the gateway wires the AMQP one. */
export const jsonCodec: PropertiesCodec = {
  encode: p => Buffer.from(JSON.stringify(p)),
  decode: b => JSON.parse(b.toString()) as MessageProperties
}

export function count(store: SqliteStore, table: string): number {
  return (store.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n
}

/** Commits what is queued and lets its callbacks run: a delivery that waited for its delivered watermark has gone. */
export async function committed(store: SqliteStore): Promise<void> {
  store.flush()
  await new Promise(resolve => setImmediate(resolve))
}

/** Takes up to `credit` deliveries and keeps them (with their redelivered flag) for the test to settle. */
export class Taker implements QueueConsumer {
  readonly tag = 't'
  readonly noAck = false
  readonly exclusive = false
  readonly got: Array<{ entry: QueueEntry; redelivered: boolean }> = []
  constructor(private credit: number) {}
  hasCredit(): boolean {
    return this.credit > 0
  }
  deliver(entry: QueueEntry, redelivered: boolean): void {
    this.credit--
    this.got.push({ entry, redelivered })
  }
  cancelledByQueue(): void {}
}
