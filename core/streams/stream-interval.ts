// RabbitMQ's duration strings for streams: x-max-age ('7D', '12h') and x-stream-offset intervals
// ('30m' = from 30 minutes ago). A positive integer and one unit: Y (365 days), M (30 days), D, h,
// m, s — as rabbit_amqqueue:check_max_age reads them.

const UNIT_MS: Readonly<Record<string, number>> = {
  Y: 365 * 24 * 3600_000,
  M: 30 * 24 * 3600_000,
  D: 24 * 3600_000,
  h: 3600_000,
  m: 60_000,
  s: 1000
}

const INTERVAL = /^(\d{1,12})([YMDhms])$/

/** Milliseconds of a duration string, or undefined when it is not one (or not positive). */
export function intervalMs(text: string): number | undefined {
  const match = INTERVAL.exec(text)
  if (match === null) return undefined
  const value = Number(match[1])
  const unit = UNIT_MS[match[2] as string] as number
  return value > 0 ? value * unit : undefined
}
