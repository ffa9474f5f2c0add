// One principal acting in one vhost (an AMQP connection, an MQTT client): the checks its protocol
// operations map onto, with refusals as BrokerErrors ('access-refused') worded as RabbitMQ's. Answers
// are remembered until the access definitions change (their version), so a publish costs a Map lookup.
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

export class VhostAccess {
  // Answers by access and kind (or exchange), then name: no key is built per check on the publish path.
  private resources = freshResourceAnswers()
  private topics = new Map<string, Answers>()
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
    this.forgetIfChanged()
    const answers = this.resources[access][kind]
    let answer = answers.get(name)
    if (answer === undefined) {
      answer = resourceAllowed(this.principal.permissions(this.vhost), access, kind, name)
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
    this.resources = freshResourceAnswers()
    this.topics = new Map()
    this.remembered = 0
    this.seenVersion = version
  }
}

function freshResourceAnswers(): Record<Access, Record<ResourceKind, Answers>> {
  const kinds = (): Record<ResourceKind, Answers> => ({ exchange: new Map(), queue: new Map() })
  return { configure: kinds(), write: kinds(), read: kinds() }
}
