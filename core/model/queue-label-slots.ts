// The bound on per-queue metric series (metrics.queueLabelsMax): the first queues seen get their
// own `queue` label and keep it while they exist; queues beyond the bound share `_other`. A slot
// is sticky, so a series never changes its meaning between scrapes; a deleted queue frees its slot.

export const OTHER_QUEUES = '_other'

export class QueueLabelSlots {
  private readonly labelled = new Set<string>()

  constructor(private readonly queueLabelsMax: number) {
    if (!(queueLabelsMax >= 0)) throw new Error(`metrics: queueLabelsMax must be >= 0, got ${queueLabelsMax}`)
  }

  /**
   * The label of each queue present now (keys as `key(vhost, name)`), in the order given: its own
   * name, or OTHER_QUEUES once the bound is taken. Queues no longer present give their slots back.
   */
  assign(present: readonly string[]): Map<string, boolean> {
    const now = new Set(present)
    for (const k of this.labelled) if (!now.has(k)) this.labelled.delete(k)
    const own = new Map<string, boolean>()
    for (const k of present) {
      if (!this.labelled.has(k) && this.labelled.size < this.queueLabelsMax) this.labelled.add(k)
      own.set(k, this.labelled.has(k))
    }
    return own
  }
}

export function queueKey(vhost: string, name: string): string {
  return `${vhost}\u0000${name}`
}
