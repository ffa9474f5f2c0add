// GET /api/usage: per vhost, messages and bytes in and out by protocol (and by user where one
// logged in), stored bytes local and cold; since the node started. Snake case, as the admin API.
import type { UsageRow } from '../core/metering/usage-meter.ts'
import type { StoredBytes } from '../core/metering/stored-bytes.ts'
import type { UsageRecorderStatus } from '../core/metering/usage-recorder.ts'

interface Traffic {
  messages_in: number
  bytes_in: number
  messages_out: number
  bytes_out: number
}

export function usageReport(
  node: string,
  rows: readonly UsageRow[],
  stored: ReadonlyMap<string, StoredBytes>,
  records: UsageRecorderStatus | null
): Record<string, unknown> {
  const vhosts = new Map<
    string,
    {
      vhost: string
      stored: { local_bytes: number; cold_bytes: number }
      protocols: Record<string, Traffic>
      users: Array<Traffic & { user: string | null; protocol: string }>
    }
  >()
  const entry = (vhost: string): NonNullable<ReturnType<typeof vhosts.get>> => {
    let v = vhosts.get(vhost)
    if (v === undefined) {
      const s = stored.get(vhost)
      v = { vhost, stored: { local_bytes: s?.localBytes ?? 0, cold_bytes: s?.coldBytes ?? 0 }, protocols: {}, users: [] }
      vhosts.set(vhost, v)
    }
    return v
  }
  for (const vhost of stored.keys()) entry(vhost)
  for (const r of rows) {
    const v = entry(r.vhost)
    const t = traffic(r)
    const p = v.protocols[r.protocol] ?? { messages_in: 0, bytes_in: 0, messages_out: 0, bytes_out: 0 }
    v.protocols[r.protocol] = p
    p.messages_in += t.messages_in
    p.bytes_in += t.bytes_in
    p.messages_out += t.messages_out
    p.bytes_out += t.bytes_out
    v.users.push({ user: r.user, protocol: r.protocol, ...t })
  }
  return {
    node,
    vhosts: [...vhosts.values()].sort((a, b) => a.vhost.localeCompare(b.vhost)),
    records:
      records === null
        ? null
        : {
            interval_seconds: records.intervalSeconds,
            written: records.recordsWritten,
            failures: records.failures,
            last_key: records.lastKey,
            last_error: records.lastError,
            pending_since: new Date(records.pendingSinceMs).toISOString()
          }
  }
}

function traffic(r: UsageRow): Traffic {
  return { messages_in: r.messagesIn, bytes_in: r.bytesIn, messages_out: r.messagesOut, bytes_out: r.bytesOut }
}
