import type { LatencySummary } from './worker-messages.ts'

/** Nearest-rank percentiles of the samples (sorted in place). */
export function summarizeLatencies(samples: Float64Array): LatencySummary {
  if (samples.length === 0) return { p50: 0, p90: 0, p99: 0, max: 0, mean: 0 }
  samples.sort()
  const at = (q: number): number => samples[Math.max(0, Math.ceil(q * samples.length) - 1)] ?? 0
  let sum = 0
  for (const s of samples) sum += s
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: samples[samples.length - 1] ?? 0, mean: sum / samples.length }
}
