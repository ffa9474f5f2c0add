// A bridge link to an AMQP 0-9-1 remote (RabbitMQ, another Wharf) with amqplib: a confirm channel
// publishes to the bridge's exchange (routing key: the topic with '/' and '.' swapped), each send
// settled by its publisher confirm; the `in` topics are bindings of a durable remote queue, consumed
// with manual acks sent only after the message is committed locally, so commands wait at the
// remote while the edge is away or restarting.
import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage, type Message as AmqpMessage } from 'amqplib'
import { Message } from '../../../core/model/message.ts'
import { filterToBindingKey, routingKeyToTopic, topicToRoutingKey } from '../../mqtt/topic-grammar.ts'
import { NODE_ID_PROPERTY, upHeaders, viaOf } from '../loop-marks.ts'
import { batchMuxerWrites } from './amqp-batched-writes.ts'
import { framedPublish } from './amqp-framed-publish.ts'
import { coreProperties, UplinkPropertyCache, uplinkProperties } from './amqp-message.ts'
import { defaultRemoteName, PendingSends, type Downlinked, type LinkFactory, type LinkOptions, type RemoteLink } from './link.ts'
import { MessageRefusal } from './message-refusal.ts'
import { linkTlsOptions } from './tls-options.ts'
import { withTimeout } from './with-timeout.ts'

export const amqpLink: LinkFactory = async opts => {
  const { bridge } = opts
  const url = new URL(bridge.url)
  if (!url.searchParams.has('heartbeat')) url.searchParams.set('heartbeat', String(bridge.keepAliveSeconds))
  const socketOptions = {
    noDelay: true,
    timeout: bridge.connectTimeoutMs,
    clientProperties: { connection_name: `wharf bridge ${bridge.name}` },
    ...(url.protocol === 'amqps:' ? linkTlsOptions(bridge.tls, url) : {})
  }
  const attempt = amqp.connect(url.toString(), socketOptions)
  const conn = await withTimeout(attempt, bridge.connectTimeoutMs, 'connect', late => {
    void late.close().catch(() => {})
  })
  try {
    return await open(conn, opts)
  } catch (err) {
    await conn.close().catch(() => {})
    throw err
  }
}

async function open(conn: ChannelModel, opts: LinkOptions): Promise<RemoteLink> {
  const { bridge } = opts
  const exchange = bridge.amqp.exchange
  const pending = new PendingSends()
  batchMuxerWrites(conn)
  conn.on('error', () => {}) // 'close' follows with the cause
  conn.on('close', (err?: Error) => pending.fail(new Error(`connection closed${err === undefined ? '' : ': ' + err.message}`)))
  conn.on('blocked', (reason: string) => opts.logger.warn('bridge: remote blocked publishing (connection.blocked)', { bridge: bridge.name, reason }))
  const ch: ConfirmChannel = await conn.createConfirmChannel()
  watchChannel(ch, pending, 'uplink channel')
  // The uplink publishes mandatory: a message the remote routes to no queue comes back before its confirm.
  ch.on('return', (msg: ReturnedMessage) =>
    opts.onUnrouted(routingKeyToTopic(msg.fields.routingKey), `basic.return ${msg.fields.replyCode ?? ''} ${msg.fields.replyText ?? ''}`)
  )
  try {
    await ch.checkExchange(exchange)
  } catch (err) {
    throw new Error(`remote exchange '${exchange}' (amqp.exchange): ${(err as Error).message}`)
  }
  const inRefused = opts.downlink === null ? [] : await consumeDownlink(conn, opts, pending)
  const serverNodeId = conn.connection.serverProperties[NODE_ID_PROPERTY]
  const properties = new UplinkPropertyCache(opts.nodeId)
  const framed = framedPublish(conn, ch, exchange)
  return {
    remoteNodeId: typeof serverNodeId === 'string' ? serverNodeId : null,
    windowMax: bridge.inflightMessagesMax,
    remoteLimits: [],
    inRefused,
    closed: pending.closed,
    send(topic, message, nowMs) {
      return pending.track((resolve, reject) => {
        const onConfirm = (err: Error | null | undefined): void => {
          if (err === null || err === undefined) resolve()
          // A nack is RabbitMQ's trouble with the message now (a full queue, a failed write): sent again.
          else if (err.message === 'message nacked') reject(new MessageRefusal('the remote refused a message (basic.nack)', false))
          // 'channel closed': the channel's close (watchChannel) rejects every send with the remote's reason.
        }
        const routingKey = topicToRoutingKey(topic)
        if (framed !== null) framed(routingKey, properties.encoded(message, nowMs), message.body, onConfirm)
        // An amqplib without the internals framedPublish uses encodes each publish itself.
        else
          ch.publish(
            exchange,
            routingKey,
            message.body,
            { ...uplinkProperties(message, upHeaders(message.properties.headers, opts.nodeId), nowMs), mandatory: true },
            onConfirm
          )
      })
    },
    async close() {
      pending.fail(new Error('link closed'))
      await conn.close().catch(() => {})
    }
  }
}

/**
 * The durable remote queue of the `in` topics, bound on the exchange, consumed with manual acks.
 * Resolves with the `in` topics the remote refused (a refused queue.declare refuses them all).
 */
async function consumeDownlink(conn: ChannelModel, opts: LinkOptions, pending: PendingSends): Promise<string[]> {
  const { bridge } = opts
  const handle = opts.downlink
  if (handle === null) return []
  const queue = bridge.amqp.queue ?? defaultRemoteName('wharf-bridge', opts.nodeId, bridge.name, '.')
  const refused = await declareAndBind(conn, queue, bridge.amqp.exchange, bridge.in.topics)
  if (refused.length === bridge.in.topics.length) return refused
  const ch: Channel = await conn.createChannel()
  watchChannel(ch, pending, 'downlink channel')
  await ch.prefetch(bridge.amqp.prefetchMessages)
  await ch.consume(
    queue,
    msg => {
      if (msg === null) {
        pending.fail(new Error(`remote queue '${queue}' cancelled the downlink consumer`))
        return
      }
      // Over the disk watermark the delivery is held unacknowledged (the remote sends no more than
      // the prefetch); dropped if the link is gone by the clearance: the remote delivers it again.
      void opts.downlinkGate
        .whenOpen()
        .then(() => (pending.failed ? undefined : handle(downlinked(msg))))
        .then(
          () => {
            if (!pending.failed) ch.ack(msg)
          },
          err => {
            // Not acknowledged: the remote delivers it again once this link is gone and the next one consumes.
            pending.fail(new Error(`downlink: ${(err as Error).message}`))
            void conn.close().catch(() => {})
          }
        )
    },
    { noAck: false }
  )
  return refused
}

/**
 * Declares the queue and binds it with each `in` topic on a channel of its own: a permission that
 * refuses one (403, which closes the channel) refuses that topic only, not the link and the uplink
 * with it. Returns the refused topics, each with the remote's reason.
 */
async function declareAndBind(conn: ChannelModel, queue: string, exchange: string, topics: readonly string[]): Promise<string[]> {
  const open = async (): Promise<Channel> => {
    const ch = await conn.createChannel()
    ch.on('error', () => {}) // the failed call rejects with the reason
    return ch
  }
  let ch = await open()
  try {
    await ch.assertQueue(queue, { durable: true })
  } catch (err) {
    return topics.map(t => `'${t}': the remote refused queue.declare of '${queue}': ${(err as Error).message}`)
  }
  const refused: string[] = []
  for (const filter of topics) {
    const key = filterToBindingKey(filter)
    try {
      await ch.bindQueue(queue, exchange, key)
    } catch (err) {
      refused.push(`'${filter}': the remote refused queue.bind of '${queue}' to '${exchange}' with '${key}': ${(err as Error).message}`)
      ch = await open()
    }
  }
  await ch.close().catch(() => {})
  return refused
}

function downlinked(msg: ConsumeMessage): Downlinked {
  return {
    topic: routingKeyToTopic(msg.fields.routingKey),
    via: viaOf(msg.properties.headers),
    toMessage: (localTopic, exchange, nowMs, marks) =>
      new Message(exchange, topicToRoutingKey(localTopic), coreProperties(msg.properties, marks), msg.content, nowMs, null)
  }
}

/** basic.return as amqplib hands it over: the delivery fields plus the reply code and text. */
type ReturnedMessage = AmqpMessage & { fields: { routingKey: string; replyCode?: number; replyText?: string } }

function watchChannel(ch: Channel, pending: PendingSends, what: string): void {
  let cause: Error | undefined
  ch.on('error', (err: Error) => {
    cause = err
  }) // 'close' follows
  ch.on('close', () => pending.fail(new Error(`${what} closed${cause === undefined ? '' : ': ' + cause.message}`)))
}
