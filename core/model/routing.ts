// Routing, done once per message by core. Starting at the exchange published to, each exchange
// adds its matching destinations; exchanges reached through exchange-to-exchange bindings are
// visited once each (so binding cycles cannot loop), and an exchange that matched nothing hands
// the message to its alternate-exchange (per exchange, as RabbitMQ does). Each queue gets the
// message once however many paths lead to it; so does each sink (collected into `sinks`). Extra
// routing keys (AMQP's CC / BCC) are matched at every exchange as the message's own key is.
import type { Destination } from './binding.ts'
import type { Exchange } from './exchange.ts'
import type { Queue } from './queue.ts'
import type { RoutingInput } from './exchange-types/index.ts'
import type { MessageSink } from './message-sink.ts'
import type { Message } from './message.ts'

export interface RoutingScope {
  exchangeNamed(name: string): Exchange | undefined
  queueNamed(name: string): Queue | undefined
}

// Scratch for one exchange's matches: route() never runs inside itself (a router only adds to the
// set), so one set serves every call and the publish path allocates one less set per message.
const found = new Set<Destination>()

const NO_QUEUES: ReadonlySet<Queue> = new Set()

/** Where route() puts the sinks it reaches: the set is made at the first one (most publishes reach none). */
export interface SinkCollector {
  sinks: Set<MessageSink> | undefined
}

/** What a message is routed by: its routing key, its headers (headers exchanges) and its extra keys (CC, BCC). */
export function routingInputOf(message: Message): RoutingInput {
  return { routingKey: message.routingKey, headers: message.properties.headers, extraRoutingKeys: message.extraRoutingKeys }
}

export function route(start: Exchange, input: RoutingInput, scope: RoutingScope, collector?: SinkCollector): ReadonlySet<Queue> {
  let queues: Set<Queue> | undefined
  let seen: Set<Exchange> | undefined // only once an exchange-to-exchange binding is followed
  let work: Exchange[] | undefined // likewise: exchanges still to visit
  for (let x: Exchange | undefined = start; x !== undefined; x = work?.pop()) {
    found.clear()
    matchAt(x, input, scope)
    const extra = input.extraRoutingKeys
    if (extra != null) {
      for (const routingKey of extra.shown) matchAt(x, { routingKey, headers: input.headers }, scope)
      for (const routingKey of extra.hidden) matchAt(x, { routingKey, headers: input.headers }, scope)
    }
    const ae = found.size === 0 ? x.alternateExchange : undefined
    if (ae !== undefined) {
      const alt = scope.exchangeNamed(ae)
      if (alt !== undefined) found.add(alt)
    }
    for (const d of found) {
      if (d.kind === 'queue') (queues ??= new Set()).add(d)
      else if (d.kind === 'sink') {
        if (collector !== undefined) (collector.sinks ??= new Set()).add(d)
      } else {
        seen ??= new Set([start])
        if (!seen.has(d)) {
          seen.add(d)
          ;(work ??= []).push(d)
        }
      }
    }
  }
  found.clear()
  return queues ?? NO_QUEUES
}

/** Adds to `found` what exchange x matches for input's routing key. */
function matchAt(x: Exchange, input: RoutingInput, scope: RoutingScope): void {
  if (x.name === '') {
    // The default exchange: an implicit binding to every queue by its name.
    const q = scope.queueNamed(input.routingKey)
    if (q !== undefined) found.add(q)
  } else {
    x.router.route(input, found)
  }
}
