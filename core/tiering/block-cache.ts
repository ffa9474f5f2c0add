// The bounded in-memory cache of decoded segment blocks that cold reads go through (DESIGN.md §5:
// ranged GETs into a bounded slice cache, never a download to local disk). Keyed by (object key,
// block index); bounded by the decoded size of the blocks it holds (what actually sits in memory,
// not the compressed byteLength on the wire); least recently used block evicted first. Two readers
// of one block share one load, so one block costs one GET however many consumers ask for it.
import type { StreamRecord } from '../streams/stream-record.ts'
import { decodedRecordsBytes } from './decoded-size.ts'

export interface BlockCacheOptions {
  /** Upper bound of the decoded bytes held; a block larger than this is returned but not kept. */
  readonly cacheBytesMax: number
}

export interface BlockCacheStats {
  /** Reads served from a resident block. */
  hits: number
  /** Reads that had to load the block (one GET each). */
  misses: number
  /** Reads that joined a load already in flight (a prefetch or another reader): no GET of their own. */
  joins: number
  /** Background loads started ahead of the reader. */
  prefetches: number
  evictions: number
  /** Loaded blocks not kept because they alone exceed cacheBytesMax. */
  oversize: number
  /** Decoded bytes held now / the most ever held. */
  bytes: number
  maxBytesSeen: number
  entries: number
}

export type BlockRecords = readonly StreamRecord[]
export type BlockLoader = () => Promise<BlockRecords>

interface Resident {
  readonly records: BlockRecords
  readonly bytes: number
}
interface InFlight {
  readonly promise: Promise<BlockRecords>
  readonly prefetch: boolean
}

export class BlockCache {
  // A Map iterates in insertion order: re-inserting on each hit keeps the least recently used first.
  private readonly resident = new Map<string, Resident>()
  private readonly inFlight = new Map<string, InFlight>()
  private readonly counters: Omit<BlockCacheStats, 'bytes' | 'entries'> = {
    hits: 0,
    misses: 0,
    joins: 0,
    prefetches: 0,
    evictions: 0,
    oversize: 0,
    maxBytesSeen: 0
  }
  private bytesHeld = 0

  constructor(private readonly opts: BlockCacheOptions) {
    if (!(opts.cacheBytesMax >= 0)) throw new Error(`block cache: cacheBytesMax must be >= 0, got ${opts.cacheBytesMax}`)
  }

  get stats(): BlockCacheStats {
    return { ...this.counters, bytes: this.bytesHeld, entries: this.resident.size }
  }

  has(objectKey: string, blockIndex: number): boolean {
    return this.resident.has(cacheKey(objectKey, blockIndex))
  }

  /** The block's records: resident, joined to a load in flight, or loaded now with `load`. */
  async get(objectKey: string, blockIndex: number, load: BlockLoader): Promise<BlockRecords> {
    const key = cacheKey(objectKey, blockIndex)
    const hit = this.resident.get(key)
    if (hit !== undefined) {
      this.counters.hits++
      this.resident.delete(key)
      this.resident.set(key, hit)
      return hit.records
    }
    const pending = this.inFlight.get(key)
    if (pending !== undefined) {
      this.counters.joins++
      try {
        return await pending.promise
      } catch (err) {
        // A failed prefetch is no answer for a reader: it tries once itself. A failed read is.
        if (!pending.prefetch) throw err
      }
    }
    this.counters.misses++
    return await this.startLoad(key, load, false)
  }

  /**
   * Loads the block in the background unless it is resident or already loading. Returns the load
   * (rejects when it fails, for the caller to log) or null when nothing was started.
   */
  prefetch(objectKey: string, blockIndex: number, load: BlockLoader): Promise<BlockRecords> | null {
    const key = cacheKey(objectKey, blockIndex)
    if (this.resident.has(key) || this.inFlight.has(key)) return null
    this.counters.prefetches++
    return this.startLoad(key, load, true)
  }

  /** Resolves when every load in flight now has settled (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.inFlight.values()].map(f => f.promise))
  }

  private startLoad(key: string, load: BlockLoader, prefetch: boolean): Promise<BlockRecords> {
    const promise = load()
      .then(records => {
        this.keep(key, records)
        return records
      })
      .finally(() => {
        if (this.inFlight.get(key)?.promise === promise) this.inFlight.delete(key)
      })
    // The entry's own copy must not become an unhandled rejection when nobody joins it.
    promise.catch(() => {})
    this.inFlight.set(key, { promise, prefetch })
    return promise
  }

  private keep(key: string, records: BlockRecords): void {
    const bytes = decodedRecordsBytes(records)
    if (bytes > this.opts.cacheBytesMax) {
      this.counters.oversize++
      return
    }
    const old = this.resident.get(key)
    if (old !== undefined) {
      this.resident.delete(key)
      this.bytesHeld -= old.bytes
    }
    // Evict before inserting, so the bytes held never exceed the bound, even for a moment.
    for (const [oldestKey, oldest] of this.resident) {
      if (this.bytesHeld + bytes <= this.opts.cacheBytesMax) break
      this.resident.delete(oldestKey)
      this.bytesHeld -= oldest.bytes
      this.counters.evictions++
    }
    this.resident.set(key, { records, bytes })
    this.bytesHeld += bytes
    this.counters.maxBytesSeen = Math.max(this.counters.maxBytesSeen, this.bytesHeld)
  }
}

function cacheKey(objectKey: string, blockIndex: number): string {
  return `${objectKey}#${blockIndex}`
}
