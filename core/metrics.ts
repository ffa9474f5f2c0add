// Wharf's metrics on prom-client, one registry per node (tests run several nodes in one process).
// Hot paths only touch plain numbers: a counter handle bumps a cell, and every family is written
// into prom-client when /metrics is scraped (collect), so a message costs no label hashing.
// Totals kept elsewhere (store commits, tiering uploads) are counters read on scrape.
import { Counter as PromCounter, Gauge as PromGauge, Registry, collectDefaultMetrics } from 'prom-client'

export interface Counter {
  inc(by?: number): void
  readonly value: number
}

export interface Histogram {
  /** One observation, in the family's unit (seconds for latencies). */
  observe(value: number): void
}

export type Labels = Readonly<Record<string, string>>
/** Writes one labelled sample of a family being collected. */
export type Emit = (labels: Labels, value: number) => void

interface CounterCell {
  readonly labels: Labels
  value: number
}

interface Family {
  readonly kind: 'counter' | 'gauge' | 'histogram'
  readonly labelNames: readonly string[]
  /** The current sum over every series (tests and the admin API read it synchronously). */
  readonly sum: () => number
}

/** Latency buckets in seconds, 100 µs to 10 s: a group commit takes ~1 ms, a publish-to-ack a few. */
export const latencyBucketsSeconds = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export interface MetricsOptions {
  /** Process and Node.js runtime metrics (CPU, memory, event loop lag, GC, handles). */
  readonly defaultMetrics?: boolean
}

export class Metrics {
  readonly registry = new Registry()
  private readonly families = new Map<string, Family>()
  private readonly counterCells = new Map<string, Map<string, CounterCell>>()
  private readonly histograms = new Map<string, (labels?: Labels) => Histogram>()

  constructor(opts: MetricsOptions = {}) {
    if (opts.defaultMetrics === true) collectDefaultMetrics({ register: this.registry })
  }

  /** A counter series kept here; the same name and labels give the same series. */
  counter(name: string, help: string, labels: Labels = {}): Counter {
    let cells = this.counterCells.get(name)
    if (cells === undefined) {
      const own = new Map<string, CounterCell>()
      cells = own
      this.counterCells.set(name, own)
      this.counterFamily(name, help, Object.keys(labels), emit => {
        for (const c of own.values()) emit(c.labels, c.value)
      })
    }
    this.checkLabels(name, labels)
    const key = labelKey(labels)
    let cell = cells.get(key)
    if (cell === undefined) {
      cell = { labels: { ...labels }, value: 0 }
      cells.set(key, cell)
    }
    const c = cell
    return {
      inc: (by = 1) => {
        c.value += by
      },
      get value() {
        return c.value
      }
    }
  }

  /** An unlabelled counter whose total is kept elsewhere (it only goes up), read on scrape. */
  counterFrom(name: string, help: string, read: () => number): void {
    this.counterFamily(name, help, [], emit => emit({}, read()))
  }

  /** A labelled counter family whose totals are kept elsewhere, written on scrape. */
  counterFamily(name: string, help: string, labelNames: readonly string[], collect: (emit: Emit) => void): void {
    this.scrapedFamily('counter', name, help, labelNames, collect)
  }

  /** An unlabelled gauge read on scrape. */
  gauge(name: string, help: string, read: () => number): void {
    this.gaugeFamily(name, help, [], emit => emit({}, read()))
  }

  /** A labelled gauge family written on scrape; series not emitted are gone (deleted queues). */
  gaugeFamily(name: string, help: string, labelNames: readonly string[], collect: (emit: Emit) => void): void {
    this.scrapedFamily('gauge', name, help, labelNames, collect)
  }

  /** A family whose samples are all emitted at scrape time: the last scrape's series are dropped first. */
  private scrapedFamily(kind: 'counter' | 'gauge', name: string, help: string, labelNames: readonly string[], collect: (emit: Emit) => void): void {
    this.checkNew(name)
    const config = {
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect(this: PromCounter | PromGauge) {
        const samples = guarded(collect)
        if (samples === null) return
        this.reset()
        for (const [labels, value] of samples) {
          if (this instanceof PromGauge) this.set(labels, value)
          else this.inc(labels, value)
        }
      }
    }
    this.register(name, kind, labelNames, collect, kind === 'counter' ? new PromCounter(config) : new PromGauge(config))
  }

  /**
   * A histogram family; each adapter asks for it by name (the first call registers it) and binds its
   * label values once per handle. Observing counts into plain arrays (prom-client's own observe
   * hashes labels per call, microseconds at a publish rate of 100k/s); /metrics writes them out.
   */
  histogram(name: string, help: string, buckets: readonly number[], labelNames: readonly string[] = []): (labels?: Labels) => Histogram {
    const known = this.histograms.get(name)
    if (known !== undefined) {
      this.checkLabels(name, Object.fromEntries(labelNames.map(l => [l, ''])))
      return known
    }
    this.checkNew(name)
    const family = new HistogramCells(name, help, buckets)
    // The registry takes any metric with get() in prom-client's MetricObject shape (what Histogram.get returns).
    this.registry.registerMetric(family as unknown as Parameters<Registry['registerMetric']>[0])
    this.families.set(name, { kind: 'histogram', labelNames, sum: () => family.observations })
    const bind = (labels: Labels = {}): Histogram => {
      this.checkLabels(name, labels)
      return family.cell(labels)
    }
    this.histograms.set(name, bind)
    return bind
  }

  /** The current value of a counter or gauge, summed over its series; 0 when unknown (histograms: observations). */
  value(name: string): number {
    return this.families.get(name)?.sum() ?? 0
  }

  get contentType(): string {
    return this.registry.contentType
  }

  /** The Prometheus text exposition of every family. */
  async render(): Promise<string> {
    return await this.registry.metrics()
  }

  private checkNew(name: string): void {
    if (this.families.has(name)) throw new Error(`metrics: ${name} is registered twice`)
  }

  private register(
    name: string,
    kind: 'counter' | 'gauge',
    labelNames: readonly string[],
    collect: (emit: Emit) => void,
    _metric: PromCounter | PromGauge
  ): void {
    this.families.set(name, {
      kind,
      labelNames,
      sum: () => (guarded(collect) ?? []).reduce((n, [, v]) => n + v, 0)
    })
  }

  private checkLabels(name: string, labels: Labels): void {
    const family = this.families.get(name)
    if (family === undefined) return
    const names = Object.keys(labels).sort().join(',')
    if (names !== [...family.labelNames].sort().join(',')) {
      throw new Error(`metrics: ${name} has labels [${family.labelNames.join(', ')}], not [${Object.keys(labels).join(', ')}]`)
    }
  }
}

interface HistogramCell {
  readonly labels: Labels
  readonly counts: number[]
  sum: number
  count: number
}

/** One histogram family's series: per bucket counts (not cumulative), sum and count. */
class HistogramCells {
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  private readonly bounds: readonly number[]
  private readonly cells = new Map<string, HistogramCell>()

  constructor(
    readonly name: string,
    readonly help: string,
    buckets: readonly number[]
  ) {
    this.bounds = [...buckets].sort((a, b) => a - b)
  }

  get observations(): number {
    let n = 0
    for (const c of this.cells.values()) n += c.count
    return n
  }

  cell(labels: Labels): Histogram {
    const key = labelKey(labels)
    let c = this.cells.get(key)
    if (c === undefined) {
      c = { labels: { ...labels }, counts: new Array<number>(this.bounds.length + 1).fill(0), sum: 0, count: 0 }
      this.cells.set(key, c)
    }
    const cell = c
    const bounds = this.bounds
    return {
      observe: value => {
        let i = 0
        while (i < bounds.length && value > (bounds[i] as number)) i++
        cell.counts[i] = (cell.counts[i] as number) + 1
        cell.sum += value
        cell.count++
      }
    }
  }

  /** prom-client's MetricObject: cumulative `_bucket` series with `le`, then `_sum` and `_count`. */
  async get(): Promise<{
    name: string
    help: string
    type: string
    aggregator: string
    values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }>
  }> {
    const values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = []
    for (const c of this.cells.values()) {
      let cumulative = 0
      this.bounds.forEach((bound, i) => {
        cumulative += c.counts[i] as number
        values.push({ labels: { le: bound, ...c.labels }, value: cumulative, metricName: `${this.name}_bucket` })
      })
      values.push({ labels: { le: '+Inf', ...c.labels }, value: c.count, metricName: `${this.name}_bucket` })
      values.push({ labels: { ...c.labels }, value: c.sum, metricName: `${this.name}_sum` })
      values.push({ labels: { ...c.labels }, value: c.count, metricName: `${this.name}_count` })
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }
}

/**
 * The samples a source emits, or null when it fails (a store closed under a late scrape): its family
 * keeps the values of the last scrape, and the rest of the scrape goes on.
 */
function guarded(collect: (emit: Emit) => void): Array<[Labels, number]> | null {
  const out: Array<[Labels, number]> = []
  try {
    collect((labels, value) => {
      if (Number.isFinite(value)) out.push([labels, value])
    })
  } catch {
    return null
  }
  return out
}

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map(k => `${k}=${labels[k] ?? ''}`)
    .join('\u0000')
}
