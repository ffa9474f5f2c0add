import type { Arguments } from './message.ts'
import type { Binding } from './binding.ts'
import type { ExchangeRouter, ExchangeType } from './exchange-types/index.ts'

export interface ExchangeSpec {
  readonly name: string
  readonly type: string
  readonly durable: boolean
  readonly autoDelete: boolean
  readonly internal: boolean
  readonly arguments: Arguments
}

export class Exchange {
  readonly kind = 'exchange' as const
  /** Bindings with this exchange as source, by binding id. */
  readonly bindings = new Map<string, Binding>()
  /** Bindings with this exchange as destination (exchange-to-exchange). */
  readonly inbound = new Set<Binding>()
  readonly router: ExchangeRouter
  deleted = false

  constructor(
    readonly vhost: string,
    readonly name: string,
    readonly type: ExchangeType,
    readonly durable: boolean,
    readonly autoDelete: boolean,
    readonly internal: boolean,
    readonly args: Arguments
  ) {
    this.router = type.createRouter()
  }

  /** The exchange unroutable messages go to (argument alternate-exchange), if any. */
  get alternateExchange(): string | undefined {
    const ae = this.args['alternate-exchange']
    return typeof ae === 'string' ? ae : undefined
  }

  get spec(): ExchangeSpec {
    return { name: this.name, type: this.type.name, durable: this.durable, autoDelete: this.autoDelete, internal: this.internal, arguments: this.args }
  }
}
