// One MQTT client connection (TCP, TLS or a WebSocket stream): the packet reader, the batched
// writer, keep alive, topic aliases both ways, the client's Maximum Packet Size and Receive
// Maximum. What each packet means is in handlers/, dispatched from one table.
import type { Duplex } from 'node:stream'
import type { MqttSession, SessionConnection } from './session.ts'
import type { Engine } from './engine.ts'
import type { AuthExchange } from './enhanced-auth/auth-method.ts'
import type { VhostAccess } from '../../core/auth/vhost-access.ts'
import { MqttPacketReader, type InboundPacket, type PacketSink } from './codec/packet-reader.ts'
import { encodePacket, encodePublish, type OutboundPacket, type PublishOut } from './codec/packet-writer.ts'
import type { MqttCodecError } from './codec/codec-error.ts'
import { ReasonCode } from './codec/reason-codes.ts'
import { handlers } from './handlers/index.ts'
import { refuse } from './handlers/connect.ts'
import type { PublishThrottle } from '../../core/limits/publish-limiter.ts'
import type { CertificateIdentity } from '../../core/auth/certificate-identity.ts'
import { unmeteredCell, type UsageCounts } from '../../core/metering/usage-meter.ts'
import { MessageCounts } from '../../core/metering/message-counts.ts'

export type ConnectionState = 'awaiting-connect' | 'authenticating' | 'connected' | 'closed'

export class MqttConnection implements SessionConnection, PacketSink {
  state: ConnectionState = 'awaiting-connect'
  protocolVersion: 3 | 4 | 5 = 4
  clientId = ''
  username: string | null = null
  /** The client's permissions in its vhost, set when CONNECT is accepted (access.ts). */
  access: VhostAccess | null = null
  session: MqttSession | null = null
  /** 0: no keep alive. */
  keepAliveMs = 0
  lastActivityMs: number
  readonly openedAtMs: number
  connectedAtMs = 0
  sendQuota: number
  /** The client's Maximum Packet Size (5.0); Infinity when it gave none. */
  clientMaxPacketBytes = Infinity
  clientTopicAliasMax = 0
  /** Inbound QoS 1/2 publishes taken and not yet acknowledged, against our Receive Maximum [MQTT-3.3.4-7]. */
  inboundUnacked = 0
  /** Topic aliases the client set (inbound) and we set (outbound); allocated on first use. */
  inAliases: Map<number, string> | null = null
  private outAliases: Map<string, number> | null = null
  /** Enhanced authentication in progress (CONNECT or re-authentication). */
  auth: { method: string; exchange: AuthExchange } | null = null
  /** CONNECT fields kept while an AUTH exchange runs. */
  pendingConnect: unknown = null
  /** Why the connection is closing, for the will and the log. */
  closeReason: string | null = null
  /** The client's Request Problem Information (5.0): when 0, no Reason String on acks [MQTT-3.1.2-29]. */
  problemInformation = true
  /** DISCONNECT 0x00 received: the will is not published [MQTT-3.14.4-3]. */
  gracefulDisconnect = false
  /** Metering of this client's vhost and user (set at CONNACK). */
  usage: UsageCounts = unmeteredCell()
  /** Messages published, confirmed, delivered and acked on this connection (the management API's message_stats). */
  readonly messages = new MessageCounts()
  private readonly reader: MqttPacketReader
  /** Packets that came while CONNECT was being decided (a client need not wait for CONNACK). */
  private held: InboundPacket[] | null = null
  /** Acks in the order their PUBLISH came [MQTT-4.6.0-2], each sent once its message is committed. */
  private readonly acks: Array<{ ready: boolean; packet: OutboundPacket; receivedMs: number | undefined }> = []
  private out: Buffer[] = []
  private outBytes = 0
  private packetsLastFlush = 0
  /** Publish rate limits: pauses this connection's reads while over them. */
  private readonly throttle: PublishThrottle | null
  /** Releases this connection's place under the per-user and per-vhost connection limits. */
  private releaseAdmission: (() => void) | null = null
  /** Destroys the socket of an ended connection whose peer does not close its side; cleared when it does. */
  private lingerTimer: NodeJS.Timeout | null = null

  constructor(
    readonly socket: Duplex,
    /** mqtt.vhost's engine until CONNECT is accepted, then the engine of the client's vhost (moveTo). */
    public engine: Engine,
    readonly remoteAddress: string | null,
    readonly transport: string,
    readonly certificateIdentity: CertificateIdentity | null = null,
    /** The listener's vhost: the client's unless its username names one ('vhost:user'). */
    readonly listenerVhost: string = engine.vhost.name
  ) {
    this.lastActivityMs = this.openedAtMs = engine.nowMs()
    this.sendQuota = engine.config.maxInflightMessages
    const publish = engine.limits?.publish
    // Paused mid-chunk: the packets after the one that overdrew the bucket wait in the reader.
    this.throttle =
      publish?.enabled === true
        ? publish.open(
            {
              pause: () => {
                this.reader.hold()
                socket.pause()
              },
              // The client could not send while paused: its partial-packet and keep alive clocks restart.
              resume: () => {
                this.lastActivityMs = this.engine.nowMs()
                this.reader.release() // may pause again
                if (this.throttle?.paused !== true) socket.resume()
              }
            },
            'mqtt'
          )
        : null
    this.reader = new MqttPacketReader({ maxPacketBytes: engine.config.maxPacketBytes, sink: this })
    // Listeners shared by every connection (the socket names its connection): no closures per connection.
    ;(socket as SocketOf)[CONNECTION] = this
    socket.on('data', onSocketData)
    socket.on('drain', onSocketDrain)
    socket.on('error', onSocketError)
    socket.on('close', onSocketClose)
    // A WebSocket stream ends without closing (its writable side stays open): the peer is gone.
    socket.on('end', onSocketEnd)
  }

  /** A packet from the reader (PacketSink). */
  packetRead(packet: InboundPacket): void {
    if (this.state === 'closed') return
    const handler = handlers[packet.cmd]
    if (handler === undefined) {
      this.protocolError(`a client does not send ${packet.cmd.toUpperCase()}`)
      return
    }
    if (this.state === 'authenticating' && packet.cmd !== 'auth') {
      ;(this.held ??= []).push(packet)
      return
    }
    if (this.state === 'awaiting-connect' && packet.cmd !== 'connect') {
      this.fail(`first packet is ${packet.cmd.toUpperCase()}, not CONNECT`) // [MQTT-3.1.0-1]
      return
    }
    try {
      handler(this.engine, this, packet as never)
    } catch (err) {
      this.protocolError(`${packet.cmd}: ${(err as Error).message}`)
    }
    if (packet.cmd === 'publish' && this.throttle !== null) this.throttle.charge(packet.payload.length)
  }

  /** Part of a packet has arrived and the rest has not (the partial-packet deadline runs). */
  get midPacket(): boolean {
    return this.reader.midPacket
  }

  /** Reads paused by a publish rate limit: the client cannot be blamed for silence meanwhile. */
  get throttled(): boolean {
    return this.throttle?.paused === true
  }

  /** CONNECT accepted in `engine`'s vhost: the client's sessions, publishes and $SYS figures are that vhost's from now on. */
  moveTo(engine: Engine): void {
    this.engine = engine
  }

  /** Authenticated as `username` (null: anonymous): joins the user's publish rate and holds its connection place. */
  admitted(username: string | null, release: (() => void) | null): void {
    this.throttle?.setUser(username)
    this.releaseAdmission = release
  }

  /** A codec error from the reader (PacketSink). */
  packetFailed(err: MqttCodecError): void {
    if (err.reasonCode === ReasonCode.PacketTooLarge) {
      this.engine.counters.oversize.inc()
      this.engine.warnOnce.warn('mqtt connection closed: packet over mqtt.maxPacketBytes', { clientId: this.clientId || undefined, reason: err.message })
    }
    if (this.state === 'awaiting-connect') {
      this.refuseConnect(err)
      return
    }
    this.disconnect(err.reasonCode, err.message)
  }

  /**
   * A CONNECT that broke a rule: CONNACK with the reason where the client can read one (MQTT 5, and
   * 3.1.1's return code 1 for an unsupported level [MQTT-3.1.2-2 (3.1.1)]), then close [MQTT-3.1.4-1].
   * Anything but a CONNECT first is closed without a packet [MQTT-3.1.0-1].
   */
  private refuseConnect(err: MqttCodecError): void {
    const version = this.reader.protocolVersion
    const unsupported = err.reasonCode === ReasonCode.UnsupportedProtocolVersion
    if (version === 0 && !unsupported) {
      this.fail(err.message)
      return
    }
    this.engine.counters.clientErrors.inc()
    if (version !== 0) this.protocolVersion = version
    refuse(this, err.reasonCode, err.message)
  }

  /**
   * An asynchronous step of a handler (session open, SUBACK, UNSUBACK, retained delivery): a fault
   * in it closes this one connection; as an unhandled rejection it would end the broker process.
   */
  guard(what: string, work: Promise<unknown>): void {
    work.catch(err => {
      this.engine.log.error(`mqtt: ${what} failed`, { clientId: this.clientId || undefined, err })
      if (this.state === 'connected') this.disconnect(ReasonCode.UnspecifiedError, `${what}: ${(err as Error).message}`)
      else this.fail(`${what}: ${(err as Error).message}`)
    })
  }

  /** A broken rule: DISCONNECT 0x82 (5.0) and close. */
  protocolError(reason: string): void {
    this.disconnect(ReasonCode.ProtocolError, reason)
  }

  /** Closes without a packet (before CONNECT, or 3.1.1 where only closing is possible). */
  fail(reason: string): void {
    if (this.state === 'closed') return
    this.engine.counters.clientErrors.inc()
    this.closeReason ??= reason
    this.engine.warnOnce.warn('mqtt connection closed on error', { clientId: this.clientId || undefined, remote: this.remoteAddress, reason })
    this.socket.destroy()
    this.closed()
  }

  /** Server DISCONNECT with a reason (5.0, after CONNACK [MQTT-3.14.0-1]), then close. */
  disconnect(reasonCode: number, reason: string): void {
    if (this.state === 'closed') return
    // Taken over, shut down or closed by an operator: nothing the client did wrong.
    if (
      reasonCode >= 0x80 &&
      reasonCode !== ReasonCode.SessionTakenOver &&
      reasonCode !== ReasonCode.ServerShuttingDown &&
      reasonCode !== ReasonCode.AdministrativeAction
    ) {
      this.engine.counters.clientErrors.inc()
      this.engine.warnOnce.warn('mqtt connection closed on error', { clientId: this.clientId || undefined, remote: this.remoteAddress, reason })
    }
    this.closeReason ??= reason
    if (this.protocolVersion === 5 && this.state === 'connected') {
      this.send({ cmd: 'disconnect', reasonCode, properties: { reasonString: reason.slice(0, 200) } })
    }
    this.end()
  }

  /** Flushes what is written and closes the socket; the session is released now. */
  end(): void {
    if (this.state === 'closed') return
    this.flush()
    this.socket.end()
    // A peer that does not close its side is cut off: the socket is not kept for it.
    this.lingerTimer = setTimeout(destroySocket, LINGER_AFTER_END_MS, this.socket)
    this.lingerTimer.unref()
    this.closed()
  }

  /** Bytes from the socket. */
  feed(chunk: Buffer): void {
    this.reader.feed(chunk)
  }

  /** The socket closed (from its 'close' event). */
  socketClosed(): void {
    // A pending linger timer would keep the socket, and this connection through it, for its whole second.
    if (this.lingerTimer !== null) clearTimeout(this.lingerTimer)
    this.lingerTimer = null
    this.closed()
  }

  /** An ended connection still waits for its peer to close (for tests: nothing is kept after the close). */
  get lingering(): boolean {
    return this.lingerTimer !== null
  }

  private closed(): void {
    if (this.state === 'closed') return
    const wasConnected = this.state === 'connected'
    this.state = 'closed'
    this.engine.connections.delete(this)
    this.throttle?.close()
    this.releaseAdmission?.()
    this.releaseAdmission = null
    if (!wasConnected) return
    this.engine.log.info('mqtt client disconnected', {
      ...this.logFields(),
      reason: this.closeReason ?? 'connection closed',
      graceful: this.gracefulDisconnect,
      connectedSeconds: Math.round((this.engine.nowMs() - this.connectedAtMs) / 1000)
    })
    this.engine.sessions.connectionLost(this)
  }

  /** Who this client is, for its connect and disconnect lines. */
  logFields(): Record<string, unknown> {
    return {
      clientId: this.clientId,
      user: this.username,
      vhost: this.engine.vhost.name,
      peer: this.remoteAddress,
      protocol: `MQTT ${this.protocolVersion === 5 ? '5.0' : this.protocolVersion === 4 ? '3.1.1' : '3.1'}`,
      listener: this.transport
    }
  }

  /** CONNACK sent: what the client sent meanwhile is handled now, in order. */
  connected(): void {
    this.state = 'connected'
    this.connectedAtMs = this.engine.nowMs()
    const held = this.held
    this.held = null
    if (held !== null) for (const p of held) this.packetRead(p)
  }

  /**
   * Sends the ack after stored settles, never before an earlier ack of this connection (a PUBCOMP
   * waits so for its receipt's deletion). receivedMs (the clock's monotonic reading when the PUBLISH
   * was read) times an accepted publish to its ack.
   */
  ackAfter(stored: Promise<void> | undefined, packet: OutboundPacket, receivedMs?: number): void {
    if (stored === undefined && this.acks.length === 0) {
      this.sendAck(packet, receivedMs)
      return
    }
    const slot = { ready: stored === undefined, packet, receivedMs }
    this.acks.push(slot)
    if (stored === undefined) return
    stored
      .then(() => {
        slot.ready = true
        this.flushAcks()
      })
      .catch(err => {
        this.engine.log.error(`mqtt: ${packet.cmd} held for a write that failed; connection closed without it`, { clientId: this.clientId, err })
        this.fail('store failed: ' + (err as Error).message)
      })
  }

  private flushAcks(): void {
    while (this.acks.length > 0 && (this.acks[0] as { ready: boolean }).ready) {
      const { packet, receivedMs } = this.acks.shift() as { packet: OutboundPacket; receivedMs: number | undefined }
      if (this.state === 'closed') continue
      this.sendAck(packet, receivedMs)
    }
  }

  private sendAck(packet: OutboundPacket, receivedMs: number | undefined): void {
    this.send(packet)
    // A PUBACK / PUBREC with a reason code of 0x80 or more is a refusal, not a confirm; a PUBCOMP ends
    // an exchange its PUBREC confirmed already.
    if (packet.cmd !== 'pubcomp' && ((packet as { reasonCode?: number }).reasonCode ?? 0) < 0x80) this.messages.confirm++
    if (receivedMs !== undefined) this.engine.counters.publishAck.observe((this.engine.clock.monotonicMs() - receivedMs) / 1000)
  }

  // ---- writing ---------------------------------------------------------------------------------------

  send(packet: OutboundPacket): void {
    // The inbound window frees at PUBACK, at PUBCOMP, or at a PUBREC refusing the message [MQTT-4.9.0-2].
    // As the client's send quota, never past Receive Maximum (§4.9): a PUBCOMP 0x92 for an id nobody used opens nothing.
    const cmd = packet.cmd
    if ((cmd === 'puback' || cmd === 'pubcomp' || (cmd === 'pubrec' && (packet.reasonCode ?? 0) >= 0x80)) && this.inboundUnacked > 0) this.inboundUnacked--
    let buf = encodePacket(packet, this.protocolVersion)
    // A Reason String or User Properties go only where they keep the packet within the client's
    // Maximum Packet Size [MQTT-3.2.2-19] [MQTT-3.4.2-2] [MQTT-3.9.2-1] [MQTT-3.14.2-3] (and the rest of each ack's section).
    if (buf.length > this.clientMaxPacketBytes && cmd !== 'publish') buf = encodePacket(withoutProblemInformation(packet), this.protocolVersion)
    // Still too large (a SUBACK or UNSUBACK of many reason codes, an AUTH's data): the server must not
    // send it [MQTT-3.1.2-24]. Discarded, as EMQX does; the work it answers stands (Mosquitto 2.0.11 sends it anyway).
    if (buf.length > this.clientMaxPacketBytes) {
      this.engine.counters.oversizeReplies.inc()
      this.engine.warnOnce.warn(`${cmd} not sent: larger than the client's Maximum Packet Size even without Reason String and User Properties`, {
        clientId: this.clientId || undefined,
        vhost: this.engine.vhost.name,
        bytes: buf.length,
        maximumPacketSize: this.clientMaxPacketBytes
      })
      return
    }
    this.write(buf)
  }

  /**
   * Packets written in one tick leave in one socket write: gathered here and joined, which costs
   * less than a stream write (and its bookkeeping) per packet. Under load (the last flush held
   * several packets) the flush waits for the end of the loop turn, gathering the deliveries made
   * meanwhile; a lone packet goes at the end of the current tick, adding no latency.
   */
  write(buf: Buffer): void {
    if (this.state === 'closed' && this.socket.destroyed) return
    if (this.out.length === 0) {
      if (this.packetsLastFlush > 1) setImmediate(flushConnection, this)
      else process.nextTick(flushConnection, this)
    }
    this.out.push(buf)
    this.outBytes += buf.length
    this.engine.stats.sentBytes += buf.length
  }

  flush(): void {
    const out = this.out
    if (out.length === 0) return
    this.packetsLastFlush = out.length
    const joined = out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out, this.outBytes)
    this.out = []
    this.outBytes = 0
    if (!this.socket.destroyed) this.socket.write(joined)
  }

  // ---- SessionConnection -------------------------------------------------------------------------

  writable(): boolean {
    return this.state === 'connected' && !this.socket.writableNeedDrain
  }

  sendPublish(p: PublishOut): boolean {
    let out = p
    let newAlias: number | undefined
    if (this.clientTopicAliasMax > 0) {
      const aliases = (this.outAliases ??= new Map())
      const alias = aliases.get(p.topic)
      if (alias !== undefined) {
        out = { ...p, topic: '', properties: { ...p.properties, topicAlias: alias } }
      } else if (aliases.size < this.clientTopicAliasMax) {
        newAlias = aliases.size + 1
        out = { ...p, properties: { ...p.properties, topicAlias: newAlias } }
      }
    }
    const buf = encodePublish(out, this.protocolVersion)
    if (buf.length > this.clientMaxPacketBytes) return false
    if (newAlias !== undefined) this.outAliases?.set(p.topic, newAlias)
    this.write(buf)
    this.engine.stats.sent++
    this.engine.counters.delivered.inc()
    this.usage.messagesOut++
    this.usage.bytesOut += p.payload.length
    if (p.qos === 0) this.messages.deliverNoAck++
    else this.messages.deliver++
    if (p.dup) this.messages.redeliver++
    return true
  }

  sendPubrel(packetId: number): void {
    this.send({ cmd: 'pubrel', messageId: packetId })
  }

  sessionGone(reason: string): void {
    this.disconnect(ReasonCode.AdministrativeAction, reason)
  }

  setProtocolVersion(v: 3 | 4 | 5): void {
    this.protocolVersion = v
    this.reader.setProtocolVersion(v)
  }
}

const CONNECTION = Symbol('mqtt connection')
/** How long an ended connection waits for its peer to close before the socket is destroyed. */
const LINGER_AFTER_END_MS = 1000
function destroySocket(socket: Duplex): void {
  socket.destroy()
}
type SocketOf = Duplex & { [CONNECTION]?: MqttConnection }

function onSocketData(this: SocketOf, chunk: Buffer): void {
  const conn = this[CONNECTION] as MqttConnection
  conn.lastActivityMs = conn.engine.nowMs()
  conn.engine.stats.receivedBytes += chunk.length
  conn.feed(chunk)
}
function onSocketDrain(this: SocketOf): void {
  this[CONNECTION]?.session?.resume()
}
function onSocketError(this: SocketOf, err: Error): void {
  const conn = this[CONNECTION]
  if (conn !== undefined) conn.closeReason ??= `socket error: ${err.message}`
}
function onSocketClose(this: SocketOf): void {
  this[CONNECTION]?.socketClosed()
}
// A WebSocket stream ends without closing (its writable side stays open): the peer is gone.
function onSocketEnd(this: SocketOf): void {
  const conn = this[CONNECTION]
  if (conn === undefined) return
  conn.closeReason ??= 'connection closed by the client'
  conn.end()
}
function flushConnection(conn: MqttConnection): void {
  conn.flush()
}

function withoutProblemInformation(packet: OutboundPacket): OutboundPacket {
  const props = (packet as { properties?: Record<string, unknown> }).properties
  if (props === undefined) return packet
  const { reasonString: _reason, userProperties: _user, ...rest } = props
  return { ...packet, properties: Object.keys(rest).length === 0 ? undefined : rest } as OutboundPacket
}
