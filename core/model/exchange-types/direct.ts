import { DestinationBag, type ExchangeRouter, type ExchangeType } from './exchange-type.ts'

/** direct: the routing key equals the binding key. */
export const directExchange: ExchangeType = {
  name: 'direct',
  createRouter(): ExchangeRouter {
    const byKey = new Map<string, DestinationBag>()
    return {
      add(b) {
        let bag = byKey.get(b.routingKey)
        if (bag === undefined) {
          bag = new DestinationBag()
          byKey.set(b.routingKey, bag)
        }
        bag.add(b.destination)
      },
      remove(b) {
        const bag = byKey.get(b.routingKey)
        if (bag === undefined) return
        bag.remove(b.destination)
        if (bag.size === 0) byKey.delete(b.routingKey)
      },
      route(input, out) {
        byKey.get(input.routingKey)?.addTo(out)
      }
    }
  }
}
