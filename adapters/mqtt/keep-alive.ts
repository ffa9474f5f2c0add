// Deadlines of every connection, checked by one sweep instead of a timer each (10,000 idle
// connections cost no timers): CONNECT within mqtt.connectTimeoutSeconds, and keep alive — a
// client silent for one and a half times its interval is disconnected [MQTT-3.1.2-22].
import type { Engine } from './engine.ts'
import { ReasonCode } from './codec/reason-codes.ts'

export function startKeepAliveSweep (engine: Engine): () => void {
  const connectMs = engine.config.connectTimeoutSeconds * 1000
  const timer = setInterval(() => {
    const now = engine.nowMs()
    for (const c of engine.connections) {
      if (c.state === 'awaiting-connect' || c.state === 'authenticating') {
        if (now - c.openedAtMs > connectMs) c.fail(`no CONNECT completed within ${engine.config.connectTimeoutSeconds} s`)
      } else if (c.state === 'connected' && c.keepAliveMs > 0 && now - c.lastActivityMs > c.keepAliveMs * 1.5) {
        c.closeReason = 'keep alive timeout'
        c.disconnect(ReasonCode.KeepAliveTimeout, `no packet within 1.5 x keep alive ${c.keepAliveMs / 1000} s`)
      }
    }
  }, Math.min(1000, connectMs))
  timer.unref()
  return () => clearInterval(timer)
}
