// Deadlines of every connection, checked by one sweep instead of a timer each (10,000 idle
// connections cost no timers): CONNECT within mqtt.connectTimeoutSeconds; no packet left half
// received for mqtt.partialPacketTimeoutSeconds (a peer that stalls mid-packet holds a buffer and a
// socket for nothing); and keep alive — a client silent for one and a half times its interval is
// disconnected [MQTT-3.1.2-22]. A connection whose reads a publish rate limit paused is not blamed
// for its silence.
import type { Engine } from './engine.ts'
import { ReasonCode } from './codec/reason-codes.ts'

/** How often the deadlines are checked: a deadline is met within this much. */
const SWEEP_INTERVAL_MS = 250

export function startKeepAliveSweep (engine: Engine): () => void {
  const { connectTimeoutSeconds, partialPacketTimeoutSeconds } = engine.config
  const connectMs = connectTimeoutSeconds * 1000
  const partialMs = partialPacketTimeoutSeconds * 1000
  const timer = setInterval(() => {
    const now = engine.nowMs()
    for (const c of engine.connections) {
      if (c.throttled) continue
      if (c.midPacket && now - c.lastActivityMs > partialMs) {
        engine.counters.partialPacketTimeouts.inc()
        c.closeReason = 'partial packet timeout'
        if (c.state === 'connected') c.disconnect(ReasonCode.ProtocolError, `part of a packet and nothing more for ${partialPacketTimeoutSeconds} s`)
        else c.fail(`part of a packet and nothing more for ${partialPacketTimeoutSeconds} s (mqtt.partialPacketTimeoutSeconds)`)
      } else if (c.state === 'awaiting-connect' || c.state === 'authenticating') {
        if (now - c.openedAtMs > connectMs) {
          engine.counters.connectTimeouts.inc()
          c.fail(`no CONNECT completed within ${connectTimeoutSeconds} s (mqtt.connectTimeoutSeconds)`)
        }
      } else if (c.state === 'connected' && c.keepAliveMs > 0 && now - c.lastActivityMs > c.keepAliveMs * 1.5) {
        c.closeReason = 'keep alive timeout'
        c.disconnect(ReasonCode.KeepAliveTimeout, `no packet within 1.5 x keep alive ${c.keepAliveMs / 1000} s`)
      }
    }
  }, SWEEP_INTERVAL_MS)
  timer.unref()
  return () => clearInterval(timer)
}
