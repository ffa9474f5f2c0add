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
  // Hoisted and allocation-free per connection: the sweep visits every connection four times a
  // second, so a per-connection iterator result or array entry was garbage at 2.5 MB/s with 10,000
  // idle clients, which kept V8 from ever shrinking the young generation of an idle broker.
  // One array for every sweep: the next sweep waits until this one's closes ran.
  const due: MqttConnection[] = []
  let now = 0
  const check = (c: MqttConnection): void => {
    if (!c.throttled && deadlineMissed(engine, c, now) !== null) due.push(c)
  }
  const timer = setInterval(() => {
    if (sweeping) return // the last sweep's closes are still running
    now = engine.clock.nowMs()
    engine.connections.forEach(check)
    if (due.length === 0) return
    sweeping = true
    let i = 0
    const slice = (): void => {
      for (const end = Math.min(i + CLOSES_PER_TURN, due.length); i < end; i++) {
        const c = due[i] as MqttConnection
        if (c.state !== 'closed') closeOverdue(engine, c, engine.clock.nowMs()) // not one its peer closed meanwhile
      }
      if (i < due.length) {
        setImmediate(slice)
        return
      }
      due.length = 0
      sweeping = false
    }
    slice()
  }, SWEEP_INTERVAL_MS)
  timer.unref()
  return () => clearInterval(timer)
}

type Deadline = 'partial packet' | 'connect' | 'keep alive'

/** Which of its deadlines a connection missed at `now`; null while it is within them. */
function deadlineMissed(engine: MqttNode, c: MqttConnection, now: number): Deadline | null {
  const { connectTimeoutSeconds, partialPacketTimeoutSeconds } = engine.config
  if (c.midPacket && now - c.lastActivityMs > partialPacketTimeoutSeconds * 1000) return 'partial packet'
  if (c.state === 'awaiting-connect' || c.state === 'authenticating') return now - c.openedAtMs > connectTimeoutSeconds * 1000 ? 'connect' : null
  if (c.state === 'connected' && c.keepAliveMs > 0 && now - c.lastActivityMs > c.keepAliveMs * 1.5) return 'keep alive'
  return null
}

/**
 * Closes a connection the sweep found overdue, for the deadline it still misses now: a packet that
 * arrived since the sweep (its closes run in slices) saves it.
 */
function closeOverdue(engine: MqttNode, c: MqttConnection, now: number): void {
  const { connectTimeoutSeconds, partialPacketTimeoutSeconds } = engine.config
  switch (deadlineMissed(engine, c, now)) {
    case 'partial packet':
      engine.counters.partialPacketTimeouts.inc()
      c.closeReason = 'partial packet timeout'
      if (c.state === 'connected') c.disconnect(ReasonCode.ProtocolError, `part of a packet and nothing more for ${partialPacketTimeoutSeconds} s`)
      else c.fail(`part of a packet and nothing more for ${partialPacketTimeoutSeconds} s (mqtt.partialPacketTimeoutSeconds)`)
      return
    case 'connect':
      engine.counters.connectTimeouts.inc()
      c.fail(`no CONNECT completed within ${connectTimeoutSeconds} s (mqtt.connectTimeoutSeconds)`)
      return
    case 'keep alive':
      c.closeReason = 'keep alive timeout'
      c.disconnect(ReasonCode.KeepAliveTimeout, `no packet within 1.5 x keep alive ${c.keepAliveMs / 1000} s`)
      return
    case null:
      return
  }
}
