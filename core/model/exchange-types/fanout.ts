import { DestinationBag, type ExchangeRouter, type ExchangeType } from './exchange-type.ts'

/** fanout: every bound destination, whatever the key. */
export const fanoutExchange: ExchangeType = {
  name: 'fanout',
  createRouter(): ExchangeRouter {
    const all = new DestinationBag()
    return {
      add(b) {
        all.add(b.destination)
      },
      remove(b) {
        all.remove(b.destination)
      },
      route(_input, out) {
        all.addTo(out)
      }
    }
  }
}
