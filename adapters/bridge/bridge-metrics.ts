// A bridge's counters (labelled with its name) and the gauges of every bridge, for /metrics.
import type { Counter, Metrics } from '../../core/metrics.ts'
import type { BridgeStatus } from './bridge-status.ts'

export interface BridgeCounters {
  readonly forwarded: Counter
  readonly confirmed: Counter
  readonly redelivered: Counter
  readonly loopsSkipped: Counter
  readonly deadLettered: Counter
  readonly dropped: Counter
  readonly downlinked: Counter
  readonly echoesDropped: Counter
  readonly downlinkRefused: Counter
  readonly unrouted: Counter
  readonly reconnects: Counter
}

export function bridgeCounters(metrics: Metrics, bridge: string): BridgeCounters {
  const c = (name: string, help: string): Counter => metrics.counter(name, help, { bridge })
  return {
    forwarded: c('wharf_bridge_forwarded_total', 'Messages a bridge sent to its remote (again, for redelivered ones)'),
    confirmed: c('wharf_bridge_confirmed_total', 'Messages the remote confirmed (AMQP confirm, MQTT PUBACK/PUBCOMP), deleted from the backlog'),
    redelivered: c(
      'wharf_bridge_redelivered_total',
      'Messages sent that may have been sent before (after a lost link or a restart): possible duplicates at the remote'
    ),
    loopsSkipped: c('wharf_bridge_loops_skipped_total', 'Messages not sent up: they came down this bridge or already went through the remote'),
    deadLettered: c(
      'wharf_bridge_dead_lettered_total',
      "Messages the remote refused for good (too large, not authorized, invalid), moved to the bridge's dead-letter queue bridge-dead/<name>"
    ),
    dropped: c('wharf_bridge_dropped_total', 'Messages dropped at backlogBytesMax (backlogPolicy drop-oldest)'),
    downlinked: c('wharf_bridge_downlinked_total', 'Messages from the remote published locally'),
    echoesDropped: c('wharf_bridge_echoes_dropped_total', 'Messages from the remote that this node had sent up itself, not published again'),
    downlinkRefused: c(
      'wharf_bridge_downlink_refused_total',
      'Messages from the remote that could not be published locally (bad topic or properties), acknowledged and dropped'
    ),
    unrouted: c(
      'wharf_bridge_unrouted_total',
      'Messages the remote confirmed and routed to no one (AMQP basic.return of a mandatory publish, MQTT 5 PUBACK/PUBREC 0x10): dropped there'
    ),
    reconnects: c('wharf_bridge_link_failures_total', 'Failed connection attempts and lost links')
  }
}

/** The per-bridge gauges, read from the bridges' status at scrape time. */
export function registerBridgeGauges(metrics: Metrics, statuses: () => BridgeStatus[]): void {
  const gauge = (name: string, help: string, value: (s: BridgeStatus) => number): void => {
    metrics.gaugeFamily(name, help, ['bridge'], emit => {
      for (const s of statuses()) emit({ bridge: s.name }, value(s))
    })
  }
  gauge('wharf_bridge_connected', '1 while the bridge has a link to its remote', s => (s.state === 'connected' ? 1 : 0))
  gauge('wharf_bridge_backlog_messages', 'Messages in the bridge queue (in flight included)', s => s.backlog.messages)
  gauge('wharf_bridge_backlog_bytes', 'Body bytes in the bridge queue (in flight included)', s => s.backlog.bytes)
  gauge('wharf_bridge_inflight_messages', 'Messages sent and not yet confirmed', s => s.backlog.inflightMessages)
  gauge('wharf_bridge_oldest_message_age_seconds', 'Age of the oldest message in the backlog (0 when empty)', s => (s.backlog.oldestMessageAgeMs ?? 0) / 1000)
  gauge(
    'wharf_bridge_in_topics_refused',
    'in topics the connected remote refused (SUBACK, queue.bind): their commands do not come down',
    s => s.inRefused.length
  )
  gauge('wharf_bridge_publishers_blocked', '1 while the backlog bound (policy block) throttles publishers', s => (s.backlog.blockingPublishers ? 1 : 0))
}
