// The exchange types Wharf knows, by name. A new type is one module and one line here.
import { directExchange } from './direct.ts'
import { fanoutExchange } from './fanout.ts'
import { topicExchange } from './topic.ts'
import { headersExchange } from './headers.ts'
import type { ExchangeType } from './exchange-type.ts'

export type { ExchangeType, ExchangeRouter, RoutingInput } from './exchange-type.ts'

export const exchangeTypes: ReadonlyMap<string, ExchangeType> = new Map([directExchange, fanoutExchange, topicExchange, headersExchange].map(t => [t.name, t]))

/** The exchanges every vhost has, besides the default exchange "" (RabbitMQ's set). */
export const builtinExchanges: ReadonlyArray<{ name: string; type: string }> = [
  { name: 'amq.direct', type: 'direct' },
  { name: 'amq.fanout', type: 'fanout' },
  { name: 'amq.topic', type: 'topic' },
  { name: 'amq.headers', type: 'headers' },
  { name: 'amq.match', type: 'headers' }
]
