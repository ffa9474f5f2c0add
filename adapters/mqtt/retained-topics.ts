// In-memory index of the topics that hold a retained message, as a tree of topic levels, so a
// SUBSCRIBE finds its retained messages by walking the tree instead of scanning the table.

interface TopicNode {
  children: Map<string, TopicNode>
  topic: string | null // set when a retained message is stored at exactly this node
}

const newNode = (): TopicNode => ({ children: new Map(), topic: null })

export class RetainedTopics {
  private readonly root = newNode()
  private count = 0

  get size(): number {
    return this.count
  }

  add(topic: string): void {
    let node = this.root
    for (const level of topic.split('/')) {
      let child = node.children.get(level)
      if (!child) {
        child = newNode()
        node.children.set(level, child)
      }
      node = child
    }
    if (node.topic === null) this.count++
    node.topic = topic
  }

  delete(topic: string): void {
    const path: TopicNode[] = [this.root]
    const levels = topic.split('/')
    for (const level of levels) {
      const child = path[path.length - 1]?.children.get(level)
      if (!child) return
      path.push(child)
    }
    const leaf = path[path.length - 1] as TopicNode
    if (leaf.topic === null) return
    leaf.topic = null
    this.count--
    // Prune empty branches bottom-up.
    for (let i = levels.length; i > 0; i--) {
      const node = path[i] as TopicNode
      if (node.topic !== null || node.children.size > 0) break
      path[i - 1]?.children.delete(levels[i - 1] as string)
    }
  }

  /** Topics matching an MQTT topic filter (`+` one level, `#` this level and all below). */
  match(filter: string): string[] {
    const out: string[] = []
    collect(this.root, filter.split('/'), 0, out)
    return out
  }
}

function collect(node: TopicNode, levels: string[], i: number, out: string[]): void {
  if (i === levels.length) {
    if (node.topic !== null) out.push(node.topic)
    return
  }
  const level = levels[i] as string
  if (level === '#') {
    // `a/#` also matches `a` itself (§4.7.1.2).
    if (node.topic !== null && i > 0) out.push(node.topic)
    for (const [name, child] of node.children) {
      if (i === 0 && name.startsWith('$')) continue // [MQTT-4.7.2-1]
      descendants(child, out)
    }
    return
  }
  if (level === '+') {
    for (const [name, child] of node.children) {
      if (i === 0 && name.startsWith('$')) continue // [MQTT-4.7.2-1]
      collect(child, levels, i + 1, out)
    }
    return
  }
  const child = node.children.get(level)
  if (child) collect(child, levels, i + 1, out)
}

function descendants(node: TopicNode, out: string[]): void {
  if (node.topic !== null) out.push(node.topic)
  for (const child of node.children.values()) descendants(child, out)
}
