import { isDeepStrictEqual } from 'node:util'
import type { Arguments } from '../message.ts'
import type { Binding } from '../binding.ts'
import type { ExchangeRouter, ExchangeType } from './exchange-type.ts'

// headers: the binding's arguments are matched against the message's headers. x-match 'all'
// (the default) needs every argument, 'any' one of them; arguments starting with 'x-' take part
// only with 'all-with-x' / 'any-with-x' (as RabbitMQ 3.10+). An argument whose value is void
// (null) matches a header of that name with any value.

type Mode = 'all' | 'any' | 'all-with-x' | 'any-with-x'
const MODES: readonly string[] = ['all', 'any', 'all-with-x', 'any-with-x']

interface Compiled {
  readonly binding: Binding
  readonly any: boolean
  readonly pairs: ReadonlyArray<readonly [string, unknown]>
}

function compile(b: Binding): Compiled {
  const mode = (b.arguments['x-match'] ?? 'all') as Mode
  const withX = mode.endsWith('-with-x')
  const pairs = Object.entries(b.arguments).filter(([k]) => k !== 'x-match' && (withX || !k.startsWith('x-')))
  return { binding: b, any: mode.startsWith('any'), pairs }
}

function matches(c: Compiled, headers: Arguments | undefined): boolean {
  if (c.pairs.length === 0) return !c.any // RabbitMQ: 'all' of nothing matches, 'any' of nothing does not
  const h = headers ?? {}
  const one = ([k, v]: readonly [string, unknown]): boolean => Object.hasOwn(h, k) && (v === null || isDeepStrictEqual(h[k], v))
  return c.any ? c.pairs.some(one) : c.pairs.every(one)
}

export const headersExchange: ExchangeType = {
  name: 'headers',
  bindingProblem(_routingKey, args) {
    const mode = args['x-match']
    if (mode === undefined || (typeof mode === 'string' && MODES.includes(mode))) return undefined
    return `invalid x-match field value ${JSON.stringify(mode)}; expected one of ${MODES.join(', ')}`
  },
  createRouter(): ExchangeRouter {
    const compiled = new Map<Binding, Compiled>()
    return {
      add(b) {
        compiled.set(b, compile(b))
      },
      remove(b) {
        compiled.delete(b)
      },
      route(input, out) {
        for (const c of compiled.values()) if (matches(c, input.headers)) out.add(c.binding.destination)
      }
    }
  }
}
