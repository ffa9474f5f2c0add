// One AMQP 0-9-1 connection: socket I/O, the handshake state, channels, heartbeats and closing.
// Frames are read from the FrameReader and dispatched through the one method table
// (handlers/index.ts). A handler that returns a promise (a durable declare waiting for its commit,
// authentication) pauses the socket until it settles, so methods take effect in the order sent.
import type { Socket } from 'node:net'
import type { AmqpConfig } from '../../edge-config/config-types.ts'
import type { Logger } from '../../core/logger.ts'
import type { Counter, Histogram } from '../../core/metrics.ts'
import type { RateLimitedLog } from '../../core/rate-limited-log.ts'
import { unmeteredCell, type UsageCounts, type UsageMeter } from '../../core/metering/usage-meter.ts'
import { MessageCounts } from '../../core/metering/message-counts.ts'
import type { Clock, TimerHandle } from '../../core/clock.ts'
import type { Broker } from '../../core/model/broker.ts'
import type { Vhost } from '../../core/model/vhost.ts'
import type { Message } from '../../core/model/message.ts'
import { FrameReader, type Frame } from './codec/frame-reader.ts'
import { ProtocolHeaderError } from './codec/codec-error.ts'
import { PROTOCOL_HEADER, HEARTBEAT_FRAME, contentFrames, methodFrame } from './codec/frame-writer.ts'
import {
  BASIC_CLASS_ID,
  Methods,
  decodeMethodFrame,
  encodeProperties,
  info,
  methodName,
  type BasicProperties,
  type ContentMethodId,
  type DecodedMethod,
  type FieldTable,
  type FieldsOf,
  type MethodId
} from './codec/amqp-defs.ts'
import { CHANNEL_ERROR, COMMAND_INVALID, CONNECTION_FORCED, INTERNAL_ERROR, NOT_ALLOWED, UNEXPECTED_FRAME } from './codec/reply-codes.ts'
import { AmqpException, toAmqpException } from './amqp-errors.ts'
import type { AccessControl } from '../../core/auth/access-control.ts'
import type { Principal } from '../../core/auth/access-types.ts'
import type { VhostAccess } from '../../core/auth/vhost-access.ts'
import { AmqpChannel } from './channel.ts'
import type { Content } from './content-assembler.ts'
import { FrameOutput } from './frame-output.ts'
import { methodRoutes, type MethodRoute } from './handlers/index.ts'
import type { AbuseLimits } from '../../core/limits/abuse-limits.ts'
import type { PublishThrottle } from '../../core/limits/publish-limiter.ts'
import type { PublishHold } from '../../core/limits/publish-hold.ts'
import type { CertificateIdentity } from '../../core/auth/certificate-identity.ts'
import { MECHANISMS } from './sasl.ts'
import type { PropertyInterner } from './property-interner.ts'
import type { StringInterner } from '../../core/util/string-interner.ts'

export interface AmqpCounters {
  readonly published: Counter
  readonly delivered: Counter
  readonly authFailures: Counter
  readonly connectionErrors: Counter
  readonly heartbeatTimeouts: Counter
  readonly handshakeTimeouts: Counter
  /** From a basic.publish read to its confirm settled (after the commit), on confirm channels. */
  readonly publishAck: Histogram
}

/** A resource alarm (disk, a bridge's backlog): a vhost's publishers are blocked while it holds for it (connection.blocked). */
export interface PublishAlarm {
  reasonFor: PublishHold
}

export interface AmqpServerContext {
  readonly broker: Broker
  readonly alarm: PublishAlarm
  /** The property lists publishers repeat, shared by every connection's messages. */
  readonly properties: PropertyInterner
  /** The exchange names and routing keys publishers repeat, one copy each for the queued messages. */
  readonly names: StringInterner
  /** Logins (connection.start-ok, update-secret) and the vhost access of connection.open. */
  readonly access: AccessControl
  readonly limits: AmqpConfig
  readonly serverProperties: FieldTable
  readonly logger: Logger
  readonly counters: AmqpCounters
  readonly usage: UsageMeter
  /** Time for handshake deadlines, heartbeats, the close-ok wait and message timestamps. */
  readonly clock: Clock
  /** Publish rates and connection counts shared with MQTT; absent: none. */
  readonly abuseLimits?: AbuseLimits | undefined
  readonly partialFrameTimeouts?: Counter | undefined
  /** Warnings a flood of bad connections would repeat: one line per log.repeatIntervalSeconds, then one with the count. */
  readonly warnOnce?: RateLimitedLog | undefined
}

/** What the listener knows of the peer before AMQP starts. */
export interface AmqpPeer {
  /** The listener's name, for logs and metrics (default amqp). */
  readonly listener?: string | undefined
  /** Set on a TLS listener that names users by certificate: SASL EXTERNAL is offered with it. */
  readonly certificateIdentity?: CertificateIdentity | undefined
}

export type ConnectionState = 'awaiting-header' | 'starting' | 'tuning' | 'opening' | 'open' | 'closing' | 'closed'

/** How long a closing peer gets to answer connection.close with close-ok. */
const CLOSE_OK_TIMEOUT_MS = 3000

export class AmqpConnection {
  state: ConnectionState = 'awaiting-header'
  readonly reader = new FrameReader()
  readonly output: FrameOutput
  readonly channels = new Map<number, AmqpChannel>()
  readonly log: Logger
  user: Principal | undefined
  vhost: Vhost | undefined
  /** The user's permissions in the vhost, checked by every method that touches a resource (access.ts). */
  access: VhostAccess | undefined
  clientProperties: FieldTable = {}
  consumerCancelNotify = false
  frameMax: number
  channelMax: number
  heartbeatSeconds = 0
  /** The listener that accepted it (amqp, amqps). */
  readonly listener: string
  /** Metering of this connection's vhost and user (set once open). */
  usage: UsageCounts = unmeteredCell()
  /** Its channels' message counts, closed channels' included (the management API's message_stats). */
  readonly messages = new MessageCounts()
  /** Why the connection ended, for its close line. */
  closeReason: string | null = null
  private openedAtMs: number | null = null
  private paused = false
  /** Input stopped by a publish rate limit (limits.perConnection, limits.perUser). */
  private throttled = false
  private readonly throttle: PublishThrottle | null
  /** Releases this connection's place under the per-user and per-vhost connection limits. */
  releaseAdmission: (() => void) | null = null
  /** Each open channel's place under its user's max-channels. */
  private readonly channelReleases = new Map<number, () => void>()
  /** SASL mechanisms offered in connection.start. */
  readonly mechanisms: readonly string[]
  private partialTimer: TimerHandle | undefined
  /** Input stopped because this connection published while the alarm held. */
  private blockedByAlarm = false
  private blockedSent = false
  private lastReadMs: number
  private handshakeTimer: TimerHandle | undefined
  private heartbeatTimer: TimerHandle | undefined
  private closeTimer: TimerHandle | undefined
  private readonly closedCallbacks: Array<() => void> = []

  constructor(
    readonly id: number,
    readonly socket: Socket,
    readonly ctx: AmqpServerContext,
    readonly peer: AmqpPeer = {}
  ) {
    this.output = new FrameOutput(socket, ctx.clock, ctx.limits.writeBufferBytesMax)
    this.frameMax = ctx.limits.frameMaxBytes
    this.channelMax = ctx.limits.channelMax
    this.lastReadMs = ctx.clock.nowMs()
    this.log = ctx.logger.child({ connection: id, peer: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}` })
    // [RabbitMQ rabbit_auth_mechanism_ssl] EXTERNAL only where a verified certificate names the user.
    this.listener = peer.listener ?? 'amqp'
    this.mechanisms = peer.certificateIdentity === undefined ? MECHANISMS : [...MECHANISMS, 'EXTERNAL']
    const publish = ctx.abuseLimits?.publish
    this.throttle =
      publish?.enabled === true
        ? publish.open(
            {
              pause: () => {
                this.throttled = true
                socket.pause()
              },
              resume: () => {
                this.throttled = false
                this.resumeInput()
              }
            },
            'amqp'
          )
        : null
  }

  get counters(): AmqpCounters {
    return this.ctx.counters
  }
  get clock(): Clock {
    return this.ctx.clock
  }

  start(): void {
    this.socket.setNoDelay(true)
    this.socket.on('data', chunk => this.onData(chunk))
    this.socket.on('error', err => {
      this.closeReason ??= `socket error: ${err.message}`
      this.log.debug('socket error', { err })
    })
    this.socket.on('close', () => this.onSocketClosed())
    this.socket.on('drain', () => {
      for (const ch of this.channels.values()) ch.redispatchAll()
    })
    this.handshakeTimer = this.clock.setTimer(() => {
      this.handshakeTimer = undefined
      if (this.state === 'open' || this.state === 'closed') return
      this.counters.handshakeTimeouts.inc()
      this.warn('connection closed: handshake not completed in time', { timeoutSeconds: this.ctx.limits.handshakeTimeoutSeconds, state: this.state })
      this.socket.destroy()
    }, this.ctx.limits.handshakeTimeoutSeconds * 1000)
  }

  onClosed(fn: () => void): void {
    this.closedCallbacks.push(fn)
  }

  /** Not read from: it published while the resource alarm (disk watermark) held. */
  get blockedByResourceAlarm(): boolean {
    return this.blockedByAlarm
  }

  private warn(msg: string, fields: Record<string, unknown>): void {
    if (this.ctx.warnOnce === undefined) {
      this.log.warn(msg, fields)
      return
    }
    this.ctx.warnOnce.warn(msg, { connection: this.id, peer: this.peerAddress, ...fields })
  }

  /** Logged in as `username`: joins the user's publish rate buckets. */
  authenticated(username: string): void {
    this.throttle?.setUser(username)
  }

  vhostOrThrow(): Vhost {
    if (this.vhost === undefined) throw new AmqpException(CHANNEL_ERROR, 'no vhost opened')
    return this.vhost
  }

  // ---- output ---------------------------------------------------------------------------------

  sendMethod<I extends MethodId>(channel: number, id: I, fields: FieldsOf<I>): void {
    this.output.send(methodFrame(channel, id, fields))
  }

  sendContent<I extends ContentMethodId>(channel: number, id: I, fields: FieldsOf<I>, message: Message): void {
    const properties = message.encodedProperties ?? encodeProperties(BASIC_CLASS_ID, message.properties as BasicProperties)
    this.output.sendAll(contentFrames(channel, id, fields, properties, message.body, this.frameMax))
  }

  // ---- input ----------------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    this.lastReadMs = this.clock.nowMs()
    if (this.state === 'closed') return
    this.reader.push(chunk)
    this.processFrames()
    this.watchPartialFrame()
  }

  /** Input is not held back by a pending handler, the alarm or a rate limit. */
  private get reading(): boolean {
    return !this.paused && !this.blockedByAlarm && !this.throttled
  }

  /** Resumes the socket and the frames already read, unless something else still holds input. */
  private resumeInput(): void {
    if (this.state === 'closed' || !this.reading) return
    // The peer could not send while input was held: its partial-frame and heartbeat clocks restart.
    this.lastReadMs = this.clock.nowMs()
    this.socket.resume()
    this.processFrames()
    this.watchPartialFrame()
  }

  /**
   * Bytes of a frame that is not complete, on a connection we are reading: the peer gets
   * amqp.partialFrameTimeoutSeconds from its last byte to send the rest. (A connection that has not
   * opened is under the handshake deadline as well.)
   */
  private watchPartialFrame(): void {
    if (this.partialTimer !== undefined || this.reader.bufferedBytes === 0 || !this.reading || this.state === 'closed') return
    const limitMs = this.ctx.limits.partialFrameTimeoutSeconds * 1000
    const check = (): void => {
      this.partialTimer = undefined
      if (this.state === 'closed' || this.reader.bufferedBytes === 0 || !this.reading) return
      const idleMs = this.clock.nowMs() - this.lastReadMs
      if (idleMs < limitMs) {
        this.partialTimer = this.clock.setTimer(check, limitMs - idleMs)
        return
      }
      this.ctx.partialFrameTimeouts?.inc()
      this.warn('connection closed: part of a frame and nothing more in time', {
        timeoutSeconds: this.ctx.limits.partialFrameTimeoutSeconds,
        bufferedBytes: this.reader.bufferedBytes,
        state: this.state
      })
      this.socket.destroy()
    }
    this.partialTimer = this.clock.setTimer(check, limitMs)
  }

  private processFrames(): void {
    while (this.reading && this.state !== 'closed') {
      let item
      try {
        item = this.reader.read()
      } catch (err) {
        this.onReadError(err)
        return
      }
      if (item === undefined) return
      if (item.type === 'protocol-header') {
        this.onProtocolHeader()
        continue
      }
      try {
        this.handleFrame(item)
      } catch (err) {
        this.fail(err, this.channels.get(item.channel), 0)
      }
    }
  }

  private onProtocolHeader(): void {
    this.state = 'starting'
    this.sendMethod(0, Methods.ConnectionStart, {
      versionMajor: 0,
      versionMinor: 9,
      serverProperties: this.ctx.serverProperties,
      mechanisms: Buffer.from(this.mechanisms.join(' ')),
      locales: Buffer.from('en_US')
    })
  }

  private onReadError(err: unknown): void {
    if (err instanceof ProtocolHeaderError) {
      // [spec §4.2.2] answer with the protocol header we support, then close the socket
      this.log.info('connection refused: bad protocol header', { reason: err.message })
      this.output.discard()
      this.socket.end(PROTOCOL_HEADER)
      this.state = 'closed'
      return
    }
    this.counters.connectionErrors.inc()
    const exc = toAmqpException(err, 0)
    if (this.state === 'awaiting-header' || this.state === 'closing') {
      this.socket.destroy()
      return
    }
    this.closeConnection(exc)
    // The reader cannot resync after a framing error: no close-ok can be read, so end after the close.
    this.output.flush()
    this.socket.end()
  }

  private handleFrame(frame: Frame): void {
    if (frame.type === 'heartbeat') return
    if (this.state === 'closing') {
      this.handleWhileClosing(frame)
      return
    }
    if (frame.channel === 0) {
      if (frame.type !== 'method') throw new AmqpException(UNEXPECTED_FRAME, `unexpected ${frame.type} frame on channel 0`)
      this.dispatch(decodeMethodFrame(frame.payload), undefined, undefined)
      return
    }
    if (this.state !== 'open') throw new AmqpException(UNEXPECTED_FRAME, `${frame.type} frame on channel ${frame.channel} before connection.open-ok`)
    if (frame.channel > this.channelMax)
      throw new AmqpException(CHANNEL_ERROR, `channel ${frame.channel} is above the negotiated channel-max ${this.channelMax}`)
    const ch = this.channels.get(frame.channel)
    if (ch === undefined) {
      if (frame.type !== 'method') throw new AmqpException(UNEXPECTED_FRAME, `${frame.type} frame on channel ${frame.channel}, which is not open`)
      const method = decodeMethodFrame(frame.payload)
      if (method.id !== Methods.ChannelOpen)
        throw new AmqpException(CHANNEL_ERROR, `expected 'channel.open' on channel ${frame.channel}, got '${methodName(method.id)}'`, method.id)
      this.openChannel(frame.channel, method.id)
      return
    }
    this.handleChannelFrame(ch, frame)
  }

  private handleChannelFrame(ch: AmqpChannel, frame: Frame): void {
    if (ch.state === 'closing') {
      // [spec] after channel.close, everything but close / close-ok is discarded
      if (frame.type !== 'method') return
      const id = frame.payload.readUInt32BE(0)
      if (id === Methods.ChannelCloseOk) this.forgetChannel(ch.id)
      else if (id === Methods.ChannelClose) this.sendMethod(ch.id, Methods.ChannelCloseOk, {})
      return
    }
    if (ch.contentMethod !== undefined) {
      const content = ch.pushContent(frame)
      if (content === undefined) return
      const method = ch.contentMethod
      ch.contentMethod = undefined
      this.dispatch(method, ch, content)
      return
    }
    if (frame.type !== 'method') throw new AmqpException(UNEXPECTED_FRAME, `expected method frame, got non method frame instead (channel ${ch.id})`)
    const method = decodeMethodFrame(frame.payload)
    if (info(method.id)?.hasContent === true && methodRoutes.get(method.id)?.scope === 'channel') {
      ch.beginContent(method)
      return
    }
    this.dispatch(method, ch, undefined)
  }

  private handleWhileClosing(frame: Frame): void {
    if (frame.channel !== 0 || frame.type !== 'method') return
    const id = frame.payload.readUInt32BE(0)
    if (id === Methods.ConnectionCloseOk) {
      this.socket.end()
      return
    }
    if (id === Methods.ConnectionClose) {
      this.sendMethod(0, Methods.ConnectionCloseOk, {})
      this.output.flush()
      this.socket.end()
    }
  }

  /** Runs a method's handler from the one table; connection-class methods belong on channel 0. */
  private dispatch(method: DecodedMethod, ch: AmqpChannel | undefined, content: Content | undefined): void {
    const route: MethodRoute | undefined = methodRoutes.get(method.id)
    if (route === undefined) throw new AmqpException(COMMAND_INVALID, `${methodName(method.id)} is not a method a client sends`, method.id)
    if ((route.scope === 'connection') !== (ch === undefined)) {
      throw new AmqpException(
        CHANNEL_ERROR,
        `${methodName(method.id)} on channel ${ch?.id ?? 0}: ${route.scope} methods belong on ${route.scope === 'connection' ? 'channel 0' : 'channels 1 and up'}`,
        method.id
      )
    }
    let result: void | Promise<void>
    try {
      result = route.handle(this, ch, method.fields, content)
    } catch (err) {
      this.fail(err, ch, method.id)
      return
    }
    if (result !== undefined) this.waitFor(result, ch, method.id)
    if (method.id === Methods.BasicPublish) {
      // As RabbitMQ: a connection that publishes while an alarm holds is not read from until it clears.
      if (this.alarmReason() !== null) this.blockInput()
      this.throttle?.charge(content?.body.length ?? 0)
    }
  }

  /** The alarm was raised or cleared: tell clients that understand connection.blocked. */
  alarmChanged(): void {
    if (this.state !== 'open') return
    const reason = this.alarmReason()
    const understands = (this.clientProperties.capabilities as Record<string, unknown> | undefined)?.['connection.blocked'] === true
    if (reason !== null && !this.blockedSent && understands) {
      this.blockedSent = true
      this.sendMethod(0, Methods.ConnectionBlocked, { reason })
    } else if (reason === null) {
      if (this.blockedSent) this.sendMethod(0, Methods.ConnectionUnblocked, {})
      this.blockedSent = false
      if (this.blockedByAlarm) {
        this.blockedByAlarm = false
        this.resumeInput()
      }
    }
  }

  private blockInput(): void {
    if (this.blockedByAlarm) return
    this.blockedByAlarm = true
    this.socket.pause()
    this.log.info('publisher blocked by a resource alarm', { reason: this.alarmReason() })
  }

  /** What holds this connection's vhost back now (the disk watermark, a bridge there), or null. */
  private alarmReason(): string | null {
    return this.vhost === undefined ? null : this.ctx.alarm.reasonFor(this.vhost.name)
  }

  private waitFor(work: Promise<void>, ch: AmqpChannel | undefined, methodId: number): void {
    this.paused = true
    this.socket.pause()
    work
      .catch(err => {
        this.fail(err, ch, methodId)
      })
      .finally(() => {
        this.paused = false
        this.resumeInput()
      })
  }

  /** Closes the channel (soft error) or the connection (hard error) with the error's reply code. */
  fail(err: unknown, ch: AmqpChannel | undefined, methodId: number): void {
    const exc = toAmqpException(err, methodId)
    if (exc.replyCode === INTERNAL_ERROR)
      this.log.error('internal error handling a method', { method: methodName(methodId), err: err instanceof Error ? err.stack : String(err) })
    if (!exc.hard && ch !== undefined && this.state === 'open') {
      this.closeChannel(ch, exc)
      return
    }
    this.counters.connectionErrors.inc()
    this.closeConnection(exc)
  }

  // ---- channels -------------------------------------------------------------------------------

  private openChannel(id: number, methodId: number): void {
    const username = this.user?.username
    if (username !== undefined && username !== null && this.ctx.abuseLimits !== undefined) {
      // [RabbitMQ rabbit_reader] a user over max-channels is a connection error, 530 NOT_ALLOWED.
      const admission = this.ctx.abuseLimits.admitChannel(username)
      if (!admission.ok) throw new AmqpException(NOT_ALLOWED, admission.reason, methodId)
      this.channelReleases.set(id, admission.release)
    }
    this.channels.set(id, new AmqpChannel(id, this))
    this.sendMethod(id, Methods.ChannelOpenOk, {})
  }

  private forgetChannel(id: number): void {
    this.channels.delete(id)
    this.channelReleases.get(id)?.()
    this.channelReleases.delete(id)
  }

  /** Server-initiated channel.close; frames are discarded until the client's close-ok. */
  closeChannel(ch: AmqpChannel, exc: AmqpException): void {
    if (ch.state !== 'open') return
    this.log.info('channel closed on error', { channel: ch.id, replyCode: exc.replyCode, reason: exc.message })
    ch.tearDown()
    this.sendMethod(ch.id, Methods.ChannelClose, { replyCode: exc.replyCode, replyText: exc.replyText, classId: exc.classId, methodId: exc.methodIdInClass })
  }

  /** The client's channel.close: settle the channel and answer close-ok. */
  channelClosedByClient(ch: AmqpChannel): void {
    ch.tearDown()
    this.forgetChannel(ch.id)
    this.sendMethod(ch.id, Methods.ChannelCloseOk, {})
  }

  // ---- connection lifecycle -------------------------------------------------------------------

  /** Handshake done (connection.open-ok sent): heartbeats start, the connection is metered and logged. */
  opened(): void {
    this.state = 'open'
    this.openedAtMs = this.clock.nowMs()
    if (this.vhost !== undefined) this.usage = this.ctx.usage.cell(this.vhost.name, this.user?.username ?? null, 'amqp')
    this.clearTimer(this.handshakeTimer)
    this.handshakeTimer = undefined
    this.startHeartbeats()
    this.alarmChanged() // an alarm raised before this connection opened
  }

  private startHeartbeats(): void {
    const seconds = this.heartbeatSeconds
    if (seconds === 0) return
    const intervalMs = seconds * 1000
    // Every half interval: send when we were quiet that long; drop a peer silent for two intervals.
    const tick = (): void => {
      this.heartbeatTimer = undefined
      if (this.state === 'closed') return
      const now = this.clock.nowMs()
      // While we hold its input (a pending handler, the alarm, a rate limit) the peer's heartbeats sit
      // unread: not a miss, as RabbitMQ pauses its heartbeat monitor while a connection is blocked.
      if (this.reading && now - this.lastReadMs > 2 * intervalMs) {
        this.counters.heartbeatTimeouts.inc()
        this.closeReason ??= `missed heartbeats (${seconds} s interval)`
        this.warn('missed heartbeats from client, connection dropped', { ...this.logFields(), heartbeatSeconds: seconds })
        this.socket.destroy()
        return
      }
      if (now - this.output.lastWriteMs >= intervalMs / 2) this.output.send(HEARTBEAT_FRAME)
      this.heartbeatTimer = this.clock.setTimer(tick, intervalMs / 2)
    }
    this.heartbeatTimer = this.clock.setTimer(tick, intervalMs / 2)
  }

  /** Server-initiated connection.close; the socket goes after close-ok or a timeout. */
  closeConnection(exc: AmqpException): void {
    if (this.state === 'closing' || this.state === 'closed') return
    const fields = { ...this.logFields(), replyCode: exc.replyCode, reason: exc.message, method: exc.methodId === 0 ? undefined : methodName(exc.methodId) }
    if (exc.replyCode === CONNECTION_FORCED) this.log.debug('connection closed by the server', fields)
    else this.warn('connection closed by the server', fields)
    this.closeReason ??= `closed by the server: ${exc.replyCode} ${exc.message}`
    this.state = 'closing'
    this.tearDownChannels()
    if (this.socket.destroyed) return
    this.sendMethod(0, Methods.ConnectionClose, { replyCode: exc.replyCode, replyText: exc.replyText, classId: exc.classId, methodId: exc.methodIdInClass })
    this.output.flush()
    this.closeTimer = this.clock.setTimer(() => this.socket.destroy(), CLOSE_OK_TIMEOUT_MS)
  }

  /** The client's connection.close: answer close-ok and end the socket. */
  closedByClient(replyCode: number, replyText: string): void {
    this.closeReason ??= `closed by the client: ${replyCode}${replyText === '' ? '' : ' ' + replyText}`
    this.state = 'closing'
    this.tearDownChannels()
    this.sendMethod(0, Methods.ConnectionCloseOk, {})
    this.output.flush()
    this.socket.end()
    this.closeTimer = this.clock.setTimer(() => this.socket.destroy(), CLOSE_OK_TIMEOUT_MS)
  }

  /** The connection is ending: its channels stop, and their places under max-channels are free at once. */
  private tearDownChannels(): void {
    for (const ch of this.channels.values()) if (ch.state === 'open') ch.tearDown()
    for (const release of this.channelReleases.values()) release()
    this.channelReleases.clear()
  }

  private onSocketClosed(): void {
    const wasOpen = this.state === 'open'
    this.state = 'closed'
    this.clearTimer(this.handshakeTimer)
    this.clearTimer(this.heartbeatTimer)
    this.clearTimer(this.closeTimer)
    this.clearTimer(this.partialTimer)
    this.throttle?.close()
    this.releaseAdmission?.()
    this.releaseAdmission = null
    this.tearDownChannels()
    this.channels.clear()
    this.output.discard()
    if (this.openedAtMs !== null) {
      const reason = this.closeReason ?? (wasOpen ? 'connection lost without connection.close' : 'connection closed')
      this.log.info('connection closed', { ...this.logFields(), reason, connectedSeconds: Math.round((this.clock.nowMs() - this.openedAtMs) / 1000) })
    }
    this.vhost?.ownerClosed(this).catch(err => this.log.error('deleting exclusive queues failed', { err }))
    for (const fn of this.closedCallbacks) fn()
  }
  get peerAddress(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`
  }

  /** Who this connection is, for its open and close lines: client name, user, vhost, peer (the log's child fields) and listener. */
  logFields(): Record<string, unknown> {
    const name = this.clientProperties.connection_name
    const product = this.clientProperties.product
    return {
      clientName: typeof name === 'string' ? name : undefined,
      client: typeof product === 'string' ? `${product} ${String(this.clientProperties.version ?? '')}`.trim() : undefined,
      user: this.user?.username,
      vhost: this.vhost?.name,
      listener: this.listener
    }
  }

  private clearTimer(handle: TimerHandle | undefined): void {
    if (handle !== undefined) this.clock.clearTimer(handle)
  }
}
