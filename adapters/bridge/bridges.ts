// The bridges of a node (config `bridges:`), started after the MQTT adapter (whose exchange their
// queues bind on) and stopped before the protocol adapters, so nothing they hold is lost on the way.
import type { Broker } from '../../core/model/broker.ts'
import type { Clock } from '../../core/clock.ts'
import type { Logger } from '../../core/logger.ts'
import type { Metrics } from '../../core/metrics.ts'
import type { SqliteStore } from '../../core/storage/sqlite-store.ts'
import type { BridgeConfig, MqttConfig } from '../../edge-config/config-types.ts'
import { BRIDGE_SCHEMES } from '../../edge-config/bridge-checks.ts'
import { bridgeVhost } from '../../edge-config/config-vhosts.ts'
import { Bridge } from './bridge.ts'
import { retireStaleBridgeQueues } from './bridge-queue.ts'
import { bridgeCounters, registerBridgeGauges } from './bridge-metrics.ts'
import type { BridgeStatus } from './bridge-status.ts'
import type { DownlinkGate } from './downlink-gate.ts'
import { DownlinkReceipts } from './downlink-receipts.ts'
import type { LinkFactory } from './links/link.ts'

export interface BridgesOptions {
  readonly bridges: readonly BridgeConfig[]
  readonly broker: Broker
  /** mqtt.exchange (in each bridge's vhost): what the bridge queues bind on and downlinked messages go to; mqtt.vhost: the vhost of a bridge that names none. */
  readonly mqtt: Pick<MqttConfig, 'vhost' | 'exchange'>
  readonly nodeId: string
  readonly clock: Clock
  readonly logger: Logger
  readonly metrics: Metrics
  /** A bridge's backlog bound throttles the publishers of its vhost (reason) or lets them go (null). */
  readonly onBlock: (bridgeName: string, vhost: string, reason: string | null) => void
  /** Closed by the disk watermark: downlinks stop taking from their remotes. */
  readonly downlinkGate: DownlinkGate
  /** Where an MQTT downlink keeps its QoS 2 receipts (downlink-receipts.ts); null: in memory. */
  readonly store: SqliteStore | null
  /** Tests replace the links. */
  readonly links?: Readonly<Record<'amqp' | 'mqtt', LinkFactory>>
}

export interface Bridges {
  status(): BridgeStatus[]
  close(): Promise<void>
}

// Loaded by the first bridge of each kind, not with this module: the AMQP and MQTT client libraries
// cost a broker without bridges ~25 MB of resident memory (issue 9's idle target is 80 MB).
const LINKS: Readonly<Record<'amqp' | 'mqtt', () => Promise<LinkFactory>>> = {
  amqp: async () => (await import('./links/amqp-link.ts')).amqpLink,
  mqtt: async () => (await import('./links/mqtt-link.ts')).mqttLink
}

export async function startBridges(opts: BridgesOptions): Promise<Bridges> {
  const placed = opts.bridges.map(config => {
    const name = bridgeVhost(config, opts.mqtt)
    const vhost = opts.broker.vhost(name)
    if (vhost === undefined) throw new Error(`bridge ${config.name}: vhost '${name}' does not exist (bridges[].vhost, or mqtt.vhost when it is null)`)
    return { config, vhost }
  })
  const log = opts.logger.child({ component: 'bridge' })
  // In every vhost: a bridge removed from the configuration, or moved to another vhost, leaves its queue here.
  for (const vhost of opts.broker.vhosts.values()) {
    const configured = placed.filter(p => p.vhost === vhost).map(p => p.config.name)
    for (const r of await retireStaleBridgeQueues(vhost, opts.mqtt.exchange, configured)) {
      log.warn('the queue of a bridge no longer configured in this vhost is unbound and kept; delete it once its messages are not needed', {
        vhost: vhost.name,
        ...r
      })
    }
  }
  const forgotten = await DownlinkReceipts.forgetUnconfigured(
    opts.store,
    opts.bridges.map(b => b.name)
  )
  if (forgotten > 0) log.info('QoS 2 receipts of bridges no longer configured were dropped', { receipts: forgotten })
  const started: Bridge[] = []
  const stopAll = async (): Promise<void> => {
    await Promise.all(started.map(b => b.stop()))
  }
  try {
    for (const { config, vhost } of placed) {
      const remote = BRIDGE_SCHEMES[new URL(config.url).protocol]?.kind ?? 'mqtt'
      started.push(
        await Bridge.start(config, {
          vhost,
          exchange: opts.mqtt.exchange,
          nodeId: opts.nodeId,
          clock: opts.clock,
          logger: opts.logger,
          counters: bridgeCounters(opts.metrics, config.name),
          link: opts.links?.[remote] ?? (await LINKS[remote]()),
          remote,
          onBlock: reason => opts.onBlock(config.name, vhost.name, reason),
          downlinkGate: opts.downlinkGate,
          receipts: new DownlinkReceipts(opts.store, config.name)
        }).catch(err => {
          throw new Error(`bridge ${config.name}: ${(err as Error).message}`)
        })
      )
    }
  } catch (err) {
    await stopAll()
    throw err
  }
  if (started.length > 0) registerBridgeGauges(opts.metrics, () => started.map(b => b.status()))
  return { status: () => started.map(b => b.status()), close: stopAll }
}
