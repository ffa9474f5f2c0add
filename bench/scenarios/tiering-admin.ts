import { setTimeout as sleep } from 'node:timers/promises'

/** The part of Wharf's `GET /api/tiering` that the stream-replay scenario reads. */
export interface TieringSnapshot {
  readonly backlogSegments: number
  readonly uploadedSegments: number
  readonly uploadedBytes: number
  readonly uploadFailures: number
  readonly lastError: string | null
  readonly localStreamBytes: number
  readonly cache: {
    readonly hits: number
    readonly misses: number
    readonly joins: number
    readonly prefetches: number
    readonly bytes: number
    readonly maxBytesSeen: number
  }
  readonly requests: { readonly gets: number; readonly getBytes: number; readonly puts: number; readonly failures: number }
}

const REQUEST_TIMEOUT_MS = 5000
const POLL_MS = 200

function num(o: Record<string, unknown>, key: string, where: string): number {
  const value = o[key]
  if (typeof value !== 'number') throw new Error(`GET /api/tiering: ${where}${key} is ${JSON.stringify(value)}, not a number`)
  return value
}

function obj(o: Record<string, unknown>, key: string): Record<string, unknown> {
  const value = o[key]
  if (typeof value !== 'object' || value === null) throw new Error(`GET /api/tiering: ${key} is missing`)
  return value as Record<string, unknown>
}

export async function readTiering(adminUrl: string): Promise<TieringSnapshot> {
  // The admin API needs credentials; the bench's broker runs here, where the built-in guest may log in.
  const authorization = 'Basic ' + Buffer.from('guest:guest').toString('base64')
  const response = await fetch(`${adminUrl}/api/tiering`, { headers: { authorization }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
  if (response.status !== 200) throw new Error(`GET ${adminUrl}/api/tiering: status ${response.status}: ${(await response.text()).slice(0, 200)}`)
  const body = (await response.json()) as Record<string, unknown>
  const cache = obj(body, 'cache')
  const requests = obj(body, 'requests')
  const lastError = body['last_error']
  return {
    backlogSegments: num(body, 'backlog_segments', ''),
    uploadedSegments: num(body, 'uploaded_segments', ''),
    uploadedBytes: num(body, 'uploaded_bytes', ''),
    uploadFailures: num(body, 'upload_failures', ''),
    lastError: typeof lastError === 'string' ? lastError : null,
    localStreamBytes: num(body, 'local_stream_bytes', ''),
    cache: {
      hits: num(cache, 'hits', 'cache.'),
      misses: num(cache, 'misses', 'cache.'),
      joins: num(cache, 'joins', 'cache.'),
      prefetches: num(cache, 'prefetches', 'cache.'),
      bytes: num(cache, 'bytes', 'cache.'),
      maxBytesSeen: num(cache, 'max_bytes_seen', 'cache.')
    },
    requests: {
      gets: num(requests, 'gets', 'requests.'),
      getBytes: num(requests, 'get_bytes', 'requests.'),
      puts: num(requests, 'puts', 'requests.'),
      failures: num(requests, 'failures', 'requests.')
    }
  }
}

/** Polls /api/tiering until `done` holds; the error names the last snapshot when it never does. */
export async function waitForTiering(
  adminUrl: string,
  what: string,
  timeoutMs: number,
  signal: AbortSignal,
  done: (t: TieringSnapshot) => boolean
): Promise<TieringSnapshot> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    signal.throwIfAborted()
    const snapshot = await readTiering(adminUrl)
    if (done(snapshot)) return snapshot
    if (Date.now() >= deadline) throw new Error(`tiering: not ${what} within ${timeoutMs / 1000} s; last /api/tiering: ${JSON.stringify(snapshot)}`)
    await sleep(POLL_MS)
  }
}
