// Every rate the management API reports, read on a timer (metrics.rateSampleIntervalSeconds), as
// RabbitMQ's collect_statistics_interval does: a rate is the change between two readings, so
// without this a single request (wharf ctl, a script) would be the first reading and read 0. The
// per-message cost stays a counter increment; a sample reads the counters of every connection,
// channel and queue and builds no JSON (it once built the whole API's, ~3 KB per idle MQTT
// session every 5 s).
import type { Queue } from '../../core/model/queue.ts'
import type { ManagementContext } from './management-context.ts'
import { queueTotals } from './routes/overview.ts'

export function sampleRates(ctx: ManagementContext): void {
  const { rates } = ctx
  rates.nodeMessageStats.sample(rates.nodeOwner, ctx.messageTotals())
  rates.nodeQueueTotals.sample(rates.nodeOwner, queueTotals(ctx))
  ctx.connections.sampleRates()
  // forEach, not for...of: this runs every few seconds, too rarely for V8 to optimise it, and the
  // interpreter allocates an iterator result per queue (10,000 MQTT sessions: ~0.3 MB per sample).
  const sampleQueue = (q: Queue): void => rates.queue.sample(q, q)
  ctx.broker.vhosts.forEach(v => v.queues.forEach(sampleQueue))
}

/** Samples now and every intervalMs; returns the stop function. */
export function startRateSampling(ctx: ManagementContext, intervalMs: number): () => void {
  sampleRates(ctx)
  const timer = setInterval(() => sampleRates(ctx), intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}
