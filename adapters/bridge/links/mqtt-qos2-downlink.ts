// QoS 2 from an MQTT remote, exactly once across lost links and a killed edge (issue 13). mqtt.js on
// its own keeps an incoming QoS 2 PUBLISH in memory, sends PUBREC, and hands the message over only at
// PUBREL: the remote forgets the message at PUBREC, so an edge killed in between lost it. Here the
// message is published into the core and committed with its receipt (downlink-receipts.ts) before
// the PUBREC (customHandleAcks holds it until then); a PUBLISH sent again before its PUBREL is
// answered without publishing it twice [MQTT-4.3.3-10]; PUBREL releases the receipt, committed,
// before the PUBCOMP. QoS 1 needs none of this: mqtt.js sends PUBACK after handleMessage's callback.
import { Readable } from 'node:stream'
import type { IStore } from 'mqtt'
import type { IPublishPacket, Packet } from 'mqtt-packet'
import type { DownlinkReceipts } from '../downlink-receipts.ts'
import type { DownlinkHandler, Downlinked } from './link.ts'

/**
 * Takes a QoS 2 PUBLISH: resolves once it is committed locally (or dropped on purpose, or known
 * already), when the PUBREC may go. A rejection leaves no receipt behind: the remote's resend is
 * published.
 */
export async function takeQos2(packet: IPublishPacket, downlinked: Downlinked, handle: DownlinkHandler, receipts: DownlinkReceipts): Promise<void> {
  const id = packet.messageId ?? 0
  if (receipts.has(id)) return // a resend: it is in the core already
  try {
    await handle({ ...downlinked, receipt: () => receipts.add(id) })
  } catch (err) {
    await receipts.release(id).catch(() => {})
    throw err
  }
}

/**
 * mqtt.js's incoming store, over the receipts instead of packets in memory: a PUBREL for an id taken
 * by this link, an earlier one or the process before a crash reaches handleMessage, which
 * releases the receipt, before its PUBCOMP; one for an id not known gets its PUBCOMP at once.
 */
export function qos2IncomingStore(receipts: DownlinkReceipts): IStore {
  const store: IStore = {
    put: (_packet, cb) => {
      cb() // the receipt was written with the message, before this
      return store
    },
    get: (packet, cb) => {
      const id = packet.messageId ?? 0
      if (!receipts.has(id)) cb(new Error('missing packet'))
      else cb(undefined, { cmd: 'publish', qos: 2, messageId: id, topic: '', payload: Buffer.alloc(0), dup: false, retain: false })
      return store
    },
    del: (packet, cb) => {
      cb(undefined, packet as Packet) // released in handleMessage, which mqtt.js calls first
      return store
    },
    createStream: () => Readable.from([]) as unknown as ReturnType<IStore['createStream']>,
    close: cb => cb()
  }
  return store
}
