// Reads offloaded stream ranges back (ColdReads): the block holding the offset is found in the
// segment's index (kept in the local manifest, so no GET to find it), fetched with ONE ranged GET,
// decoded, and kept in the bounded block cache. When a reader has been given prefetchWatermark of a
// block's records, the next block (or the first block of the next offloaded segment) is fetched in
// the background, so a sequential replay does not wait on each GET. Nothing goes to local disk.
import type { ColdReads, StreamSegment, TieredStreamStore } from '../streams/tiered-stream-store.ts'
import type { StreamRecord } from '../streams/stream-record.ts'
import type { ObjectStore } from './object-store.ts'
import { isObjectNotFound } from './object-store.ts'
import type { SegmentBlock, SegmentIndex } from './segment-index.ts'
import type { BlockCache, BlockRecords } from './block-cache.ts'
import { decodeBlock } from './segment-format.ts'
import { causeText } from './segment-error.ts'
import type { Logger } from '../logger.ts'
import { silentLogger } from '../logger.ts'

export interface ColdReaderOptions {
  readonly store: ObjectStore
  readonly cache: BlockCache
  /** Fraction of a block's records, (0, 1], handed to a reader before the next block is prefetched. */
  readonly prefetchWatermark: number
  /** The offloaded segment after this one in its stream, or null; lets prefetch cross segments. */
  readonly next?: (segment: StreamSegment) => StreamSegment | null
  readonly logger?: Logger
}

export interface ColdReaderStats {
  reads: number
  recordsRead: number
  prefetchFailures: number
}

interface Offloaded {
  readonly key: string
  readonly index: SegmentIndex
}

export class ColdReader implements ColdReads {
  readonly stats: ColdReaderStats = { reads: 0, recordsRead: 0, prefetchFailures: 0 }
  private readonly logger: Logger

  constructor(private readonly opts: ColdReaderOptions) {
    if (!(opts.prefetchWatermark > 0 && opts.prefetchWatermark <= 1)) {
      throw new Error(`cold reader: prefetchWatermark must be in (0, 1], got ${opts.prefetchWatermark}`)
    }
    this.logger = opts.logger ?? silentLogger
  }

  async read(segment: StreamSegment, fromOffset: number, maxRecords: number): Promise<StreamRecord[]> {
    const { key, index } = offloadedParts(segment)
    if (fromOffset < segment.firstOffset || fromOffset > segment.lastOffset) {
      throw new Error(`cold read: ${key}: offset ${fromOffset} is outside the segment (${segment.firstOffset}..${segment.lastOffset})`)
    }
    this.stats.reads++
    const out: StreamRecord[] = []
    if (maxRecords <= 0) return out
    let blockIndex = findBlock(index.blocks, fromOffset, key)
    let offset = fromOffset
    for (;;) {
      const block = blockAt(index, blockIndex, key)
      const records = await this.blockRecords(key, blockIndex, block)
      const start = offset - block.firstOffset
      if (records[start]?.offset !== offset) {
        throw new Error(`cold read: ${key} block ${blockIndex}: offset ${offset} not at position ${start} of the decoded block`)
      }
      const taken = records.slice(start, start + (maxRecords - out.length))
      out.push(...taken)
      offset += taken.length
      const lastBlock = blockIndex === index.blocks.length - 1
      if (out.length >= maxRecords || lastBlock) {
        this.maybePrefetch(segment, key, index, blockIndex, offset - block.firstOffset)
        break
      }
      blockIndex++
    }
    this.stats.recordsRead += out.length
    return out
  }

  /** After a reader has consumed `given` records of block `blockIndex`: fetch what it reads next. */
  private maybePrefetch(segment: StreamSegment, key: string, index: SegmentIndex, blockIndex: number, given: number): void {
    const block = blockAt(index, blockIndex, key)
    if (given < Math.ceil(this.opts.prefetchWatermark * block.records)) return
    const nextIndex = blockIndex + 1
    if (nextIndex < index.blocks.length) {
      this.prefetch(key, nextIndex, blockAt(index, nextIndex, key))
      return
    }
    const following = this.opts.next?.(segment) ?? null
    if (following === null || following.objectKey === null || following.index === null) return
    const first = following.index.blocks[0]
    if (first !== undefined) this.prefetch(following.objectKey, 0, first)
  }

  private prefetch(key: string, blockIndex: number, block: SegmentBlock): void {
    const started = this.opts.cache.prefetch(key, blockIndex, async () => await this.fetchBlock(key, blockIndex, block))
    // A failed prefetch costs nothing but the GET: the reader fetches the block itself when it gets there.
    started?.catch(err => {
      this.stats.prefetchFailures++
      this.logger.warn('cold read: prefetch failed', { op: 'get', key, block: blockIndex, err: causeText(err) })
    })
  }

  private async blockRecords(key: string, blockIndex: number, block: SegmentBlock): Promise<BlockRecords> {
    return await this.opts.cache.get(key, blockIndex, async () => await this.fetchBlock(key, blockIndex, block))
  }

  /** One ranged GET of exactly the block's bytes, decoded. */
  private async fetchBlock(key: string, blockIndex: number, block: SegmentBlock): Promise<BlockRecords> {
    let bytes: Buffer
    try {
      bytes = await this.opts.store.get(key, { offset: block.byteOffset, length: block.byteLength })
    } catch (err) {
      // "Not found" keeps its one meaning (retention removed the object): callers test for it.
      if (isObjectNotFound(err)) throw err
      throw new Error(`cold read: get ${key} block ${blockIndex} (offsets ${block.firstOffset}..${block.lastOffset}): ${causeText(err)}`, { cause: err })
    }
    return decodeBlock(bytes, block)
  }
}

/** The `next` option from the stream side's manifest: the offloaded segment that starts right after. */
export function nextOffloadedFrom(streams: Pick<TieredStreamStore, 'offloaded'>): (segment: StreamSegment) => StreamSegment | null {
  return segment => streams.offloaded(segment.streamId).find(s => s.firstOffset === segment.lastOffset + 1) ?? null
}

function offloadedParts(segment: StreamSegment): Offloaded {
  if (segment.objectKey === null || segment.index === null) {
    throw new Error(
      `cold read: segment ${segment.vhost}/${segment.stream} ${segment.firstOffset}..${segment.lastOffset} is not offloaded (state ${segment.state})`
    )
  }
  return { key: segment.objectKey, index: segment.index }
}

/** Binary search: the block whose offset range holds `offset`. */
function findBlock(blocks: readonly SegmentBlock[], offset: number, key: string): number {
  let lo = 0
  let hi = blocks.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const b = blocks[mid] as SegmentBlock
    if (offset < b.firstOffset) hi = mid - 1
    else if (offset > b.lastOffset) lo = mid + 1
    else return mid
  }
  throw new Error(`cold read: ${key}: no block of the index holds offset ${offset}`)
}

function blockAt(index: SegmentIndex, blockIndex: number, key: string): SegmentBlock {
  const block = index.blocks[blockIndex]
  if (block === undefined) throw new Error(`cold read: ${key}: index has no block ${blockIndex}`)
  return block
}
