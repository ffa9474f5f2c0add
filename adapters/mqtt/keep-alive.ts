// Deadlines of every connection, checked by one sweep instead of a timer each (10,000 idle
// connections cost no timers): CONNECT within mqtt.connectTimeoutSeconds; no packet left half
// received for mqtt.partialPacketTimeoutSeconds (a peer that stalls mid-packet holds a buffer and a
// socket for nothing); and keep alive — a client silent for one and a half times its interval is
// disconnected [MQTT-3.1.2-22]. A connection whose reads a publish rate limit paused is not blamed
// for its silence.
import type { MqttNode } from './engine.ts'
import type { MqttConnection } from './connection.ts'
import { ReasonCode } from './codec/reason-codes.ts'

/** How often the deadlines are checked: a deadline is met within this much. */
const SWEEP_INTERVAL_MS = 250
/**
 * Connections closed per turn of the event loop. Peers that stalled together expire together (a
 * flood of them, thousands in one sweep): closing them in slices lets the I/O of the other clients
 * run in between instead of waiting for every close.
 */
const CLOSES_PER_TURN = 50

export function startKeepAliveSweep(engine: MqttNode): () => void {
  let sweeping = false
  const timer = setInterval(() => {
    if (sweeping) return // the last sweep's closes are still running
    const now = engine.clock.nowMs()
    const due: Array<{ c: MqttConnection; close: () => void }> = []
    for (const c of engine.connections) {
      const close = c.throttled ? null : overdue(engine, c, now)
      if (close !== null) due.push({ c, close })
    }
    if (due.length === 0) return
    sweeping = true
    let i = 0
    const slice = (): void => {
      for (const end = Math.min(i + CLOSES_PER_TURN, due.length); i < end; i++) {
        const { c, close } = due[i] as { c: MqttConnection; close: () => void }
        if (c.state !== 'closed') close() // not one its peer closed meanwhile
      }
      if (i < due.length) setImmediate(slice)
      else sweeping = false
    }
    slice()
  }, SWEEP_INTERVAL_MS)
  timer.unref()
  return () => clearInterval(timer)
}

/** How to close a connection past one of its deadlines; null while it is within them. */
function overdue(engine: MqttNode, c: MqttConnection, now: number): (() => void) | null {
  const { connectTimeoutSeconds, partialPacketTimeoutSeconds } = engine.config
  if (c.midPacket && now - c.lastActivityMs > partialPacketTimeoutSeconds * 1000) {
    return () => {
      engine.counters.partialPacketTimeouts.inc()
      c.closeReason = 'partial packet timeout'
      if (c.state === 'connected') c.disconnect(ReasonCode.ProtocolError, `part of a packet and nothing more for ${partialPacketTimeoutSeconds} s`)
      else c.fail(`part of a packet and nothing more for ${partialPacketTimeoutSeconds} s (mqtt.partialPacketTimeoutSeconds)`)
    }
  }
  if (c.state === 'awaiting-connect' || c.state === 'authenticating') {
    if (now - c.openedAtMs <= connectTimeoutSeconds * 1000) return null
    return () => {
      engine.counters.connectTimeouts.inc()
      c.fail(`no CONNECT completed within ${connectTimeoutSeconds} s (mqtt.connectTimeoutSeconds)`)
    }
  }
  if (c.state === 'connected' && c.keepAliveMs > 0 && now - c.lastActivityMs > c.keepAliveMs * 1.5) {
    return () => {
      c.closeReason = 'keep alive timeout'
      c.disconnect(ReasonCode.KeepAliveTimeout, `no packet within 1.5 x keep alive ${c.keepAliveMs / 1000} s`)
    }
  }
  return null
}
