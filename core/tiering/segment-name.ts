// Object keys of segments: <prefix>/<vhost>/<stream>/<first %016x>-<last %016x>.seg, as litestream
// names its files by fixed-width hex ranges, so key order within a stream is offset order and a
// listing needs no sort. vhost and stream are percent-encoded (vhost "/" is "%2F"), so each is one
// path component. A "." is encoded too where it would make the component "." or "..", or start
// ".tmp-" (the directory store's mark of an unfinished write), so every stream name is a valid key.

const SEGMENT_FILE = /^([0-9a-f]{16})-([0-9a-f]{16})\.seg$/

/** The key of the segment holding offsets firstOffset..lastOffset (inclusive) of a stream. */
export function segmentKey(prefix: string, vhost: string, stream: string, firstOffset: number, lastOffset: number): string {
  if (!Number.isSafeInteger(firstOffset) || firstOffset < 0 || !Number.isSafeInteger(lastOffset) || lastOffset < firstOffset) {
    throw new Error(`segmentKey ${vhost}/${stream}: bad offset range ${firstOffset}-${lastOffset}`)
  }
  return `${segmentPrefix(prefix, vhost, stream)}${hex16(firstOffset)}-${hex16(lastOffset)}.seg`
}

/** The key prefix (ending in "/") under which every segment of one stream lies: list(segmentPrefix(...)). */
export function segmentPrefix(prefix: string, vhost: string, stream: string): string {
  return `${prefixPath(prefix)}${component(vhost, 'vhost')}/${component(stream, 'stream')}/`
}

export interface ParsedSegmentKey {
  /** Without a trailing "/"; "" when the key had none. */
  readonly prefix: string
  readonly vhost: string
  readonly stream: string
  readonly firstOffset: number
  readonly lastOffset: number
}

/** The parts of a segment key, or null when key is not one segmentKey would write. */
export function parseSegmentKey(key: string): ParsedSegmentKey | null {
  const parts = key.split('/')
  if (parts.length < 3) return null
  const file = SEGMENT_FILE.exec(parts[parts.length - 1] as string)
  if (file === null) return null
  const firstOffset = Number.parseInt(file[1] as string, 16)
  const lastOffset = Number.parseInt(file[2] as string, 16)
  if (!Number.isSafeInteger(firstOffset) || !Number.isSafeInteger(lastOffset) || lastOffset < firstOffset) return null
  let vhost: string
  let stream: string
  try {
    vhost = decodeURIComponent(parts[parts.length - 3] as string)
    stream = decodeURIComponent(parts[parts.length - 2] as string)
  } catch {
    return null
  }
  const prefix = parts.slice(0, -3).join('/')
  // One segment has one key: a spelling segmentKey would not produce (other escapes, "//") is not a segment key.
  try {
    if (segmentKey(prefix, vhost, stream, firstOffset, lastOffset) !== key) return null
  } catch {
    return null
  }
  return { prefix, vhost, stream, firstOffset, lastOffset }
}

function prefixPath(prefix: string): string {
  const trimmed = prefix.replace(/\/+$/, '')
  return trimmed === '' ? '' : `${trimmed}/`
}

function component(name: string, what: string): string {
  if (name === '') throw new Error(`segment key: empty ${what} name`)
  if (name === '.' || name === '..') return name.replaceAll('.', '%2E')
  return encodeURIComponent(name).replace(/\.(?=tmp-)/g, '%2E')
}

function hex16(n: number): string {
  return n.toString(16).padStart(16, '0')
}
