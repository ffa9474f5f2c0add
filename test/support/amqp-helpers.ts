import { after, before } from 'node:test'
import amqp, { type Channel, type ChannelModel, type ConsumeMessage, type Options } from 'amqplib'
import { startTestBroker, type TestBroker } from './test-broker.ts'

/** The error amqplib reports for a server close: `code` is the reply code. */
export interface ServerCloseError extends Error {
  code?: number
  classId?: number
  methodId?: number
}

/** amqplib connection (URL or options; heartbeat, frameMax, channelMax go in the URL query). */
export async function connect(url: string | Options.Connect, socketOptions?: object): Promise<ChannelModel> {
  const conn = await amqp.connect(url, socketOptions)
  conn.on('error', () => {}) // tests assert on close codes explicitly
  return conn
}

export async function channel(conn: ChannelModel): Promise<Channel> {
  const ch = await conn.createChannel()
  ch.on('error', () => {})
  return ch
}

/** The channel closes with `code` (and text matching `text`); `op` is the operation that causes it. */
export async function expectChannelClosed(ch: Channel, op: () => Promise<unknown> | unknown, code: number, text?: RegExp): Promise<ServerCloseError> {
  const closed = new Promise<ServerCloseError>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`channel not closed with ${code} within 5 s`)), 5000)
    ch.once('error', (err: ServerCloseError) => {
      clearTimeout(timer)
      resolve(err)
    })
  })
  try {
    await op()
  } catch {
    /* the RPC's rejection carries the same close */
  }
  const err = await closed
  if (err.code !== code) throw new Error(`expected reply code ${code}, got ${String(err.code)}: ${err.message}`)
  if (text !== undefined && !text.test(err.message)) throw new Error(`close text ${JSON.stringify(err.message)} does not match ${String(text)}`)
  return err
}

/** The connection closes with `code`; `op` is the operation that causes it. */
export async function expectConnectionClosed(conn: ChannelModel, op: () => Promise<unknown> | unknown, code: number, text?: RegExp): Promise<ServerCloseError> {
  // amqplib emits 'error' for most codes, only 'close' (with the error) for 320 and 200.
  const closed = new Promise<ServerCloseError>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`connection not closed with ${code} within 5 s`)), 5000)
    const done = (err?: ServerCloseError): void => {
      if (err === undefined) return
      clearTimeout(timer)
      resolve(err)
    }
    conn.once('error', done)
    conn.once('close', done)
  })
  try {
    await op()
  } catch {
    /* rejected with the close */
  }
  const err = await closed
  if (err.code !== code) throw new Error(`expected connection close ${code}, got ${String(err.code)}: ${err.message}`)
  if (text !== undefined && !text.test(err.message)) throw new Error(`close text ${JSON.stringify(err.message)} does not match ${String(text)}`)
  return err
}

export interface Inbox {
  readonly messages: ConsumeMessage[]
  readonly consumerTag: string
  bodies(): string[]
  waitFor(n: number, timeoutMs?: number): Promise<ConsumeMessage[]>
}

/** basic.consume collecting deliveries; waitFor(n) bounds the wait. */
export async function consume(ch: Channel, queue: string, options: Options.Consume = {}, onMessage?: (m: ConsumeMessage) => void): Promise<Inbox> {
  const messages: ConsumeMessage[] = []
  const waiters: Array<{ n: number; resolve: () => void }> = []
  const { consumerTag } = await ch.consume(
    queue,
    m => {
      if (m === null) return
      messages.push(m)
      onMessage?.(m)
      for (const w of [...waiters])
        if (messages.length >= w.n) {
          waiters.splice(waiters.indexOf(w), 1)
          w.resolve()
        }
    },
    options
  )
  return {
    messages,
    consumerTag,
    bodies: () => messages.map(m => m.content.toString()),
    waitFor: async (n, timeoutMs = 5000) => {
      if (messages.length < n) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`expected ${n} deliveries, got ${messages.length} within ${timeoutMs} ms`)), timeoutMs)
          waiters.push({
            n,
            resolve: () => {
              clearTimeout(timer)
              resolve()
            }
          })
        })
      }
      return messages
    }
  }
}

export { eventually, holdsFor } from './wait.ts'

export async function closeQuietly(...conns: Array<ChannelModel | undefined>): Promise<void> {
  await Promise.all(conns.map(c => c?.close().catch(() => {})))
}

/** What withAmqpBroker opens for a describe block's tests to share. */
export interface AmqpBroker {
  broker: TestBroker
  conn: ChannelModel
  /** A channel on conn. */
  ch: Channel
  /** Another connection to the broker, closed with the rest after the block. */
  connect(): Promise<ChannelModel>
}

/**
 * Registers a describe block's before and after hooks: before its tests, a broker in this process, a connection
 * and a channel on it, handed to `ready` (which may set up more); after them, every connection and the broker
 * closed. node:test runs a block's after hooks also when a before hook failed, so a half-done set-up is closed too.
 */
export function withAmqpBroker(ready: (opened: AmqpBroker) => unknown): void {
  let broker: TestBroker | undefined
  const conns: ChannelModel[] = []
  before(async () => {
    const started = await startTestBroker()
    broker = started
    const open = async (): Promise<ChannelModel> => {
      const conn = await connect(started.amqpUrl)
      conns.push(conn)
      return conn
    }
    const conn = await open()
    await ready({ broker: started, conn, ch: await channel(conn), connect: open })
  })
  after(async () => {
    await closeQuietly(...conns)
    await broker?.close()
  })
}
