// A TCP proxy between an MQTT client and its broker that can drop the broker's PUBRECs: the client's
// QoS 2 PUBLISH stays between PUBREC and PUBREL at the broker [MQTT-4.3.3], and the client never
// learns it. cut() ends every connection through it (a lost link) and it goes on listening. It
// records the PUBRELs the client sends and the reason codes of the broker's PUBCOMPs.
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { framer, packetId } from './pubrel-holding-proxy.ts'

const PUBREC = 5
const PUBREL = 6
const PUBCOMP = 7

export interface PubrecDroppingProxy {
  readonly port: number
  /** Packet ids of the PUBRECs dropped. */
  readonly dropped: readonly number[]
  /** Packet ids of the client's PUBRELs, in order. */
  readonly pubrels: readonly number[]
  /** The broker's PUBCOMPs: packet id to reason code (0 when the packet has none). */
  readonly pubcomps: ReadonlyMap<number, number>
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
        if (packet[0]! >> 4 === PUBREL) pubrels.push(packetId(packet))
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
    pubrels,
    pubcomps,
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
