// What the bridge suites assert about a stream of numbered messages at the remote: every one the
// edge acknowledged arrived, the first arrivals are in publish order, and the repeats are few enough
// to be the ones the bridge counted.
import assert from 'node:assert/strict'

export interface ArrivalReport {
  /** Arrivals of a number already seen that the remote sent as new: the bridge sent them again. */
  readonly duplicates: number
  /** Arrivals of a number already seen that the remote marked redelivered (its own at-least-once to its consumer). */
  readonly remoteRedeliveries: number
  readonly distinct: number
}

export interface Arrival {
  readonly body: string
  readonly redelivered?: boolean
}

/**
 * arrivals: what arrived, in order; acked: the numbers the edge acknowledged to their publisher.
 * ordered false: first arrivals may come in any order (a remote that does not keep it).
 */
export function checkArrivals(arrivals: ReadonlyArray<Arrival | string>, acked: Iterable<number>, what: string, ordered = true): ArrivalReport {
  const seen = new Set<number>()
  let last = -1
  let duplicates = 0
  let remoteRedeliveries = 0
  for (const a of arrivals) {
    const b = typeof a === 'string' ? a : a.body
    const n = Number(b)
    assert.ok(Number.isInteger(n), `${what}: unexpected body ${JSON.stringify(b)}`)
    if (seen.has(n)) {
      if (typeof a !== 'string' && a.redelivered === true) remoteRedeliveries++
      else duplicates++
      continue
    }
    if (ordered) assert.ok(n > last, `${what}: ${n} arrived after ${last} (out of publish order)`)
    last = n
    seen.add(n)
  }
  const missing = [...acked].filter(n => !seen.has(n))
  assert.deepEqual(missing.slice(0, 20), [], `${what}: ${missing.length} acknowledged messages missing at the remote`)
  return { duplicates, remoteRedeliveries, distinct: seen.size }
}
