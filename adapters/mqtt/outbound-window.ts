import type { Client } from 'aedes'
import type { OfflineQueueOverflow } from '../../edge-config/config-types.ts'
import { Fifo } from '../../core/util/fifo.ts'

type Deliver = (packet: DeliverPacket, cb: () => void) => void
interface DeliverPacket { qos: number, brokerId?: string, brokerCounter?: number, clientId?: string, nl?: boolean }
interface ClientInternals { deliverQoS: Deliver, duplicates: Record<string, number>, id: string, _parser: { on(event: 'packet', fn: (packet: { cmd: string }) => void): void } }

export interface OutboundWindowOptions {
  maxInflightMessages: number
  /** Bound of the per-client backlog held while the window is full. */
  maxQueuedMessages: number
  queueOverflow: OfflineQueueOverflow
  onOverflow: (clientId: string) => void
}

/**
 * Bounds unacknowledged QoS 1/2 deliveries per client, as Mosquitto's max_inflight_messages: aedes
 * itself writes every delivery at once. Deliveries past the window wait in a bounded backlog and
 * go out as PUBACK/PUBCOMP arrive. A persistent session's backlog entries are also in its stored
 * queue, so a disconnect loses nothing there; a clean session's backlog dies with it, as MQTT allows.
 */
export class OutboundWindow {
  private readonly windows = new WeakMap<object, ClientWindow>()

  constructor (private readonly opts: OutboundWindowOptions) {}

  /** Wrap a client's delivery before aedes captures it: call from preConnect. */
  attach (client: Client): void {
    const internals = client as unknown as ClientInternals
    const window = new ClientWindow(internals, internals.deliverQoS, this.opts)
    this.windows.set(client, window)
    internals.deliverQoS = (packet, cb) => window.deliver(packet, cb)
    // The slot frees when the PUBACK/PUBCOMP arrives, not when aedes has committed its removal
    // (its 'ack' event): the window bounds what the client holds, and waiting for the commit
    // would add a group-commit round trip to every slot.
    internals._parser.on('packet', (packet: { cmd: string }) => {
      if (packet.cmd === 'puback' || packet.cmd === 'pubcomp') window.acked()
    })
  }

  inflight (client: Client): number {
    return this.windows.get(client)?.inflight ?? 0
  }
}

class ClientWindow {
  inflight = 0
  private readonly backlog = new Fifo<DeliverPacket>()

  constructor (private readonly client: ClientInternals, private readonly send: Deliver, private readonly opts: OutboundWindowOptions) {}

  deliver (packet: DeliverPacket, cb: () => void): void {
    if (packet.qos === 0 || !this.willBeWritten(packet)) { this.send(packet, cb); return }
    if (this.inflight < this.opts.maxInflightMessages) {
      this.inflight++
      this.send(packet, cb)
      return
    }
    if (this.backlog.length >= this.opts.maxQueuedMessages) {
      this.opts.onOverflow(this.client.id)
      if (this.opts.queueOverflow === 'drop-newest') { cb(); return }
      this.backlog.shift()
    }
    this.backlog.push(packet)
    cb() // release aedes' emitter: the packet waits here, not in the emitter
  }

  acked (): void {
    if (this.inflight > 0) this.inflight--
    while (this.inflight < this.opts.maxInflightMessages && this.backlog.length > 0) {
      const next = this.backlog.shift() as DeliverPacket
      if (!this.willBeWritten(next)) continue
      this.inflight++
      this.send(next, noop)
    }
  }

  // Mirrors aedes' own skip rules (no-local and broker-counter dedupe, lib/client.js) so a delivery
  // aedes will drop does not take a window slot that no PUBACK would ever free.
  private willBeWritten (packet: DeliverPacket): boolean {
    if (packet.nl === true && packet.clientId === this.client.id) return false
    if (!packet.brokerId || packet.brokerCounter === undefined) return true
    return (this.client.duplicates[packet.brokerId] ?? 0) < packet.brokerCounter
  }
}

function noop (): void {}
