// Every rate the management API reports, read on a timer (metrics.rateSampleIntervalSeconds), as
// RabbitMQ's collect_statistics_interval does: a rate is the change between two readings, so
// without this a single request (wharf ctl, a script) would be the first reading and read 0. The
// per-message cost stays a counter increment; the rates cost one pass over connections, channels
// and queues per interval.
import type { ManagementContext } from './management-context.ts'
import { queueJson } from './model-json.ts'
import { overview } from './routes/overview.ts'

export function sampleRates(ctx: ManagementContext): void {
  overview(ctx) // the node's message_stats and queue totals, and every connection's rates
  ctx.connections.channels()
  for (const v of ctx.broker.vhosts.values()) for (const q of v.queues.values()) queueJson(q, ctx.nodeName, ctx.rates)
}

/** Samples now and every intervalMs; returns the stop function. */
export function startRateSampling(ctx: ManagementContext, intervalMs: number): () => void {
  sampleRates(ctx)
  const timer = setInterval(() => sampleRates(ctx), intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}
