// Rates of change per second of counters (messages published, bytes received) and gauges (queue
// depth), as the management API reports them ({"publish": 120, "publish_details": {"rate": 4.2}}).
// A rate is the change between two readings at least intervalMs apart; the sampler
// (rate-sampling.ts) takes a reading every metrics.rateSampleIntervalSeconds.
//
// Readings are kept per counted object (a connection's MessageCounts, a queue) in a WeakMap, one
// array of numbers, [atMs, value, rate] per counter: they go when the object goes, and no string key
// or object is made per counter. A plain array of doubles, not a Float64Array: a typed array and
// its ArrayBuffer cost ~250 B where this costs ~100 (every connection that moved a byte has one). An object whose counters are all still 0 gets no readings at all,
// so 10,000 idle MQTT sessions cost nothing here (it was ~2.7 KB each with a string-keyed map).
import type { Json } from './model-json.ts'

export interface RatedCounter<T> {
  /** The JSON name: publish, recv_oct, messages_ready. */
  readonly name: string
  read(source: T): number
}

const AT = 0
const VALUE = 1
const RATE = 2
const FIELDS = 3

export class CounterRates<T> {
  private readonly readings = new WeakMap<object, number[]>()

  constructor(
    private readonly counters: readonly RatedCounter<T>[],
    private readonly nowMs: () => number,
    private readonly intervalMs = 1000
  ) {}

  /** Takes a reading of every counter of owner (whose values come from source); builds nothing. */
  sample(owner: object, source: T): void {
    const r = this.readingsOf(owner, source)
    if (r === undefined) return
    const now = this.nowMs()
    for (let i = 0; i < this.counters.length; i++) this.update(r, i, (this.counters[i] as RatedCounter<T>).read(source), now)
  }

  /** {"<name>": total, "<name>_details": {"rate": r}} for every counter: RabbitMQ's shape. */
  stats(owner: object, source: T): Json {
    const r = this.readingsOf(owner, source)
    const now = this.nowMs()
    const out: Json = {}
    for (let i = 0; i < this.counters.length; i++) {
      const c = this.counters[i] as RatedCounter<T>
      const value = c.read(source)
      out[c.name] = value
      out[`${c.name}_details`] = { rate: r === undefined ? 0 : round(this.update(r, i, value, now)) }
    }
    return out
  }

  /** The owner's readings; undefined (and none made) while every counter is still 0. */
  private readingsOf(owner: object, source: T): number[] | undefined {
    const known = this.readings.get(owner)
    if (known !== undefined) return known
    // A loop, not every() with a closure: idle owners are asked here on every sample.
    for (let i = 0; ; i++) {
      if (i === this.counters.length) return undefined
      if ((this.counters[i] as RatedCounter<T>).read(source) !== 0) break
    }
    const made = new Array<number>(this.counters.length * FIELDS).fill(Number.NaN)
    this.readings.set(owner, made)
    return made
  }

  private update(r: number[], i: number, value: number, now: number): number {
    const at = i * FIELDS
    const lastAt = r[at + AT] as number
    if (Number.isNaN(lastAt)) {
      r[at + AT] = now
      r[at + VALUE] = value
      r[at + RATE] = 0
    } else if (now - lastAt >= this.intervalMs) {
      r[at + RATE] = ((value - (r[at + VALUE] as number)) * 1000) / (now - lastAt)
      r[at + AT] = now
      r[at + VALUE] = value
    }
    return r[at + RATE] as number
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10
}
