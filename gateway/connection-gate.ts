// Checks at accept, before a connection costs a TLS handshake or a parser: new connections per second
// from one source address (limits.perSourceIp.connectionsPerSecond). An excess connection is
// destroyed at once, counted per listener, and logged at most once per interval.
import type { Server } from 'node:net'
import type { Socket } from 'node:net'
import type { Counter, Metrics } from '../core/metrics.ts'
import type { RateLimitedLog } from '../core/rate-limited-log.ts'
import type { SourceIpRate } from '../core/limits/source-ip-rate.ts'

export class ConnectionGate {
  private readonly refused = new Map<string, Counter>()

  constructor (private readonly rate: SourceIpRate, private readonly metrics: Metrics, private readonly warn: RateLimitedLog) {}

  /**
   * Puts the check in front of the server's own 'connection' handling (TLS and HTTP servers included:
   * their handshake starts from that event).
   */
  guard (server: Server, listener: string): void {
    if (!this.rate.enabled) return
    server.prependListener('connection', (socket: Socket) => {
      if (this.rate.allow(socket.remoteAddress)) return
      this.counter(listener).inc()
      this.warn.warn('connection refused: limits.perSourceIp.connectionsPerSecond exceeded', { listener, remote: socket.remoteAddress })
      socket.destroy()
    })
  }

  private counter (listener: string): Counter {
    let c = this.refused.get(listener)
    if (c === undefined) {
      c = this.metrics.counter('wharf_connections_rate_limited_total', 'Connections closed at accept for limits.perSourceIp.connectionsPerSecond', { listener })
      this.refused.set(listener, c)
    }
    return c
  }
}
