// What start-up has opened so far, closed in reverse when a later step fails: a start-up that fails
// leaves nothing open (no listener, no lock, no store) and the process can exit at once. Bounded: a
// closer that does not finish by the deadline is abandoned and named, so a failure never hangs.
export class OpenedResources {
  private readonly closers: Array<{ what: string; close: () => unknown }> = []

  add(what: string, close: () => unknown): void {
    this.closers.push({ what, close })
  }

  /** Closes everything in reverse order within timeoutMs; returns what did not close ("<what>: <cause>"), never throws. */
  async closeAll(timeoutMs: number): Promise<string[]> {
    const deadlineMs = Date.now() + timeoutMs
    const problems: string[] = []
    for (const { what, close } of this.closers.splice(0).reverse()) {
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<'late'>(resolve => {
        timer = setTimeout(() => resolve('late'), Math.max(0, deadlineMs - Date.now()))
      })
      try {
        const outcome = await Promise.race([Promise.resolve().then(close), late])
        if (outcome === 'late') problems.push(`close ${what}: not done within ${timeoutMs} ms`)
      } catch (err) {
        problems.push(`close ${what}: ${(err as Error).message}`)
      } finally {
        clearTimeout(timer)
      }
    }
    return problems
  }
}
