// A binding destination outside the queue model: it takes a routed message as a whole and
// delivers it by its own means. The MQTT adapter is one per vhost: its bindings are the MQTT
// subscription filters, and it hands each message core routed to it to the MQTT sessions (which
// keep their own in-flight and offline state). Core still decides, once per message, whether the
// sink gets it; a sink gets a message at most once however many of its bindings match.
import type { Binding } from './binding.ts'
import type { Message } from './message.ts'

export interface MessageSink {
  readonly kind: 'sink'
  readonly name: string
  /** Sink bindings are never stored: the adapter rebuilds them at start from its own state. */
  readonly durable: false
  readonly exclusiveOwner: null
  readonly inbound: Set<Binding>
  /**
   * Takes a message routed here. The promise settles when the sink has committed what it must
   * keep (offline sessions), so a publisher confirm can wait for it; undefined when nothing waits.
   * storedByCore: core is storing the message too (durable queues), in a write queued before.
   */
  accept(message: Message, storedByCore: boolean): Promise<void> | undefined
  /**
   * For a message published straight to an exchange this sink is attached to, which no binding
   * routed here: does the sink still want it? (MQTT keeps a retained message whoever subscribes.)
   */
  wantsUnrouted(message: Message): boolean
}
