import type { StreamPublishResult, StreamReplayResult } from '../workers/stream-replay-messages.ts'
import { countFigure, cpuPerMessage, msFigure } from './amqp-run.ts'
import type { Figure } from './scenario.ts'
import { replayRatePerS } from './stream-replay-phases.ts'
import type { TieredReplay } from './stream-replay-tiered.ts'

/** The target: cold replay at least this fraction of hot replay, S3 on loopback. */
export const COLD_TO_HOT_TARGET = 0.5
const MB = 1024 * 1024

const rate = (key: string, label: string, value: number, headline = false): Figure => ({
  key,
  label,
  value,
  unit: 'msg/s',
  better: 'higher',
  ...(headline ? { headline } : {})
})
const percent = (key: string, label: string, value: number, better: 'higher' | 'lower'): Figure => ({ key, label, value: value * 100, unit: '%', better })
const megabytes = (key: string, label: string, bytes: number | undefined): Figure[] =>
  bytes === undefined ? [] : [{ key, label, value: bytes / MB, unit: 'MB', better: 'lower' }]

export function publishFigures(published: StreamPublishResult): Figure[] {
  const seconds = Math.max((published.endMs - published.startMs) / 1000, 0.001)
  return [
    countFigure('messages', 'messages', published.confirmed),
    countFigure('payloadBytes', 'payload bytes', published.payloadBytes),
    rate('publishRate', 'publish confirmed (msg/s)', published.confirmed / seconds)
  ]
}

export function replayFigures(r: StreamReplayResult, tier: 'hot' | 'cold', published: number): Figure[] {
  return [
    rate(`${tier}Rate`, `${tier} replay (msg/s)`, replayRatePerS(r), true),
    msFigure(`${tier}FirstMs`, `${tier} replay: first delivery after consume`, r.firstMs - r.consumeMs),
    countFigure(`${tier}Delivered`, `${tier} replay: delivered`, r.received),
    countFigure(`${tier}Lost`, `${tier} replay: lost`, published - r.unique, 'lower'),
    countFigure(`${tier}OutOfOrder`, `${tier} replay: out of order`, r.outOfOrder, 'lower'),
    countFigure(`${tier}Corrupt`, `${tier} replay: payload altered`, r.corrupt, 'lower')
  ]
}

/** Everything the Wharf run measures beyond the publish and the two replays' rates. */
export function tieredFigures(run: TieredReplay): Figure[] {
  const { published, hotTiering, offloaded, coldTiering, bucket } = run
  const cold = replayRatePerS(run.cold)
  const hot = replayRatePerS(run.hot)
  const delta = (after: number, before: number): number => after - before
  return [
    ...cpuPerMessage('hotCpuPerMsg', 'hot replay: broker CPU per message (µs)', run.hotCpuMs, run.hot.unique),
    ...cpuPerMessage('coldCpuPerMsg', 'cold replay: broker CPU per message (µs)', run.coldCpuMs, run.cold.unique),
    percent('coldToHot', 'cold / hot replay (%)', hot === 0 ? 0 : cold / hot, 'higher'),
    countFigure('objects', 'objects in the bucket', bucket.objects),
    countFigure('objectBytes', 'object-store bytes', bucket.bytes),
    percent('storedPerPayload', 'object-store bytes / payload bytes (%)', published.payloadBytes === 0 ? 0 : bucket.bytes / published.payloadBytes, 'lower'),
    countFigure('hotLocalBytes', 'local stream bytes before offload', hotTiering.localStreamBytes),
    msFigure('offloadMs', 'restart + offload of everything', run.offloadMs),
    countFigure('coldGets', 'cold replay: ranged GETs', delta(coldTiering.requests.gets, offloaded.requests.gets)),
    countFigure('coldGetBytes', 'cold replay: bytes fetched', delta(coldTiering.requests.getBytes, offloaded.requests.getBytes)),
    countFigure('cacheMisses', 'cold replay: cache misses', delta(coldTiering.cache.misses, offloaded.cache.misses)),
    countFigure('cacheHits', 'cold replay: cache hits', delta(coldTiering.cache.hits, offloaded.cache.hits)),
    countFigure('cacheJoins', 'cold replay: joined a load in flight', delta(coldTiering.cache.joins, offloaded.cache.joins)),
    countFigure('prefetches', 'cold replay: prefetches', delta(coldTiering.cache.prefetches, offloaded.cache.prefetches)),
    { key: 'cachePeak', label: 'cold replay: cache peak', value: coldTiering.cache.maxBytesSeen / MB, unit: 'MB', better: 'lower' },
    ...megabytes('hotRss', 'hot broker rss after replay', run.hotMemory?.rssBytes),
    ...megabytes('hotRssPeak', 'hot broker rss peak', run.hotMemory?.peakRssBytes),
    ...megabytes('coldRss', 'cold broker rss after replay', run.coldMemory?.rssBytes),
    ...megabytes('coldRssPeak', 'cold broker rss peak', run.coldMemory?.peakRssBytes)
  ]
}

/** The figures in words with their decimals (the table rounds), and the target as met or MISSED. */
export function tieredNotes(run: TieredReplay): string[] {
  const hot = replayRatePerS(run.hot)
  const cold = replayRatePerS(run.cold)
  const ratio = hot === 0 ? 0 : cold / hot
  const stored = run.published.payloadBytes === 0 ? 0 : run.bucket.bytes / run.published.payloadBytes
  const perMessage = run.published.confirmed === 0 ? 0 : run.bucket.bytes / run.published.confirmed
  return [
    `object store: ${run.bucket.objects} objects, ${run.bucket.bytes} bytes = ${stored.toFixed(3)} stored bytes per payload byte ` +
      `(${perMessage.toFixed(1)} bytes per message; payloads are incompressible random bytes)`,
    `target cold replay >= ${COLD_TO_HOT_TARGET}x hot: ${ratio >= COLD_TO_HOT_TARGET ? 'met' : 'MISSED'} (${ratio.toFixed(2)}x: ` +
      `cold ${Math.round(cold)} msg/s, hot ${Math.round(hot)} msg/s)`,
    "the 'broker rss at end/peak' rows are the idle Wharf the harness started; the scenario measures Wharfs of its own (the hot/cold broker rss rows)"
  ]
}
