// Waiting in tests, in one place. Wait for a condition (eventually), never for a guessed time;
// sleep is for the one thing a condition cannot show: that something did NOT happen within a while.

export const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** Waits until `check` holds, polling; fails after timeoutMs naming what was awaited. */
export async function eventually (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(10)
  }
}
