// A bare AMQP 0-9-1 client over a socket, for what no real client sends: malformed or truncated
// frames, wrong channel numbers, silence instead of heartbeats. Built on the server's own codec.
import { connect as netConnect, type Socket } from 'node:net'
import { FrameReader, type Frame } from '../../adapters/amqp/codec/frame-reader.ts'
import { FRAME_MAX_LIMIT, PROTOCOL_HEADER } from '../../adapters/amqp/codec/frame-format.ts'
import { Methods, decodeMethodFrame, encodeMethod, type DecodedMethod, type FieldsOf, type MethodId } from '../../adapters/amqp/codec/amqp-defs.ts'

export interface TuneRequest {
  channelMax?: number
  frameMax?: number
  heartbeat?: number
}
export interface Login {
  user?: string
  password?: string
  vhost?: string
}

export interface RawFrame {
  readonly frame: Frame
  readonly method: DecodedMethod | undefined
}

export class RawAmqp {
  readonly frames: RawFrame[] = []
  readonly raw: Buffer[] = []
  ended = false
  private readonly reader = new FrameReader({ expectProtocolHeader: false, frameMax: FRAME_MAX_LIMIT })
  private readonly waiters: Array<() => void> = []

  private constructor(readonly socket: Socket) {
    socket.on('data', chunk => {
      this.raw.push(chunk)
      try {
        this.reader.push(chunk)
        for (const item of this.reader) {
          if (item.type === 'protocol-header') continue
          const frame = { ...item, payload: Buffer.from(item.payload) }
          this.frames.push({ frame, method: frame.type === 'method' ? decodeMethodFrame(frame.payload) : undefined })
        }
      } catch {
        /* a protocol header back from the server is not a frame; raw keeps it */
      }
      this.wake()
    })
    socket.on('close', () => {
      this.ended = true
      this.wake()
    })
    socket.on('error', () => {})
  }

  static async connect(port: number): Promise<RawAmqp> {
    const socket = netConnect(port, '127.0.0.1')
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    return new RawAmqp(socket)
  }

  /** Protocol header, start-ok (PLAIN), tune-ok, open; returns the server's tune. Fails on a close. */
  static async open(port: number, tune: TuneRequest = {}, login: Login = {}): Promise<{ client: RawAmqp; tune: FieldsOf<typeof Methods.ConnectionTune> }> {
    const result = await RawAmqp.tryOpen(port, tune, login)
    if ('close' in result) throw new Error(`raw amqp: handshake closed with ${result.close.replyCode} ${result.close.replyText}`)
    return result
  }

  /** The handshake, up to open-ok or the server's connection.close. */
  static async tryOpen(
    port: number,
    tune: TuneRequest = {},
    login: Login = {}
  ): Promise<{ client: RawAmqp; tune: FieldsOf<typeof Methods.ConnectionTune> } | { client: RawAmqp; close: FieldsOf<typeof Methods.ConnectionClose> }> {
    const client = await RawAmqp.connect(port)
    client.write(PROTOCOL_HEADER)
    await client.expectMethod(Methods.ConnectionStart)
    const response = Buffer.from(`\0${login.user ?? 'guest'}\0${login.password ?? 'guest'}`)
    client.send(0, Methods.ConnectionStartOk, { clientProperties: {}, mechanism: 'PLAIN', response, locale: 'en_US' })
    const next = await client.waitFor(
      () => client.frames.find(f => f.method?.id === Methods.ConnectionTune || f.method?.id === Methods.ConnectionClose),
      5000,
      'tune or close'
    )
    if (next.method?.id === Methods.ConnectionClose) return { client, close: next.method.fields as FieldsOf<typeof Methods.ConnectionClose> }
    const serverTune = (await client.expectMethod(Methods.ConnectionTune)).fields as FieldsOf<typeof Methods.ConnectionTune>
    client.send(0, Methods.ConnectionTuneOk, {
      channelMax: tune.channelMax ?? serverTune.channelMax,
      frameMax: tune.frameMax ?? serverTune.frameMax,
      heartbeat: tune.heartbeat ?? 0
    })
    client.send(0, Methods.ConnectionOpen, { virtualHost: login.vhost ?? '/' })
    const opened = await client.waitFor(
      () => client.frames.find(f => f.method?.id === Methods.ConnectionOpenOk || f.method?.id === Methods.ConnectionClose),
      5000,
      'open-ok or close'
    )
    if (opened.method?.id === Methods.ConnectionClose) return { client, close: opened.method.fields as FieldsOf<typeof Methods.ConnectionClose> }
    await client.expectMethod(Methods.ConnectionOpenOk)
    return { client, tune: serverTune }
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes)
  }

  send<I extends MethodId>(channel: number, id: I, fields: FieldsOf<I>): void {
    this.write(encodeMethod(id, channel, fields))
  }

  async openChannel(channel: number): Promise<void> {
    this.send(channel, Methods.ChannelOpen, {})
    await this.expectMethod(Methods.ChannelOpenOk)
  }

  /** The next method frame with this id (earlier frames are kept), within timeoutMs. */
  async expectMethod(id: MethodId, timeoutMs = 5000): Promise<DecodedMethod & { channel: number }> {
    const found = await this.waitFor(
      () => {
        const i = this.frames.findIndex(f => f.method?.id === id)
        return i < 0 ? undefined : this.frames.splice(i, 1)[0]
      },
      timeoutMs,
      `method 0x${id.toString(16)}`
    )
    return { ...(found.method as DecodedMethod), channel: found.frame.channel }
  }

  /** Resolves when the server closed the socket. */
  async waitEnded(timeoutMs = 5000): Promise<void> {
    await this.waitFor(() => (this.ended ? true : undefined), timeoutMs, 'socket end')
  }

  async waitFor<T>(find: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const value = find()
      if (value !== undefined) return value
      const left = deadline - Date.now()
      if (left <= 0)
        throw new Error(
          `raw amqp: no ${what} within ${timeoutMs} ms (got ${this.frames.map(f => f.method?.name ?? f.frame.type).join(', ')}, ended=${this.ended})`
        )
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, left)
        this.waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  destroy(): void {
    this.socket.destroy()
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w()
  }
}

/** A frame from parts, for malformed ones: type, channel, payload, and an end octet of choice. */
export function rawFrame(type: number, channel: number, payload: Buffer, end = 0xce, sizeOverride?: number): Buffer {
  const head = Buffer.alloc(7)
  head[0] = type
  head.writeUInt16BE(channel, 1)
  head.writeUInt32BE(sizeOverride ?? payload.length, 3)
  return Buffer.concat([head, payload, Buffer.from([end])])
}
