// A subscription's options as arguments of its binding on the MQTT exchange (the session's queue
// keeps them, durable with it), and back: a session restored at start rebuilds its subscriptions
// from its queue's bindings. The session applies them at delivery (session.ts).
import type { Arguments } from '../../core/model/message.ts'
import { compileFilter, filterToBindingKey, type CompiledFilter } from './topic-grammar.ts'

export interface SubscriptionOptions {
  readonly filter: string
  readonly qos: 0 | 1 | 2
  readonly noLocal: boolean
  readonly retainAsPublished: boolean
  readonly retainHandling: 0 | 1 | 2
  readonly subscriptionId: number | undefined
}

/** A subscription as the session matches it at delivery. */
export interface Subscription extends SubscriptionOptions {
  readonly compiled: CompiledFilter
  readonly bindingKey: string
  readonly args: Arguments
}

export function subscriptionOf(o: SubscriptionOptions): Subscription {
  const args: Record<string, unknown> = { 'x-mqtt-filter': o.filter, 'x-mqtt-qos': o.qos }
  if (o.noLocal) args['x-mqtt-no-local'] = true
  if (o.retainAsPublished) args['x-mqtt-retain-as-published'] = true
  if (o.retainHandling !== 0) args['x-mqtt-retain-handling'] = o.retainHandling
  if (o.subscriptionId !== undefined) args['x-mqtt-subscription-id'] = o.subscriptionId
  // Fixed keys, not a spread: a spread gives nearly every such object its own hidden class (~300 B).
  return {
    filter: o.filter,
    qos: o.qos,
    noLocal: o.noLocal,
    retainAsPublished: o.retainAsPublished,
    retainHandling: o.retainHandling,
    subscriptionId: o.subscriptionId,
    compiled: compileFilter(o.filter),
    bindingKey: filterToBindingKey(o.filter),
    args
  }
}

export function optionsOf(args: Arguments): SubscriptionOptions | undefined {
  const filter = args['x-mqtt-filter']
  if (typeof filter !== 'string') return undefined
  const qos = args['x-mqtt-qos']
  const rh = args['x-mqtt-retain-handling']
  const sid = args['x-mqtt-subscription-id']
  return {
    filter,
    qos: qos === 2 ? 2 : qos === 1 ? 1 : 0,
    noLocal: args['x-mqtt-no-local'] === true,
    retainAsPublished: args['x-mqtt-retain-as-published'] === true,
    retainHandling: rh === 2 ? 2 : rh === 1 ? 1 : 0,
    subscriptionId: typeof sid === 'number' ? sid : undefined
  }
}
