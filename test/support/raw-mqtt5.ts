// A raw MQTT peer over a real socket for the strict cases: it sends what it is told (mqtt-packet
// packets or hand-built bytes), never acknowledges on its own, and keeps every packet it receives
// with its exact bytes, so a test can check the wire (property order, an empty topic with an alias).
import { connect as netConnect, type Socket } from 'node:net'
import mqttPacket, { type IConnackPacket, type IConnectPacket, type Packet } from 'mqtt-packet'
import { packet as wirePacket, prop, props as wireProps, str } from '../../adapters/mqtt/codec/test-wire.ts'

export interface RawPacket {
  readonly packet: Packet
  readonly raw: Buffer
}

export class RawMqttClient {
  readonly packets: RawPacket[] = []
  readonly closed: Promise<void>
  isClosed = false
  private pending: Buffer = Buffer.alloc(0)
  private readonly parser: ReturnType<typeof mqttPacket.parser>
  private readonly listeners = new Set<() => void>()
  private current: Buffer | null = null

  private constructor(
    readonly socket: Socket,
    readonly version: 3 | 4 | 5
  ) {
    this.parser = mqttPacket.parser({ protocolVersion: version })
    this.parser.on('packet', (p: Packet) => {
      this.packets.push({ packet: p, raw: this.current as Buffer })
    })
    this.parser.on('error', (err: Error) => {
      this.socket.destroy(err)
    })
    socket.on('data', chunk => this.onData(chunk))
    socket.on('error', () => {})
    this.closed = new Promise(resolve =>
      socket.once('close', () => {
        this.isClosed = true
        this.notify()
        resolve()
      })
    )
  }

  /** Opens a socket and sends CONNECT; resolves with the client and its CONNACK (rejects on none within 5 s). */
  static async connect(
    port: number,
    connect: Partial<IConnectPacket> & { clientId: string },
    version: 3 | 4 | 5 = 5
  ): Promise<{ client: RawMqttClient; connack: IConnackPacket }> {
    const socket = netConnect(port, '127.0.0.1')
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    const client = new RawMqttClient(socket, version)
    client.send({
      cmd: 'connect',
      protocolId: version === 3 ? 'MQIsdp' : 'MQTT',
      protocolVersion: version,
      clean: true,
      keepalive: 60,
      ...connect
    } as IConnectPacket)
    const [connack] = await client.waitFor('connack', 1)
    return { client, connack: connack as IConnackPacket }
  }

  send(p: Packet): void {
    this.socket.write(mqttPacket.generate(p, { protocolVersion: this.version }))
  }

  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes)
  }

  /** Received packets of one type, in order. */
  of(cmd: Packet['cmd']): Packet[] {
    return this.packets.filter(p => p.packet.cmd === cmd).map(p => p.packet)
  }

  rawOf(cmd: Packet['cmd']): RawPacket[] {
    return this.packets.filter(p => p.packet.cmd === cmd)
  }

  /** Waits until `n` packets of the type came (or the socket closed), bounded; returns them. */
  async waitFor(cmd: Packet['cmd'], n: number, timeoutMs = 5000): Promise<Packet[]> {
    await this.until(`${n} ${cmd.toUpperCase()}`, () => this.of(cmd).length >= n, timeoutMs)
    return this.of(cmd)
  }

  /** Waits for a condition on what was received; fails on timeout or when the socket closed first. */
  async until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
    if (check()) return
    await new Promise<void>((resolve, reject) => {
      const listener = (): void => {
        if (check()) {
          done()
          resolve()
          return
        }
        if (this.isClosed) {
          done()
          reject(new Error(`connection closed while waiting for ${what}; got ${this.describe()}`))
        }
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`no ${what} within ${timeoutMs} ms; got ${this.describe()}`))
      }, timeoutMs)
      const done = (): void => {
        clearTimeout(timer)
        this.listeners.delete(listener)
      }
      this.listeners.add(listener)
      listener()
    })
  }

  /** Ends the socket without DISCONNECT (an ungraceful close for the broker). */
  async destroy(): Promise<void> {
    this.socket.destroy()
    await this.closed
  }

  describe(): string {
    return this.packets.map(p => p.packet.cmd).join(',') || 'nothing'
  }

  private onData(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk])
    for (;;) {
      const size = packetSize(this.pending)
      if (size === null || this.pending.length < size) break
      this.current = this.pending.subarray(0, size)
      this.pending = this.pending.subarray(size)
      this.parser.parse(this.current)
    }
    this.notify()
  }

  private notify(): void {
    for (const l of [...this.listeners]) l()
  }
}

/** The whole size of the packet starting at buf[0], or null while its fixed header is incomplete. */
function packetSize(buf: Buffer): number | null {
  let length = 0
  let multiplier = 1
  for (let i = 1; i <= 4; i++) {
    const b = buf[i]
    if (b === undefined) return null
    length += (b & 0x7f) * multiplier
    if ((b & 0x80) === 0) return 1 + i + length
    multiplier *= 128
  }
  throw new Error('malformed Remaining Length')
}

// ---- the wire, by hand ---------------------------------------------------------------------------

export { prop }

/** An MQTT 5 PUBLISH built byte by byte (so properties go in exactly the order given). */
export function publish5(o: { topic: string; payload: string | Buffer; qos?: 0 | 1 | 2; packetId?: number; retain?: boolean; properties?: Buffer[] }): Buffer {
  const qos = o.qos ?? 0
  const first = 0x30 | (qos << 1) | (o.retain === true ? 1 : 0)
  const id = qos > 0 ? [Buffer.from([(o.packetId ?? 1) >> 8, (o.packetId ?? 1) & 0xff])] : []
  return wirePacket(first, str(o.topic), ...id, wireProps(...(o.properties ?? [])), Buffer.from(o.payload))
}

export interface WirePublish {
  topic: string
  packetId: number | undefined
  /** Every property as [identifier, value] in wire order. */
  properties: Array<[number, number | string | Buffer | [string, string]]>
  payload: Buffer
}

/** Decodes a PUBLISH's bytes, keeping the properties in wire order (mqtt-packet folds User Properties into an object). */
export function decodePublish5(raw: Buffer): WirePublish {
  const qos = ((raw[0] as number) >> 1) & 3
  let i = 1
  while (((raw[i] as number) & 0x80) !== 0) i++
  i++
  const u16 = (): number => {
    const v = raw.readUInt16BE(i)
    i += 2
    return v
  }
  const bytes = (): Buffer => {
    const n = u16()
    const b = raw.subarray(i, i + n)
    i += n
    return b
  }
  const varint = (): number => {
    let v = 0
    let m = 1
    for (;;) {
      const b = raw[i++] as number
      v += (b & 0x7f) * m
      if ((b & 0x80) === 0) return v
      m *= 128
    }
  }
  const topic = bytes().toString('utf8')
  const packetId = qos > 0 ? u16() : undefined
  const end = varint() + i
  const properties: WirePublish['properties'] = []
  while (i < end) {
    const id = raw[i++] as number
    switch (id) {
      case 0x01:
        properties.push([id, raw[i++] as number])
        break
      case 0x02:
        properties.push([id, raw.readUInt32BE(i)])
        i += 4
        break
      case 0x03:
      case 0x08:
        properties.push([id, bytes().toString('utf8')])
        break
      case 0x09:
        properties.push([id, Buffer.from(bytes())])
        break
      case 0x0b:
        properties.push([id, varint()])
        break
      case 0x23:
        properties.push([id, u16()])
        break
      case 0x26: {
        const k = bytes().toString('utf8')
        properties.push([id, [k, bytes().toString('utf8')]])
        break
      }
      default:
        throw new Error(`PUBLISH property 0x${id.toString(16)} is not one a PUBLISH carries`)
    }
  }
  return { topic, packetId, properties, payload: raw.subarray(i) }
}

/** The User Properties of a received PUBLISH, in wire order. */
export function userPropertiesOnWire(raw: Buffer): Array<[string, string]> {
  return decodePublish5(raw)
    .properties.filter(([id]) => id === 0x26)
    .map(([, v]) => v as [string, string])
}
