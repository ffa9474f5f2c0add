// The MQTT engine of each vhost, as RabbitMQ's MQTT plugin serves every vhost: its MQTT exchange
// (declared where missing), its retained messages (a sink on that exchange, so AMQP publishes with
// x-mqtt-retain are kept too), its sessions restored from the store (expiries and wills run), and its
// $SYS topics. Opened for every vhost at start and when a vhost is added, and at CONNECT for a vhost
// not yet open; closed when its vhost is deleted.
import type { Broker } from '../../core/model/broker.ts'
import type { SqliteStore } from '../../core/storage/sqlite-store.ts'
import type { PropertiesCodec } from '../../core/model/sqlite/sqlite-durable-store.ts'
import { Engine, type MqttNode } from './engine.ts'
import { RetainedMessages } from './retained.ts'
import { Sessions } from './sessions.ts'
import { SessionStore } from './session-store.ts'
import { startSysTopics } from './sys-topics.ts'
import { SESSION_QUEUE_PREFIX } from './topic-grammar.ts'
import { ReasonCode } from './codec/reason-codes.ts'

export interface VhostEngineDeps {
  readonly model: Broker
  readonly store: SqliteStore
  readonly propertiesCodec: PropertiesCodec
  readonly version: string
}

interface Opened {
  readonly engine: Engine
  readonly stopSys: () => void
}

export class VhostEngines {
  private readonly open = new Map<string, Opened>()
  /** Openings in progress: two CONNECTs to a new vhost open it once. */
  private readonly opening = new Map<string, Promise<Engine | undefined>>()

  constructor(
    private readonly node: MqttNode,
    private readonly deps: VhostEngineDeps
  ) {}

  /** The engine of an open vhost whose model vhost still exists. */
  get(name: string): Engine | undefined {
    const o = this.open.get(name)
    return o !== undefined && this.deps.model.vhost(name) === o.engine.vhost ? o.engine : undefined
  }

  values(): Engine[] {
    return [...this.open.values()].map(o => o.engine)
  }

  /** The vhost's engine, opened now if need be; undefined when the model has no such vhost. */
  async engine(name: string): Promise<Engine | undefined> {
    const ready = this.get(name)
    if (ready !== undefined) return ready
    let pending = this.opening.get(name)
    if (pending === undefined) {
      pending = this.openEngine(name).finally(() => this.opening.delete(name))
      this.opening.set(name, pending)
    }
    return await pending
  }

  private async openEngine(name: string): Promise<Engine | undefined> {
    const vhost = this.deps.model.vhost(name)
    if (vhost === undefined) return undefined
    if (this.open.has(name)) this.close(name, 'vhost recreated') // the vhost was deleted and added again
    const { node } = this
    const exchange = node.exchange
    try {
      if (vhost.exchangeNamed(exchange) === undefined) {
        await vhost.declareExchange({ name: exchange, type: 'topic', durable: true, autoDelete: false, internal: false, arguments: {} }, false)
      }
    } catch (err) {
      throw new Error(`mqtt: declare exchange '${exchange}' (mqtt.exchange) in vhost '${name}': ${(err as Error).message}`)
    }
    const retained = new RetainedMessages(this.deps.store, this.deps.propertiesCodec, exchange, name)
    vhost.attachSink(exchange, retained)
    const engine = new Engine(node, vhost, retained)
    engine.sessions = new Sessions(engine, new SessionStore(this.deps.store, name))
    vhost.overflowListeners.add((q, outcome) => {
      if (!q.name.startsWith(SESSION_QUEUE_PREFIX)) return
      node.counters.queueOverflow.inc()
      node.warnOnce.warn('queue limit reached, message dropped', { vhost: name, queue: q.name, policy: node.config.queueOverflow, outcome })
    })
    await engine.sessions.restore()
    this.open.set(name, { engine, stopSys: startSysTopics(engine, this.deps.version) })
    return engine
  }

  /**
   * The vhost is being deleted (or came back as a new one): its clients are disconnected, its timers
   * stop. Its queues, with the sessions' messages, go with the vhost in the model.
   */
  close(name: string, reason: string): void {
    const o = this.open.get(name)
    if (o === undefined) return
    this.open.delete(name)
    o.stopSys()
    for (const c of [...this.node.connections]) {
      if (c.engine === o.engine && c.state === 'connected') c.disconnect(ReasonCode.AdministrativeAction, reason)
    }
    o.engine.sessions.close()
  }

  /** Shutdown: every vhost's timers stop; sessions stay stored as they are. */
  closeAll(): void {
    for (const o of this.open.values()) {
      o.stopSys()
      o.engine.sessions.close()
    }
  }
}
