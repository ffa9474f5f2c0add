// One principal acting in one vhost (an AMQP connection, an MQTT client): the checks its protocol
// operations map onto, with refusals as BrokerErrors ('access-refused') worded as RabbitMQ's. Answers
// are remembered until the access definitions change (their version), so a publish costs a Map lookup.
// A pattern that matches every name ('.*', RabbitMQ's default) is tested, not remembered, and the
// answer maps are made on first use: an idle MQTT client (one per connection, 10,000 on a gateway)
// kept seven empty or one-entry Maps here, ~1.4 KB of its ~7 KB of heap.
import { accessRefused } from '../errors.ts'
import type { Access, Principal, ResourceKind, TopicAccess, TopicVariables } from './access-types.ts'
import { resourceAllowed, resourceRefusal, topicAllowed, topicRefusal } from './access-check.ts'

/** Where the version of the access definitions comes from (AccessStore). */
export interface AccessVersion {
  readonly version: number
}

// Bounds the memory of a client that publishes to ever new routing keys; a full cache starts over.
const answersMax = 256

type Answers = Map<string, boolean>

const MATCH_ALL = '.*'
const ACCESS_INDEX: Readonly<Record<Access, number>> = { configure: 0, write: 2, read: 4 }
const KIND_INDEX: Readonly<Record<ResourceKind, number>> = { exchange: 0, queue: 1 }

export class VhostAccess {
  // Answers by access and kind (ACCESS_INDEX + KIND_INDEX) or by exchange, then name: no key is built
  // per check on the publish path.
  private resources: (Answers | undefined)[] = []
  private topics: Map<string, Answers> | undefined
  private remembered = 0
  private seenVersion = -1

  constructor(
    readonly principal: Principal,
    readonly vhost: string,
    readonly variables: TopicVariables,
    private readonly definitions: AccessVersion
  ) {}

  get username(): string | null {
    return this.principal.username
  }

  can(access: Access, kind: ResourceKind, name: string): boolean {
    const permissions = this.principal.permissions(this.vhost)
    if (permissions?.[access] === MATCH_ALL) return resourceAllowed(permissions, access, kind, name)
    this.forgetIfChanged()
    const slot = ACCESS_INDEX[access] + KIND_INDEX[kind]
    let answers = this.resources[slot]
    if (answers === undefined) {
      answers = new Map()
      this.resources[slot] = answers
    }
    let answer = answers.get(name)
    if (answer === undefined) {
      answer = resourceAllowed(permissions, access, kind, name)
      answers.set(name, answer)
      this.remembered++
    }
    return answer
  }

  canTopic(access: TopicAccess, exchange: string, routingKey: string): boolean {
    const perm = this.principal.topicPermission(this.vhost, exchange)
    if (perm === undefined) return true // the common case: the exchange's keys are not restricted
    this.forgetIfChanged()
    const id = access === 'write' ? 'w' + exchange : 'r' + exchange
    this.topics ??= new Map()
    let answers = this.topics.get(id)
    if (answers === undefined) {
      answers = new Map()
      this.topics.set(id, answers)
    }
    let answer = answers.get(routingKey)
    if (answer === undefined) {
      answer = topicAllowed(perm, access, routingKey, this.variables)
      answers.set(routingKey, answer)
      this.remembered++
    }
    return answer
  }

  /** Throws access-refused (AMQP 403) unless allowed. */
  check(access: Access, kind: ResourceKind, name: string): void {
    if (!this.can(access, kind, name)) throw accessRefused(resourceRefusal(access, kind, name, this.vhost, this.username))
  }

  checkTopic(access: TopicAccess, exchange: string, routingKey: string): void {
    if (!this.canTopic(access, exchange, routingKey)) throw accessRefused(topicRefusal(access, routingKey, exchange, this.vhost, this.username))
  }

  private forgetIfChanged(): void {
    const version = this.definitions.version
    if (version === this.seenVersion && this.remembered < answersMax) return
    this.resources = []
    this.topics = undefined
    this.remembered = 0
    this.seenVersion = version
  }
}
