// One principal acting in one vhost (an AMQP connection, an MQTT client): the checks its protocol
// operations map onto, with refusals as BrokerErrors ('access-refused') worded as RabbitMQ's. Answers
// are remembered until the access definitions change (their version), so a publish costs a Map lookup.
import { accessRefused } from '../errors.ts'
import type { Access, Principal, ResourceKind, TopicAccess, TopicVariables } from './access-types.ts'
import { resourceAllowed, resourceRefusal, topicAllowed, topicRefusal } from './access-check.ts'

/** Where the version of the access definitions comes from (AccessStore). */
export interface AccessVersion { readonly version: number }

// Bounds the memory of a client that publishes to ever new routing keys; a full cache starts over.
const answersMax = 256

export class VhostAccess {
  private readonly answers = new Map<string, boolean>()
  private seenVersion = -1

  constructor (
    readonly principal: Principal,
    readonly vhost: string,
    readonly variables: TopicVariables,
    private readonly definitions: AccessVersion
  ) {}

  get username (): string | null { return this.principal.username }

  can (access: Access, kind: ResourceKind, name: string): boolean {
    return this.remembered(`${access}\0${kind}\0${name}`, () => resourceAllowed(this.principal.permissions(this.vhost), access, kind, name))
  }

  canTopic (access: TopicAccess, exchange: string, routingKey: string): boolean {
    return this.remembered(`t${access}\0${exchange}\0${routingKey}`, () =>
      topicAllowed(this.principal.topicPermission(this.vhost, exchange), access, routingKey, this.variables))
  }

  /** Throws access-refused (AMQP 403) unless allowed. */
  check (access: Access, kind: ResourceKind, name: string): void {
    if (!this.can(access, kind, name)) throw accessRefused(resourceRefusal(access, kind, name, this.vhost, this.username))
  }

  checkTopic (access: TopicAccess, exchange: string, routingKey: string): void {
    if (!this.canTopic(access, exchange, routingKey)) throw accessRefused(topicRefusal(access, routingKey, exchange, this.vhost, this.username))
  }

  private remembered (key: string, decide: () => boolean): boolean {
    const version = this.definitions.version
    if (version !== this.seenVersion || this.answers.size >= answersMax) {
      this.answers.clear()
      this.seenVersion = version
    }
    let answer = this.answers.get(key)
    if (answer === undefined) {
      answer = decide()
      this.answers.set(key, answer)
    }
    return answer
  }
}
