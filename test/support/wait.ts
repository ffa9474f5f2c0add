// Waiting in tests, in one place. Wait for a condition (eventually), never for a guessed time.
// What must NOT happen cannot be shown sooner than by watching for a while: holdsFor names it and
// fails at once when it happens. sleep stays for the MQTT suites (mqtt-helpers re-exports it).

export const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

const POLL_MS = 10

/** Waits until `check` holds, polling; fails after timeoutMs naming what was awaited. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(POLL_MS)
  }
}

/**
 * Waits until count() reaches target for as long as it keeps growing: fails only when it stayed the
 * same for stallMs (a drain that is slow under load is not a drain that stopped).
 */
export async function whileGrowing(what: string, count: () => number, target: number, stallMs: number): Promise<void> {
  let last = count()
  let lastChangeAt = Date.now()
  while (last < target) {
    await sleep(POLL_MS)
    const now = count()
    if (now !== last) {
      last = now
      lastChangeAt = Date.now()
    } else if (Date.now() - lastChangeAt > stallMs) {
      throw new Error(`stalled for ${stallMs} ms at ${last} of ${target} waiting for ${what}`)
    }
  }
}

/** Checks that `check` keeps holding for durationMs, polling; fails at the first poll where it does not. */
export async function holdsFor(what: string, check: () => boolean | Promise<boolean>, durationMs: number): Promise<void> {
  const end = Date.now() + durationMs
  for (;;) {
    if (!(await check())) throw new Error(`no longer true within ${durationMs} ms: ${what}`)
    if (Date.now() >= end) return
    await sleep(POLL_MS)
  }
}
