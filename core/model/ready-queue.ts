// Ready entries of a queue: one ordered list, or one per priority level (x-max-priority), where
// the highest non-empty level is served first and each level keeps seq order.
import { ReadyList } from './ready-list.ts'
import type { QueueEntry } from './queue-entry.ts'

export interface ReadyQueue {
  readonly length: number
  readonly bytes: number
  peek(): QueueEntry | undefined
  push(entry: QueueEntry): void
  shift(): QueueEntry | undefined
  /** Back in the place its seq (and priority) gives it. */
  insert(entry: QueueEntry): void
  removeWhere(drop: (entry: QueueEntry) => boolean): QueueEntry[]
  /**
   * Takes up to `max` of the entries to be delivered last while `eligible` holds for each, stopping
   * at the first that does not; returns them in delivery order.
   */
  takeTail(max: number, eligible: (entry: QueueEntry) => boolean): QueueEntry[]
  clear(): QueueEntry[]
  /** Oldest first within a level, highest level first. */
  entries(): Iterable<QueueEntry>
}

export function createReadyQueue(maxPriority: number | undefined): ReadyQueue {
  return maxPriority === undefined ? new FifoReady() : new PriorityReady(maxPriority)
}

class FifoReady implements ReadyQueue {
  private readonly list = new ReadyList<QueueEntry>()
  bytes = 0

  get length(): number {
    return this.list.length
  }
  peek(): QueueEntry | undefined {
    return this.list.peek()
  }
  push(e: QueueEntry): void {
    this.list.push(e)
    this.bytes += e.message.bodyBytes
  }
  insert(e: QueueEntry): void {
    this.list.insert(e)
    this.bytes += e.message.bodyBytes
  }

  shift(): QueueEntry | undefined {
    const e = this.list.shift()
    if (e !== undefined) this.bytes -= e.message.bodyBytes
    return e
  }

  removeWhere(drop: (e: QueueEntry) => boolean): QueueEntry[] {
    const out = this.list.removeWhere(drop)
    for (const e of out) this.bytes -= e.message.bodyBytes
    return out
  }

  takeTail(max: number, eligible: (e: QueueEntry) => boolean): QueueEntry[] {
    const out = this.list.takeTail(max, eligible)
    for (const e of out) this.bytes -= e.message.bodyBytes
    return out
  }

  clear(): QueueEntry[] {
    this.bytes = 0
    return this.list.clear()
  }
  entries(): Iterable<QueueEntry> {
    return this.list
  }
}

class PriorityReady implements ReadyQueue {
  private readonly levels: FifoReady[]
  private count = 0

  constructor(maxPriority: number) {
    this.levels = Array.from({ length: maxPriority + 1 }, () => new FifoReady())
  }

  get length(): number {
    return this.count
  }
  get bytes(): number {
    let b = 0
    for (const l of this.levels) b += l.bytes
    return b
  }

  private top(): FifoReady | undefined {
    for (let i = this.levels.length - 1; i >= 0; i--) {
      const level = this.levels[i] as FifoReady
      if (level.length > 0) return level
    }
    return undefined
  }

  private levelOf(e: QueueEntry): FifoReady {
    return this.levels[Math.min(e.priority, this.levels.length - 1)] as FifoReady
  }

  peek(): QueueEntry | undefined {
    return this.top()?.peek()
  }
  push(e: QueueEntry): void {
    this.levelOf(e).push(e)
    this.count++
  }
  insert(e: QueueEntry): void {
    this.levelOf(e).insert(e)
    this.count++
  }

  shift(): QueueEntry | undefined {
    const e = this.top()?.shift()
    if (e !== undefined) this.count--
    return e
  }

  removeWhere(drop: (e: QueueEntry) => boolean): QueueEntry[] {
    const out: QueueEntry[] = []
    for (let i = this.levels.length - 1; i >= 0; i--) out.push(...(this.levels[i] as FifoReady).removeWhere(drop))
    this.count -= out.length
    return out
  }

  /** The lowest level's tail first, then the next level up, while every entry taken is eligible. */
  takeTail(max: number, eligible: (e: QueueEntry) => boolean): QueueEntry[] {
    const out: QueueEntry[] = []
    for (const level of this.levels) {
      const want = max - out.length
      if (want === 0) break
      const taken = level.takeTail(want, eligible)
      out.unshift(...taken)
      // This level still holds an entry that is not eligible: the higher ones are delivered before it.
      if (taken.length < want && level.length > 0) break
    }
    this.count -= out.length
    return out
  }

  clear(): QueueEntry[] {
    const out: QueueEntry[] = []
    for (let i = this.levels.length - 1; i >= 0; i--) out.push(...(this.levels[i] as FifoReady).clear())
    this.count = 0
    return out
  }

  *entries(): Iterable<QueueEntry> {
    for (let i = this.levels.length - 1; i >= 0; i--) yield* (this.levels[i] as FifoReady).entries()
  }
}
