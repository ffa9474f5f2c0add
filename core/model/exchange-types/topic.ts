import { TopicTrie } from '../topic-matcher.ts'
import type { Binding } from '../binding.ts'
import type { ExchangeRouter, ExchangeType } from './exchange-type.ts'

/**
 * Routing keys remembered per topic exchange. Devices publish to a bounded set of topics again and
 * again, so most lookups skip the trie walk (and its word split). Any bind or unbind clears it.
 */
export const TOPIC_ROUTE_CACHE_KEYS_MAX = 4096

/** topic: binding keys are patterns of '.'-separated words, '*' one word, '#' zero or more. */
export const topicExchange: ExchangeType = {
  name: 'topic',
  createRouter(): ExchangeRouter {
    const trie = new TopicTrie<Binding>()
    const cache = new Map<string, readonly Binding[]>()
    const matched = new Set<Binding>()
    return {
      add(b) {
        trie.add(b.routingKey, b)
        cache.clear()
      },
      remove(b) {
        trie.remove(b.routingKey, b)
        cache.clear()
      },
      route(input, out) {
        let bindings = cache.get(input.routingKey)
        if (bindings === undefined) {
          matched.clear()
          trie.match(input.routingKey, matched)
          bindings = [...matched]
          matched.clear()
          // Oldest out first (a Map iterates in insertion order).
          if (cache.size >= TOPIC_ROUTE_CACHE_KEYS_MAX) cache.delete(cache.keys().next().value as string)
          cache.set(input.routingKey, bindings)
        }
        for (const b of bindings) out.add(b.destination)
      }
    }
  }
}
