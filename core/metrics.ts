// A small metrics registry rendered as Prometheus text. Counters only go up; gauges are read on scrape.
export interface Counter {
  inc(by?: number): void
  readonly value: number
}

interface CounterEntry { kind: 'counter', help: string, labels: Map<string, { value: number }> }
interface GaugeEntry { kind: 'gauge', help: string, read: () => number }

export class Metrics {
  private readonly entries = new Map<string, CounterEntry | GaugeEntry>()

  counter (name: string, help: string, labels: Record<string, string> = {}): Counter {
    let entry = this.entries.get(name)
    if (!entry) {
      entry = { kind: 'counter', help, labels: new Map() }
      this.entries.set(name, entry)
    }
    if (entry.kind !== 'counter') throw new Error(`metrics: ${name} is already a gauge`)
    const key = labelText(labels)
    let cell = entry.labels.get(key)
    if (!cell) { cell = { value: 0 }; entry.labels.set(key, cell) }
    const c = cell
    return { inc: (by = 1) => { c.value += by }, get value () { return c.value } }
  }

  gauge (name: string, help: string, read: () => number): void {
    this.entries.set(name, { kind: 'gauge', help, read })
  }

  /** Current value of a counter (summed over labels) or gauge; 0 when unknown. */
  value (name: string): number {
    const e = this.entries.get(name)
    if (!e) return 0
    if (e.kind === 'gauge') return e.read()
    let sum = 0
    for (const cell of e.labels.values()) sum += cell.value
    return sum
  }

  renderPrometheus (): string {
    const out: string[] = []
    for (const [name, e] of this.entries) {
      out.push(`# HELP ${name} ${e.help}`, `# TYPE ${name} ${e.kind}`)
      if (e.kind === 'gauge') {
        out.push(`${name} ${e.read()}`)
      } else {
        for (const [labels, cell] of e.labels) out.push(`${name}${labels} ${cell.value}`)
      }
    }
    return out.join('\n') + '\n'
  }
}

function labelText (labels: Record<string, string>): string {
  const keys = Object.keys(labels).sort()
  if (keys.length === 0) return ''
  return '{' + keys.map(k => `${k}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',') + '}'
}
