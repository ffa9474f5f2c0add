import amqp, { type ChannelModel } from 'amqplib'

/** Every operation of the harness is bounded: a broker that stops answering fails the run instead of hanging it. */
const OPERATION_TIMEOUT_MS = 15_000

/** One short-lived connection for one operation; closed (by force after the timeout) whatever happens. */
async function withConnection<T>(url: string, what: string, use: (connection: ChannelModel) => Promise<T>): Promise<T> {
  let connection: ChannelModel | undefined
  const timer = setTimeout(() => void connection?.close().catch(() => {}), OPERATION_TIMEOUT_MS)
  try {
    connection = await amqp.connect(url, { timeout: OPERATION_TIMEOUT_MS, clientProperties: { connection_name: 'wharf-bench-admin' } })
    connection.on('error', () => {})
    return await use(connection)
  } catch (err) {
    throw new Error(`${what} (${url}): ${err instanceof Error ? err.message : String(err)}`)
  } finally {
    clearTimeout(timer)
    await connection?.close().catch(() => {})
  }
}

/** The product the broker announces in connection.start (Wharf says `Wharf`). */
export function brokerProduct(url: string): Promise<string> {
  return withConnection(url, 'read server properties', async connection => {
    const product = (connection.connection as unknown as { serverProperties?: { product?: unknown } }).serverProperties?.product
    return typeof product === 'string' ? product : 'unknown'
  })
}

/** Deletes the queue; one that is not there is fine (RabbitMQ answers delete-ok, others 404, which closes the channel). */
async function deleteIfThere(connection: ChannelModel, queue: string): Promise<void> {
  const channel = await connection.createChannel()
  channel.on('error', () => {})
  try {
    await channel.deleteQueue(queue)
    await channel.close()
  } catch (err) {
    if ((err as { code?: unknown }).code !== 404) throw err
  }
}

export function deleteStream(url: string, queue: string): Promise<void> {
  return withConnection(url, `delete stream ${queue}`, connection => deleteIfThere(connection, queue))
}

/** The durable stream queue `queue`, empty: whatever a crashed run left under the name is deleted first. */
export function declareFreshStream(url: string, queue: string): Promise<void> {
  return withConnection(url, `declare stream ${queue}`, async connection => {
    await deleteIfThere(connection, queue)
    const channel = await connection.createChannel()
    await channel.assertQueue(queue, { durable: true, exclusive: false, autoDelete: false, arguments: { 'x-queue-type': 'stream' } })
    await channel.close()
  })
}
