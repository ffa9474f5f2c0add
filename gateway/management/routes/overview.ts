// GET /api/overview: the node at a glance, in RabbitMQ's fields (message_stats with rates,
// queue_totals, object_totals), plus Wharf's own (store, uptime).
import { exchangeTypes } from '../../../core/model/exchange-types/index.ts'
import { object, type ApiCall, type Route } from '../api-router.ts'
import type { ManagementContext } from '../management-context.ts'
import type { Json } from '../model-json.ts'
import type { QueueTotals } from '../management-rates.ts'

export const overviewRoutes: Route[] = [{ method: 'GET', path: '/api/overview', handler: ({ ctx }: ApiCall) => object(overview(ctx)) }]

/** The node's queues, consumers and the messages in its queues, counted in one pass. */
export function queueTotals(ctx: ManagementContext): QueueTotals & { queues: number; exchanges: number; consumers: number } {
  let queues = 0
  let exchanges = 0
  let consumers = 0
  let ready = 0
  let unacked = 0
  for (const v of ctx.broker.vhosts.values()) exchanges += v.exchanges.size
  // Broker.forEachQueue: the rate sampler calls this every few seconds.
  ctx.broker.forEachQueue(q => {
    queues++
    consumers += q.consumerCount
    ready += q.messageCount
    unacked += q.unackedCount
  })
  return { queues, exchanges, consumers, ready, unacked }
}

export function overview(ctx: ManagementContext): Json {
  const { rates } = ctx
  const totals = queueTotals(ctx)
  const { queues, exchanges, consumers } = totals
  const connections = ctx.connections.connections()
  return {
    management_version: ctx.version,
    rates_mode: 'basic',
    product_name: 'Wharf',
    product_version: ctx.version,
    node: ctx.nodeName,
    cluster_name: ctx.nodeName,
    exchange_types: [...exchangeTypes.keys()].map(name => ({ name, description: `${name} exchange`, enabled: true })),
    message_stats: rates.nodeMessageStats.stats(rates.nodeOwner, ctx.messageTotals()),
    queue_totals: rates.nodeQueueTotals.stats(rates.nodeOwner, totals),
    object_totals: {
      channels: connections.reduce((n, c) => n + (typeof c.channels === 'number' ? c.channels : 0), 0),
      connections: connections.length,
      consumers,
      exchanges,
      queues
    },
    uptime_ms: ctx.nowMs() - ctx.startedAtMs,
    node_version: process.version,
    ...ctx.overviewExtras()
  }
}
