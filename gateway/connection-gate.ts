// Checks at accept, before a connection costs a TLS handshake or a parser: new connections per second
// from one source address (limits.perSourceIp.connectionsPerSecond). An excess connection is
// destroyed at once, counted per listener, and logged at most once per interval. And the end of a
// failed TLS handshake (a refused or missing client certificate, a version below minVersion, the
// handshake deadline): Node reports it but leaves the socket open, so it is closed here, and counted.
import type { Server } from 'node:net'
import type { Socket } from 'node:net'
import type { Server as TlsServer, TLSSocket } from 'node:tls'
import type { Counter, Metrics } from '../core/metrics.ts'
import type { RateLimitedLog } from '../core/rate-limited-log.ts'
import type { SourceIpRate } from '../core/limits/source-ip-rate.ts'

export class ConnectionGate {
  private readonly refused = new Map<string, Counter>()
  private readonly failed = new Map<string, Counter>()

  constructor(
    private readonly rate: SourceIpRate,
    private readonly metrics: Metrics,
    private readonly warn: RateLimitedLog
  ) {}

  /**
   * Puts the check in front of the server's own 'connection' handling (TLS and HTTP servers included:
   * their handshake starts from that event).
   */
  guard(server: Server, listener: string): void {
    if (!this.rate.enabled) return
    server.prependListener('connection', (socket: Socket) => {
      if (this.rate.allow(socket.remoteAddress)) return
      this.counter(listener).inc()
      this.warn.warn('connection refused: limits.perSourceIp.connectionsPerSecond exceeded', { listener, remote: socket.remoteAddress })
      socket.destroy()
    })
  }

  /** Closes the socket of a failed handshake (Node leaves it open, a timed-out one included) and counts it. */
  watchHandshakes(server: TlsServer, listener: string): void {
    server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
      socket.destroy()
      const reason = err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT' ? 'timeout' : 'refused'
      this.handshakeFailures(listener, reason).inc()
      this.warn.warn('tls handshake failed, connection closed', { listener, reason, remote: socket.remoteAddress, error: err.message })
    })
  }

  private handshakeFailures(listener: string, reason: string): Counter {
    const key = `${listener}\0${reason}`
    let c = this.failed.get(key)
    if (c === undefined) {
      c = this.metrics.counter(
        'wharf_tls_handshake_failures_total',
        'TLS handshakes that failed (reason refused: certificate or version; timeout: the handshake deadline), connection closed',
        { listener, reason }
      )
      this.failed.set(key, c)
    }
    return c
  }

  private counter(listener: string): Counter {
    let c = this.refused.get(listener)
    if (c === undefined) {
      c = this.metrics.counter('wharf_connections_rate_limited_total', 'Connections closed at accept for limits.perSourceIp.connectionsPerSecond', { listener })
      this.refused.set(listener, c)
    }
    return c
  }
}
