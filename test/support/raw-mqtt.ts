import { connect as netConnect, type Socket } from 'node:net'
import mqttPacket from 'mqtt-packet'

/** A raw TCP MQTT peer for feeding bytes the real clients would never send. */
export async function rawConnect(port: number, clientId: string, clean = true): Promise<{ socket: Socket; closed: Promise<void>; received: Buffer[] }> {
  const socket = netConnect(port, '127.0.0.1')
  const received: Buffer[] = []
  socket.on('data', d => received.push(d))
  socket.on('error', () => {})
  const closed = new Promise<void>(resolve => socket.once('close', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean, clientId, keepalive: 30 } as mqttPacket.IConnectPacket))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('raw connect: no CONNACK within 5 s')), 5000)
    const check = (): void => {
      if (Buffer.concat(received).length >= 4) {
        clearTimeout(timer)
        socket.off('data', check)
        resolve()
      }
    }
    socket.on('data', check)
    check()
  })
  return { socket, closed, received }
}

/** A PUBLISH packet with the topic given as raw bytes (so it may be ill-formed UTF-8). */
export function publishWithTopicBytes(topic: Buffer, payload: Buffer, qos: 0 | 1 = 0): Buffer {
  const variable = [Buffer.from([topic.length >> 8, topic.length & 0xff]), topic]
  if (qos > 0) variable.push(Buffer.from([0, 1]))
  const body = Buffer.concat([...variable, payload])
  return Buffer.concat([Buffer.from([0x30 | (qos << 1)]), remainingLength(body.length), body])
}

function remainingLength(n: number): Buffer {
  const out: number[] = []
  do {
    let byte = n % 128
    n = Math.floor(n / 128)
    if (n > 0) byte |= 0x80
    out.push(byte)
  } while (n > 0)
  return Buffer.from(out)
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_resolve, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))])
}

/**
 * A raw MQTT peer of any protocol version that parses what the server sends, for the strict cases:
 * hand-built bytes go out with `write`, packets come back in `packets` (in order) and `waitFor`.
 */
export interface RawPeer {
  socket: Socket
  /** Every packet the server sent, parsed, in order. */
  packets: mqttPacket.Packet[]
  /** Resolves when the server (or the test) closed the connection. */
  closed: Promise<void>
  isClosed(): boolean
  /** Bytes received in all (also those the parser could not read). */
  bytes(): number
  send(packet: mqttPacket.Packet): void
  write(bytes: Buffer): void
  /** The first packet (from the start) that satisfies `match`; rejects after timeoutMs. */
  waitFor<P extends mqttPacket.Packet = mqttPacket.Packet>(what: string, match: (p: mqttPacket.Packet) => boolean, timeoutMs?: number): Promise<P>
  /** Resolves once the connection closed; rejects after timeoutMs. */
  waitClosed(timeoutMs?: number): Promise<void>
  destroy(): void
}

/** Opens a TCP connection and sends nothing yet. */
export async function rawOpen(port: number, protocolVersion: 3 | 4 | 5 = 5): Promise<RawPeer> {
  const socket = netConnect(port, '127.0.0.1')
  const packets: mqttPacket.Packet[] = []
  const waiters = new Set<() => void>()
  const parser = mqttPacket.parser({ protocolVersion })
  let received = 0
  let isClosed = false
  parser.on('packet', (p: mqttPacket.Packet) => {
    packets.push(p)
    for (const w of [...waiters]) w()
  })
  parser.on('error', () => {})
  socket.on('data', d => {
    received += d.length
    parser.parse(d)
  })
  socket.on('error', () => {})
  const closed = new Promise<void>(resolve =>
    socket.once('close', () => {
      isClosed = true
      for (const w of [...waiters]) w()
      resolve()
    })
  )
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  const waitFor = <P extends mqttPacket.Packet>(what: string, match: (p: mqttPacket.Packet) => boolean, timeoutMs = 5000): Promise<P> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = packets.find(match)
        if (found !== undefined) {
          done()
          resolve(found as P)
          return
        }
        if (isClosed) {
          done()
          reject(new Error(`${what}: connection closed first; got ${describePackets(packets)}`))
        }
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`${what}: not within ${timeoutMs} ms; got ${describePackets(packets)}`))
      }, timeoutMs)
      const done = (): void => {
        clearTimeout(timer)
        waiters.delete(check)
      }
      waiters.add(check)
      check()
    })
  return {
    socket,
    packets,
    closed,
    isClosed: () => isClosed,
    bytes: () => received,
    send: packet => {
      socket.write(mqttPacket.generate(packet, { protocolVersion }))
    },
    write: bytes => {
      socket.write(bytes)
    },
    waitFor,
    waitClosed: timeoutMs => withTimeout(closed, timeoutMs ?? 5000, 'the server closing the connection'),
    destroy: () => {
      socket.destroy()
    }
  }
}

/** Opens a connection, sends CONNECT (MQTT 5 unless given) and waits for the CONNACK. */
export async function rawConnect5(port: number, connect: Partial<mqttPacket.IConnectPacket> = {}): Promise<RawPeer & { connack: mqttPacket.IConnackPacket }> {
  const protocolVersion = (connect.protocolVersion ?? 5) as 3 | 4 | 5
  const peer = await rawOpen(port, protocolVersion)
  peer.send({
    cmd: 'connect',
    protocolId: protocolVersion === 3 ? 'MQIsdp' : 'MQTT',
    protocolVersion,
    clean: true,
    clientId: '',
    keepalive: 30,
    ...connect
  } as mqttPacket.IConnectPacket)
  const connack = await peer.waitFor<mqttPacket.IConnackPacket>('CONNACK', p => p.cmd === 'connack')
  return Object.assign(peer, { connack })
}

/** Packets as a short list (command and reason code), for failure messages. */
export function describePackets(packets: readonly mqttPacket.Packet[]): string {
  return JSON.stringify(
    packets.map(p => {
      const rc = (p as { reasonCode?: number }).reasonCode
      return rc === undefined ? p.cmd : `${p.cmd}(0x${rc.toString(16).padStart(2, '0')})`
    })
  )
}

/** Bytes for hand-built packets: a fixed header around a body, and MQTT 5 property encodings. */
export const wire = {
  packet(firstByte: number, ...parts: Buffer[]): Buffer {
    const body = Buffer.concat(parts)
    return Buffer.concat([Buffer.from([firstByte]), remainingLength(body.length), body])
  },
  /** A fixed header announcing `length` bytes of body, without the body. */
  header(firstByte: number, length: number): Buffer {
    return Buffer.concat([Buffer.from([firstByte]), remainingLength(length)])
  },
  u16(n: number): Buffer {
    return Buffer.from([n >> 8, n & 0xff])
  },
  u32(n: number): Buffer {
    const b = Buffer.alloc(4)
    b.writeUInt32BE(n)
    return b
  },
  varint(n: number): Buffer {
    return remainingLength(n)
  },
  utf8(s: string): Buffer {
    const b = Buffer.from(s, 'utf8')
    return Buffer.concat([wire.u16(b.length), b])
  },
  /** A property section: Property Length then the properties, each already encoded with its identifier. */
  props(...properties: Buffer[]): Buffer {
    const body = Buffer.concat(properties)
    return Buffer.concat([remainingLength(body.length), body])
  },
  prop: {
    u8: (id: number, v: number): Buffer => Buffer.from([id, v]),
    u16: (id: number, v: number): Buffer => Buffer.concat([Buffer.from([id]), wire.u16(v)]),
    u32: (id: number, v: number): Buffer => Buffer.concat([Buffer.from([id]), wire.u32(v)]),
    varint: (id: number, v: number): Buffer => Buffer.concat([Buffer.from([id]), remainingLength(v)]),
    utf8: (id: number, s: string): Buffer => Buffer.concat([Buffer.from([id]), wire.utf8(s)])
  },
  /** An MQTT 5 CONNECT, Clean Start set, no will or credentials, with the given property section. */
  connect5(clientId: string, properties: Buffer = wire.props(), keepAliveSeconds = 30): Buffer {
    return wire.packet(0x10, wire.utf8('MQTT'), Buffer.from([5, 0x02]), wire.u16(keepAliveSeconds), properties, wire.utf8(clientId))
  },
  /** An MQTT 5 PUBLISH with the given property section (QoS > 0 carries packetId). */
  publish5(topic: string, payload: Buffer | string, properties: Buffer = wire.props(), qos: 0 | 1 | 2 = 0, packetId = 1): Buffer {
    const id = qos > 0 ? wire.u16(packetId) : Buffer.alloc(0)
    return wire.packet(0x30 | (qos << 1), wire.utf8(topic), id, properties, Buffer.from(payload))
  }
}
