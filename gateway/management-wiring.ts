// The management API's view of the node: the composition root hands it the model, the access store,
// both adapters and the counters its rates come from.
import { hostname } from 'node:os'
import type { Broker } from '../core/model/broker.ts'
import type { AccessControl } from '../core/auth/access-control.ts'
import type { ObjectLimitsStore } from '../core/limits/object-limits-store.ts'
import type { Metrics } from '../core/metrics.ts'
import type { AmqpAdapter } from '../adapters/amqp/amqp-adapter.ts'
import type { MqttAdapter } from '../adapters/mqtt/mqtt-adapter.ts'
import type { AdminApi } from './admin-http.ts'
import type { Json } from './management/model-json.ts'
import type { ManagementContext } from './management/management-context.ts'
import { managementRates } from './management/management-rates.ts'
import { connectionSource } from './management/connection-json.ts'
import { managementApi } from './management/api-router.ts'
import { managementRoutes } from './management/routes/index.ts'

export interface ManagementParts {
  readonly broker: Broker
  readonly access: AccessControl
  readonly objectLimits: ObjectLimitsStore
  readonly amqp: AmqpAdapter
  readonly mqtt: MqttAdapter
  readonly metrics: Metrics
  readonly version: string
  readonly startedAtMs: number
  readonly mqttVhost: string
  readonly mqttExchange: string
  nowMs(): number
  overviewExtras(): Json
}

export function managementContext(p: ManagementParts): ManagementContext {
  const rates = managementRates(p.nowMs)
  const nodeName = `wharf@${hostname()}`
  const total = (...names: string[]): number => names.reduce((n, name) => n + p.metrics.value(name), 0)
  return {
    broker: p.broker,
    access: p.access,
    objectLimits: p.objectLimits,
    connections: connectionSource(p.amqp, p.mqtt, rates, nodeName),
    rates,
    nodeName,
    version: p.version,
    startedAtMs: p.startedAtMs,
    mqtt: { vhost: p.mqttVhost, exchange: p.mqttExchange },
    nowMs: p.nowMs,
    messageTotals: () => {
      let ack = 0
      for (const v of p.broker.vhosts.values()) ack += v.ackedCount
      return {
        publish: total('wharf_amqp_messages_published_total', 'wharf_mqtt_messages_published_total'),
        deliver_get: total('wharf_amqp_messages_delivered_total', 'wharf_mqtt_messages_delivered_total'),
        ack
      }
    },
    overviewExtras: p.overviewExtras
  }
}

export function managementApiOf(ctx: ManagementContext): AdminApi {
  return managementApi(ctx, managementRoutes)
}
