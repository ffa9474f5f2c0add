// Exchange types are small modules behind one interface, registered by name (see index.ts).
// A router holds the bindings of one exchange in the shape its type matches fastest.
import type { Arguments, ExtraRoutingKeys } from '../message.ts'
import type { Binding, Destination } from '../binding.ts'

export interface RoutingInput {
  readonly routingKey: string
  readonly headers: Arguments | undefined
  /** More keys routed as routingKey is, at every exchange on the way (AMQP's CC / BCC headers). */
  readonly extraRoutingKeys?: ExtraRoutingKeys | null
}

export interface ExchangeRouter {
  add(binding: Binding): void
  remove(binding: Binding): void
  /** Adds the destination of every matching binding to `out`. */
  route(input: RoutingInput, out: Set<Destination>): void
}

export interface ExchangeType {
  readonly name: string
  createRouter(): ExchangeRouter
  /** Why this type refuses a binding's arguments, or undefined when it accepts them. */
  bindingProblem?(routingKey: string, args: Arguments): string | undefined
}

/** Destinations with a count: two bindings to one destination route once, and unbinding one keeps the other. */
export class DestinationBag {
  private readonly counts = new Map<Destination, number>()

  get size(): number {
    return this.counts.size
  }

  add(d: Destination): void {
    this.counts.set(d, (this.counts.get(d) ?? 0) + 1)
  }

  remove(d: Destination): void {
    const n = this.counts.get(d)
    if (n === undefined) return
    if (n <= 1) this.counts.delete(d)
    else this.counts.set(d, n - 1)
  }

  addTo(out: Set<Destination>): void {
    for (const d of this.counts.keys()) out.add(d)
  }
}
