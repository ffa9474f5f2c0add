import amqp from 'amqplib'

const PROBE_TIMEOUT_MS = 5000

/**
 * Opens and closes one AMQP connection: the broker's reported version ('' if it reports none)
 * when the handshake completes within 5 s, undefined when it does not.
 */
export async function amqpServerVersion(url: string): Promise<string | undefined> {
  const attempt = amqp.connect(url, { noDelay: true, timeout: PROBE_TIMEOUT_MS })
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<undefined>(resolve => {
    timer = setTimeout(() => resolve(undefined), PROBE_TIMEOUT_MS)
  })
  try {
    const connection = await Promise.race([attempt, timeout])
    if (connection === undefined) {
      // A handshake that completes after the deadline must not leave a connection open.
      attempt
        .then(
          late => late.close(),
          () => {}
        )
        .catch(() => {})
      return undefined
    }
    const version = connection.connection.serverProperties.version ?? ''
    await connection.close().catch(() => {})
    return version
  } catch {
    return undefined
  } finally {
    clearTimeout(timer)
  }
}
