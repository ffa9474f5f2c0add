// A value computed at most once per event-loop turn: one /metrics scrape reads many families built
// from the same walk over the model (or the tiering manifest), and that walk runs once.
export function oncePerTurn<T>(read: () => T): () => T {
  let cached: { value: T } | null = null
  return () => {
    if (cached === null) {
      cached = { value: read() }
      setImmediate(() => {
        cached = null
      })
    }
    return cached.value
  }
}
