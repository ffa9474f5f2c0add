// The ready messages of a queue in delivery order. Entries arrive in seq order at the tail; a
// requeued entry goes back to the place its seq gives it (at or near the head), as in RabbitMQ,
// where a rejected message keeps its position. Push and shift are O(1); an insert in the middle
// (requeue while older entries are still ready) is a binary search and a splice.

export interface Sequenced {
  readonly seq: number
}

export class ReadyList<T extends Sequenced> {
  private items: Array<T | undefined> = []
  private head = 0

  get length(): number {
    return this.items.length - this.head
  }

  peek(): T | undefined {
    return this.items[this.head]
  }

  push(item: T): void {
    const last = this.items[this.items.length - 1]
    if (this.length > 0 && last !== undefined && last.seq > item.seq) {
      this.insert(item)
      return
    }
    this.items.push(item)
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined
    const item = this.items[this.head]
    this.items[this.head++] = undefined
    if (this.head === this.items.length) {
      this.items = []
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return item
  }

  /** Puts an entry back where its seq belongs. */
  insert(item: T): void {
    const first = this.items[this.head]
    if (this.length === 0 || (first !== undefined && item.seq < first.seq)) {
      if (this.head > 0) this.items[--this.head] = item
      else this.items.unshift(item)
      return
    }
    let lo = this.head
    let hi = this.items.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((this.items[mid] as T).seq < item.seq) lo = mid + 1
      else hi = mid
    }
    this.items.splice(lo, 0, item)
  }

  /**
   * Takes up to `max` entries off the tail (the last to be delivered) while `eligible` holds for
   * each, stopping at the first that does not; returns them in order.
   */
  takeTail(max: number, eligible: (item: T) => boolean): T[] {
    let cut = this.items.length
    while (cut > this.head && this.items.length - cut < max && eligible(this.items[cut - 1] as T)) cut--
    if (cut === this.items.length) return []
    const taken = this.items.splice(cut) as T[]
    if (this.head === this.items.length) {
      this.items = []
      this.head = 0
    }
    return taken
  }

  /** Removes every entry for which `drop` is true, keeping order; returns them. */
  removeWhere(drop: (item: T) => boolean): T[] {
    const kept: T[] = []
    const dropped: T[] = []
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i] as T
      if (drop(item)) dropped.push(item)
      else kept.push(item)
    }
    this.items = kept
    this.head = 0
    return dropped
  }

  /** Empties the list, returning the entries in order. */
  clear(): T[] {
    const all = this.items.slice(this.head) as T[]
    this.items = []
    this.head = 0
    return all
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i] as T
  }
}
