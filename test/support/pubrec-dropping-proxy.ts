// A TCP proxy between an MQTT client and its broker that can drop the broker's PUBRECs: the client's
// QoS 2 PUBLISH stays between PUBREC and PUBREL at the broker [MQTT-4.3.3], and the client never
// learns it. cut() ends every connection through it (a lost link) and it goes on listening. It
// can drop the client's PUBRELs instead (the client had the PUBREC, the broker never gets the PUBREL). It
// records the client's QoS 1/2 PUBLISHes (packet id and DUP), the PUBRELs it sends and the reason
// codes of the broker's PUBCOMPs.
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { framer, packetId } from './pubrel-holding-proxy.ts'

const PUBLISH = 3
const PUBREC = 5
const PUBREL = 6
const PUBCOMP = 7

/** A QoS 1/2 PUBLISH from the client. */
export interface SeenPublish {
  readonly packetId: number
  readonly dup: boolean
}

export interface PubrecDroppingProxy {
  readonly port: number
  /** Packet ids of the PUBRECs dropped. */
  readonly dropped: readonly number[]
  /** The client's QoS 1/2 PUBLISHes, in order. */
  readonly publishes: readonly SeenPublish[]
  /** Packet ids of the client's PUBRELs passed to the broker, in order. */
  readonly pubrels: readonly number[]
  /** The broker's PUBCOMPs: packet id to reason code (0 when the packet has none). */
  readonly pubcomps: ReadonlyMap<number, number>
  /** Packet ids of the client's PUBRELs dropped. */
  readonly droppedPubrels: readonly number[]
  /** Drops the client's PUBRELs from now on (true) or passes them again (false). */
  dropPubrels(on: boolean): void
  /** Drops the broker's PUBRECs from now on (true) or passes them again (false). */
  dropPubrecs(on: boolean): void
  /** Ends every connection through the proxy; new ones are taken. */
  cut(): void
  close(): Promise<void>
}

export async function startPubrecDroppingProxy(targetPort: number): Promise<PubrecDroppingProxy> {
  const sockets = new Set<Socket>()
  const dropped: number[] = []
  const pubrels: number[] = []
  const publishes: SeenPublish[] = []
  const droppedPubrels: number[] = []
  let droppingPubrels = false
  const pubcomps = new Map<number, number>()
  let dropping = false
  const server: Server = createServer(client => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort })
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => {
        sockets.delete(s)
        client.destroy()
        upstream.destroy()
      })
    }
    client.on(
      'data',
      framer(packet => {
        if (packet[0]! >> 4 === PUBLISH && (packet[0]! & 0x06) !== 0) publishes.push(publishSeen(packet))
        if (packet[0]! >> 4 === PUBREL) {
          if (droppingPubrels) return void droppedPubrels.push(packetId(packet))
          pubrels.push(packetId(packet))
        }
        upstream.write(packet)
      })
    )
    upstream.on(
      'data',
      framer(packet => {
        const type = packet[0]! >> 4
        if (type === PUBCOMP) pubcomps.set(packetId(packet), packet.length > 4 ? packet[4]! : 0)
        if (type === PUBREC && dropping) dropped.push(packetId(packet))
        else client.write(packet)
      })
    )
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    dropped,
    publishes,
    pubrels,
    pubcomps,
    droppedPubrels,
    dropPubrels: on => {
      droppingPubrels = on
    },
    dropPubrecs: on => {
      dropping = on
    },
    cut: () => {
      for (const s of sockets) s.destroy()
    },
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise(resolve => server.close(resolve))
    }
  }
}

/** A QoS 1/2 PUBLISH's packet id follows its Topic Name (MQTT 3.3.2); DUP is bit 3 of the first byte. */
function publishSeen(packet: Buffer): SeenPublish {
  let at = 1
  while ((packet[at]! & 0x80) !== 0) at++
  at++
  const topicBytes = packet.readUInt16BE(at)
  return { packetId: packet.readUInt16BE(at + 2 + topicBytes), dup: (packet[0]! & 0x08) !== 0 }
}
