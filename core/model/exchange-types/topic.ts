import { TopicTrie } from '../topic-matcher.ts'
import type { Binding } from '../binding.ts'
import type { ExchangeRouter, ExchangeType } from './exchange-type.ts'

/** topic: binding keys are patterns of '.'-separated words, '*' one word, '#' zero or more. */
export const topicExchange: ExchangeType = {
  name: 'topic',
  createRouter (): ExchangeRouter {
    const trie = new TopicTrie<Binding>()
    const matched = new Set<Binding>()
    return {
      add (b) { trie.add(b.routingKey, b) },
      remove (b) { trie.remove(b.routingKey, b) },
      route (input, out) {
        matched.clear()
        trie.match(input.routingKey, matched)
        for (const b of matched) out.add(b.destination)
        matched.clear()
      }
    }
  }
}
