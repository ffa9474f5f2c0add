import amqp, { type Channel, type ChannelModel } from 'amqplib'

/** Every queue operation of the harness is bounded: a broker that stops answering fails the run instead of hanging it. */
const OPERATION_TIMEOUT_MS = 15_000

async function bounded<T>(what: string, signal: AbortSignal, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  let onAbort: (() => void) | undefined
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${OPERATION_TIMEOUT_MS / 1000} s`)), OPERATION_TIMEOUT_MS)
    onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error(`${what}: aborted`))
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([work, limit])
  } finally {
    clearTimeout(timer)
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
  }
}

/**
 * One short-lived connection and channel for one queue operation, so a channel the broker
 * closes (404 on a missing queue) never affects the next operation.
 */
async function withChannel<T>(url: string, what: string, signal: AbortSignal, use: (channel: Channel) => Promise<T>): Promise<T> {
  let connection: ChannelModel | undefined
  let settled = false
  const work = (async () => {
    connection = await amqp.connect(url, { noDelay: true, timeout: OPERATION_TIMEOUT_MS, clientProperties: { connection_name: 'wharf-bench-admin' } })
    connection.on('error', () => {})
    const channel = await connection.createChannel()
    channel.on('error', () => {})
    return await use(channel)
  })().finally(() => (settled = true))
  const close = async (): Promise<void> => {
    await (connection as ChannelModel | undefined)?.close().catch(() => {})
  }
  try {
    return await bounded(`${what} (${url})`, signal, work)
  } catch (err) {
    throw new Error(`${what}: ${err instanceof Error ? err.message : String(err)}`)
  } finally {
    // After a timeout the connection may still open later: it is closed whenever that happens.
    if (settled) await bounded('close admin connection', signal, close()).catch(() => {})
    else void work.then(close, close)
  }
}

/** A durable, non-exclusive queue, empty: whatever a crashed earlier run left under the name is deleted first. */
export async function declareFreshQueue(url: string, queue: string, signal: AbortSignal): Promise<void> {
  await deleteQueue(url, queue, signal)
  await withChannel(url, `declare queue ${queue}`, signal, ch => ch.assertQueue(queue, { durable: true, exclusive: false, autoDelete: false }))
}

/** Messages ready in the queue (queue.declare passive: message-count). */
export async function queueDepth(url: string, queue: string, signal: AbortSignal): Promise<number> {
  const reply = await withChannel(url, `check queue ${queue}`, signal, ch => ch.checkQueue(queue))
  return reply.messageCount
}

/** Deletes the queue and its messages; a queue that is not there is fine (RabbitMQ answers delete-ok, others 404). */
export async function deleteQueue(url: string, queue: string, signal: AbortSignal): Promise<void> {
  await withChannel(url, `delete queue ${queue}`, signal, async ch => {
    try {
      await ch.deleteQueue(queue)
    } catch (err) {
      if ((err as { code?: unknown }).code !== 404) throw err
    }
  })
}

/** Binds the queue on an exchange (amq.topic by default) with a binding key. */
export async function bindQueue(url: string, queue: string, key: string, signal: AbortSignal, exchange = 'amq.topic'): Promise<void> {
  await withChannel(url, `bind queue ${queue} to ${exchange} with ${key}`, signal, ch => ch.bindQueue(queue, exchange, key))
}

/** Empties the queue; returns how many messages it held. */
export async function purgeQueue(url: string, queue: string, signal: AbortSignal): Promise<number> {
  const reply = await withChannel(url, `purge queue ${queue}`, signal, ch => ch.purgeQueue(queue))
  return reply.messageCount
}
