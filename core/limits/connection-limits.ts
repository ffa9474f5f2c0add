// Connections per user and per vhost, over every protocol together (RabbitMQ's user and vhost
// max-connections). A connection is counted from authentication (MQTT CONNECT, AMQP connection.open)
// until it closes; the refusal text is RabbitMQ's, so operators recognise it.

export interface ConnectionLimitsOptions {
  /** 0 = no limit. */
  readonly userConnectionsMax: number
  readonly vhostConnectionsMax: number
  /** Per-object max-connections set at runtime (ObjectLimitsStore); undefined: none set. */
  readonly userLimit?: (username: string) => number | undefined
  readonly vhostLimit?: (vhost: string) => number | undefined
}

export type Admission = { readonly ok: true; readonly release: () => void } | { readonly ok: false; readonly limit: 'user' | 'vhost'; readonly reason: string }

export class ConnectionLimits {
  private readonly perUser = new Map<string, number>()
  private readonly perVhost = new Map<string, number>()

  constructor(private readonly options: ConnectionLimitsOptions) {}

  /** Counts one more connection of `username` (null: anonymous, no user limit) in `vhost`, or refuses it. */
  acquire(username: string | null, vhost: string): Admission {
    const vhostMax = stricter(this.options.vhostConnectionsMax, this.options.vhostLimit?.(vhost))
    const userMax = username === null ? -1 : stricter(this.options.userConnectionsMax, this.options.userLimit?.(username))
    if (vhostMax >= 0 && (this.perVhost.get(vhost) ?? 0) >= vhostMax) {
      return { ok: false, limit: 'vhost', reason: `access to vhost '${vhost}' refused for user '${username ?? ''}': connection limit (${vhostMax}) is reached` }
    }
    if (username !== null && userMax >= 0 && (this.perUser.get(username) ?? 0) >= userMax) {
      return { ok: false, limit: 'user', reason: `connection refused for user '${username}': user connection limit (${userMax}) is reached` }
    }
    increment(this.perVhost, vhost)
    if (username !== null) increment(this.perUser, username)
    let released = false
    return {
      ok: true,
      release: () => {
        if (released) return
        released = true
        decrement(this.perVhost, vhost)
        if (username !== null) decrement(this.perUser, username)
      }
    }
  }

  connectionsOfUser(username: string): number {
    return this.perUser.get(username) ?? 0
  }
  connectionsInVhost(vhost: string): number {
    return this.perVhost.get(vhost) ?? 0
  }
}

/**
 * The limit in force, -1 for none: the global default (0 = no limit) and the object's own (undefined =
 * none, 0 = refuse all), whichever is stricter.
 */
export function stricter(globalMax: number, objectMax: number | undefined): number {
  const g = globalMax > 0 ? globalMax : -1
  if (objectMax === undefined || objectMax < 0) return g
  return g < 0 ? objectMax : Math.min(g, objectMax)
}

function increment(m: Map<string, number>, key: string): void {
  m.set(key, (m.get(key) ?? 0) + 1)
}

function decrement(m: Map<string, number>, key: string): void {
  const n = (m.get(key) ?? 0) - 1
  if (n <= 0) m.delete(key)
  else m.set(key, n)
}
