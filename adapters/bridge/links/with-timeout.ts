// A connection attempt bounded in time: after timeoutMs it fails naming the step; a connection that
// completes after that is handed to `late` (to be closed), never leaked.
export async function withTimeout<T>(attempt: Promise<T>, timeoutMs: number, what: string, late: (value: T) => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  let timedOut = false
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      timedOut = true
      reject(new Error(`${what}: no answer within ${timeoutMs} ms`))
    }, timeoutMs)
  })
  attempt.then(
    value => {
      if (timedOut) late(value)
    },
    () => {}
  )
  try {
    return await Promise.race([attempt, deadline])
  } finally {
    clearTimeout(timer)
  }
}
