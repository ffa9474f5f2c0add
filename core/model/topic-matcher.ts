// The one topic matcher: AMQP topic patterns over routing keys of words separated by '.',
// where '*' is exactly one word and '#' zero or more words. MQTT filters map onto it
// ('/' ↔ '.', '+' → '*', '#' → '#') where the MQTT adapter converts topics, so both protocols
// route through this trie. An empty key or pattern has no words ('#' matches it).

export function topicWords(keyOrPattern: string): string[] {
  return keyOrPattern === '' ? [] : keyOrPattern.split('.')
}

// children are made on first use, and a node's first value is held in the node: most nodes are
// leaves of one binding (an MQTT session's own topic), where an empty Map, or a Set of one
// (~0.15 KB), was most of an idle subscriber's cost here.
interface Node<T> {
  children: Map<string, Node<T>> | undefined
  star: Node<T> | undefined
  hash: Node<T> | undefined
  /** The first value; undefined only while `more` is too. */
  value: T | undefined
  /** The values after the first. */
  more: Set<T> | undefined
}

const newNode = <T>(): Node<T> => ({ children: undefined, star: undefined, hash: undefined, value: undefined, more: undefined })

/** Patterns → values; match(key) yields every value whose pattern matches the key. */
export class TopicTrie<T> {
  private readonly root: Node<T> = newNode()
  private count = 0

  get size(): number {
    return this.count
  }

  add(pattern: string, value: T): void {
    let node = this.root
    for (const word of topicWords(pattern)) {
      if (word === '*') node = node.star ??= newNode()
      else if (word === '#') node = node.hash ??= newNode()
      else {
        let next = node.children?.get(word)
        if (next === undefined) {
          next = newNode()
          ;(node.children ??= new Map()).set(word, next)
        }
        node = next
      }
    }
    if (node.value === value || node.more?.has(value) === true) return
    if (node.value === undefined) node.value = value
    else (node.more ??= new Set()).add(value)
    this.count++
  }

  /** True when the pair was present. Empty branches are pruned. */
  remove(pattern: string, value: T): boolean {
    const path: Array<{ node: Node<T>; word: string }> = []
    let node: Node<T> | undefined = this.root
    for (const word of topicWords(pattern)) {
      path.push({ node, word })
      node = word === '*' ? node.star : word === '#' ? node.hash : node.children?.get(word)
      if (node === undefined) return false
    }
    if (!removeValue(node, value)) return false
    this.count--
    for (let i = path.length - 1; i >= 0; i--) {
      const { node: parent, word } = path[i] as { node: Node<T>; word: string }
      const child = word === '*' ? parent.star : word === '#' ? parent.hash : parent.children?.get(word)
      if (child === undefined || !isEmpty(child)) break
      if (word === '*') parent.star = undefined
      else if (word === '#') parent.hash = undefined
      else parent.children?.delete(word)
    }
    return true
  }

  match(key: string, out: Set<T> = new Set()): Set<T> {
    matchFrom(this.root, topicWords(key), 0, out)
    return out
  }
}

/** The first of `more` takes the place of a removed first value. */
function removeValue<T>(node: Node<T>, value: T): boolean {
  if (node.value !== value) return node.more?.delete(value) === true
  const more = node.more
  node.value = undefined
  if (more !== undefined) {
    for (const next of more) {
      node.value = next
      more.delete(next)
      break
    }
    if (more.size === 0) node.more = undefined
  }
  return true
}

function isEmpty<T>(node: Node<T>): boolean {
  return node.value === undefined && (node.children?.size ?? 0) === 0 && node.star === undefined && node.hash === undefined
}

function matchFrom<T>(node: Node<T>, words: readonly string[], i: number, out: Set<T>): void {
  if (node.hash !== undefined) {
    // '#' takes zero, one, ... or all remaining words.
    for (let j = i; j <= words.length; j++) matchFrom(node.hash, words, j, out)
  }
  if (i === words.length) {
    if (node.value !== undefined) out.add(node.value)
    if (node.more !== undefined) for (const v of node.more) out.add(v)
    return
  }
  const word = words[i] as string
  const child = node.children?.get(word)
  if (child !== undefined) matchFrom(child, words, i + 1, out)
  if (node.star !== undefined) matchFrom(node.star, words, i + 1, out)
}

/** One pattern against one key, without a trie: the reference the trie is tested against. */
export function topicMatches(pattern: string, key: string): boolean {
  return matchWords(topicWords(pattern), 0, topicWords(key), 0)
}

function matchWords(p: readonly string[], i: number, k: readonly string[], j: number): boolean {
  if (i === p.length) return j === k.length
  const word = p[i]
  if (word === '#') {
    for (let skip = j; skip <= k.length; skip++) if (matchWords(p, i + 1, k, skip)) return true
    return false
  }
  if (j === k.length) return false
  return (word === '*' || word === k[j]) && matchWords(p, i + 1, k, j + 1)
}
