// One cause /api/diagnose names: what it is, the numbers behind it, and a one-line suggestion.
export type Cause =
  | 'no-consumer'
  | 'consumers-at-prefetch'
  | 'consumers-not-reading'
  | 'redelivery-loop'
  | 'cold-reads'
  | 'publishers-outpace-consumers'
  | 'bridge-link-down'
  | 'bridge-remote-slow'
  | 'publishers-blocked-disk'
  | 'publishers-blocked-memory'
  | 'publishers-blocked-rate-limit'
  | 'publishers-blocked-bridge'
  | 'object-store-unreachable'

export interface Finding {
  readonly cause: Cause
  /** One sentence with the numbers. */
  readonly summary: string
  readonly suggestion: string
  readonly numbers: Readonly<Record<string, number | string | null>>
}
