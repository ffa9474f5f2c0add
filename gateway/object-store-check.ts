// tiering.requiredAtStart: start-up fails unless the cold tier answers, instead of starting with
// uploads retrying in the background (the default, DESIGN.md §5). A LIST under a prefix Wharf never
// writes proves the endpoint, the bucket and the credentials without reading any real listing.
import type { ObjectStore } from '../core/tiering/object-store.ts'

const PROBE_PREFIX = '.wharf-start-check/'

export async function checkObjectStore(store: ObjectStore, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const probe = store.list(PROBE_PREFIX)
  // Abandoned on timeout; closing the store ends the request, and its late rejection is not an unhandled one.
  probe.catch(() => {})
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`object store ${store.description}: no answer within ${timeoutMs} ms (tiering.requiredAtStart)`)), timeoutMs)
  })
  try {
    await Promise.race([probe, late])
  } catch (err) {
    const message = (err as Error).message
    throw new Error(
      message.startsWith('object store ') ? message : `object store ${store.description}: unreachable at start (tiering.requiredAtStart): ${message}`
    )
  } finally {
    clearTimeout(timer)
  }
}
