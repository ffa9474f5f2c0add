// Every rate the management API reports, read on a timer (metrics.rateSampleIntervalSeconds), as
// RabbitMQ's collect_statistics_interval does: a rate is the change between two readings, so
// without this a single request (wharf ctl, a script) would be the first reading and read 0. The
// per-message cost stays a counter increment; a sample reads the counters of every connection,
// channel and queue and builds no JSON (it once built the whole API's, ~3 KB per idle MQTT
// session every 5 s).
import type { ManagementContext } from './management-context.ts'
import { queueTotals } from './routes/overview.ts'

export function sampleRates(ctx: ManagementContext): void {
  const { rates } = ctx
  rates.nodeMessageStats.sample(rates.nodeOwner, ctx.messageTotals())
  rates.nodeQueueTotals.sample(rates.nodeOwner, queueTotals(ctx))
  ctx.connections.sampleRates()
  ctx.broker.forEachQueue(q => rates.queue.sample(q, q))
}

/** Samples now and every intervalMs; returns the stop function. */
export function startRateSampling(ctx: ManagementContext, intervalMs: number): () => void {
  sampleRates(ctx)
  const timer = setInterval(() => sampleRates(ctx), intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}
