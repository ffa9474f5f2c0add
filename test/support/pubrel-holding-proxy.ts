// A TCP proxy between an MQTT client and its broker that frames the packets both ways and can hold
// back the broker's PUBRELs while everything else passes: the client has answered a QoS 2 PUBLISH
// with PUBREC, so the broker has let go of the message [MQTT-4.3.3], and the handshake cannot end.
// It keeps the packet ids in that state, so a test can tell that a crash of the client lands in it,
// and counts the PUBLISHes the broker sent the client.
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net'

const PUBLISH = 3
const PUBREC = 5
const PUBREL = 6

export interface PubrelHoldingProxy {
  readonly port: number
  /** QoS 2 packet ids the client acknowledged with PUBREC and has not been sent the PUBREL of. */
  readonly unreleased: ReadonlySet<number>
  /** PUBLISHes passed to the client by QoS, first sends only (DUP 0). */
  readonly published: Readonly<Record<0 | 1 | 2, number>>
  /** The broker's PUBRELs are kept back from now on (on every connection). */
  hold(): void
  /** The PUBRELs held go on, in order, and later ones pass. */
  release(): void
  close(): Promise<void>
}

export async function startPubrelHoldingProxy(targetPort: number): Promise<PubrelHoldingProxy> {
  const sockets = new Set<Socket>()
  const unreleased = new Set<number>()
  const published: Record<0 | 1 | 2, number> = { 0: 0, 1: 0, 2: 0 }
  const held = new Map<Socket, Buffer[]>()
  let holding = false
  const server: Server = createServer(client => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort })
    held.set(client, [])
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => {
        sockets.delete(s)
        held.delete(client) // the broker sends them again when the session resumes
        client.destroy()
        upstream.destroy()
      })
    }
    const fromClient = framer(packet => {
      if (packet[0]! >> 4 === PUBREC) unreleased.add(packetId(packet))
      upstream.write(packet)
    })
    const fromBroker = framer(packet => {
      const type = packet[0]! >> 4
      if (type === PUBLISH && (packet[0]! & 0x08) === 0) published[((packet[0]! >> 1) & 3) as 0 | 1 | 2]++
      if (type !== PUBREL) client.write(packet)
      else if (holding) held.get(client)?.push(Buffer.from(packet))
      else forwardPubrel(client, packet)
    })
    client.on('data', fromClient)
    upstream.on('data', fromBroker)
  })
  const forwardPubrel = (client: Socket, packet: Buffer): void => {
    unreleased.delete(packetId(packet))
    client.write(packet)
  }
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    unreleased,
    published,
    hold: () => {
      holding = true
    },
    release: () => {
      holding = false
      for (const [client, packets] of held) for (const p of packets.splice(0)) forwardPubrel(client, p)
    },
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise(resolve => server.close(resolve))
    }
  }
}

/** PUBREC and PUBREL: the packet id opens the variable header. */
export function packetId(packet: Buffer): number {
  return packet.readUInt16BE(fixedHeaderBytes(packet) ?? 2)
}

/** Whole packets out of a byte stream: the fixed header's type byte and Remaining Length (MQTT 2.1). */
export function framer(onPacket: (packet: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0)
  return chunk => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
    for (;;) {
      const header = fixedHeaderBytes(pending)
      if (header === null) return
      const total = header + remainingLength(pending)
      if (pending.length < total) return
      onPacket(pending.subarray(0, total))
      pending = pending.subarray(total)
    }
  }
}

/** The fixed header's length, or null while its Remaining Length is incomplete. */
function fixedHeaderBytes(buf: Buffer): number | null {
  for (let i = 1; i <= 4; i++) {
    if (buf.length <= i) return null
    if ((buf[i]! & 0x80) === 0) return i + 1
  }
  throw new Error('mqtt framing: Remaining Length over 4 bytes')
}

function remainingLength(buf: Buffer): number {
  let n = 0
  let factor = 1
  for (let i = 1; ; i++) {
    const b = buf[i]!
    n += (b & 0x7f) * factor
    if ((b & 0x80) === 0) return n
    factor *= 128
  }
}
