// Stored volume per vhost, read from the model: local bytes are the bodies queues hold ready plus
// the streams' local segments; cold bytes are the streams' segments in the object store (their
// encoded size). A message routed to two queues counts in both, as a tenant's queues hold it twice.
import type { Broker } from '../model/broker.ts'

export interface StoredBytes {
  localBytes: number
  coldBytes: number
}

export function storedBytesByVhost(broker: Broker): Map<string, StoredBytes> {
  const out = new Map<string, StoredBytes>()
  for (const v of broker.vhosts.values()) {
    const total = { localBytes: 0, coldBytes: 0 }
    for (const q of v.queues.values()) {
      total.localBytes += q.messageBytes
      total.coldBytes += q.coldBytes
    }
    out.set(v.name, total)
  }
  return out
}
