// Which MQTT 5 properties each packet may carry, of which type, and how often (§2.2.2.2 Table 2-4,
// the "It is a Protocol Error to include X more than once" sentences of each packet's section, and
// the value rules of §3). The reader checks every property section against this table.

/** A property section: one per packet type, plus the Will Properties inside a CONNECT. One bit each. */
export const Section = {
  CONNECT: 1 << 0,
  CONNACK: 1 << 1,
  PUBLISH: 1 << 2,
  WILL: 1 << 3,
  PUBACK: 1 << 4,
  PUBREC: 1 << 5,
  PUBREL: 1 << 6,
  PUBCOMP: 1 << 7,
  SUBSCRIBE: 1 << 8,
  SUBACK: 1 << 9,
  UNSUBSCRIBE: 1 << 10,
  UNSUBACK: 1 << 11,
  DISCONNECT: 1 << 12,
  AUTH: 1 << 13
} as const

const SECTION_NAMES = new Map<number, string>(Object.entries(Section).map(([name, bit]) => [bit, name === 'WILL' ? 'CONNECT Will Properties' : name]))

export function sectionName(section: number): string {
  return SECTION_NAMES.get(section) ?? `section ${section}`
}

/** Wire data types of §1.5. 'bool' is a Byte whose only values are 0 and 1. */
export type PropertyType = 'bool' | 'byte' | 'u16' | 'u32' | 'varint' | 'utf8' | 'binary' | 'pair'

export interface PropertyRule {
  readonly id: number
  readonly name: string // the spec's name, for error messages
  readonly key: string // mqtt-packet's name for it in a decoded packet's properties
  readonly type: PropertyType
  readonly sections: number // where it may appear
  readonly repeatable: number // where it may appear more than once
  readonly min: number // smallest value allowed (numeric types); below it is a Protocol Error
  readonly max: number // largest value allowed (numeric types)
}

const S = Section
const ACKS = S.PUBACK | S.PUBREC | S.PUBREL | S.PUBCOMP
const U32_MAX = 0xffffffff
const VARINT_MAX = 268_435_455

function rule(id: number, name: string, key: string, type: PropertyType, sections: number, extra: Partial<PropertyRule> = {}): PropertyRule {
  const max = type === 'bool' ? 1 : type === 'byte' ? 0xff : type === 'u16' ? 0xffff : type === 'varint' ? VARINT_MAX : U32_MAX
  return { id, name, key, type, sections, repeatable: 0, min: 0, max, ...extra }
}

const RULES: readonly PropertyRule[] = [
  rule(0x01, 'Payload Format Indicator', 'payloadFormatIndicator', 'bool', S.PUBLISH | S.WILL),
  rule(0x02, 'Message Expiry Interval', 'messageExpiryInterval', 'u32', S.PUBLISH | S.WILL),
  rule(0x03, 'Content Type', 'contentType', 'utf8', S.PUBLISH | S.WILL),
  rule(0x08, 'Response Topic', 'responseTopic', 'utf8', S.PUBLISH | S.WILL),
  rule(0x09, 'Correlation Data', 'correlationData', 'binary', S.PUBLISH | S.WILL),
  // One per matching subscription in a PUBLISH (§3.3.2.3.8); once in a SUBSCRIBE, never 0 (§3.8.2.1.2).
  rule(0x0b, 'Subscription Identifier', 'subscriptionIdentifier', 'varint', S.PUBLISH | S.SUBSCRIBE, { repeatable: S.PUBLISH, min: 1 }),
  rule(0x11, 'Session Expiry Interval', 'sessionExpiryInterval', 'u32', S.CONNECT | S.CONNACK | S.DISCONNECT),
  rule(0x12, 'Assigned Client Identifier', 'assignedClientIdentifier', 'utf8', S.CONNACK),
  rule(0x13, 'Server Keep Alive', 'serverKeepAlive', 'u16', S.CONNACK),
  rule(0x15, 'Authentication Method', 'authenticationMethod', 'utf8', S.CONNECT | S.CONNACK | S.AUTH),
  rule(0x16, 'Authentication Data', 'authenticationData', 'binary', S.CONNECT | S.CONNACK | S.AUTH),
  rule(0x17, 'Request Problem Information', 'requestProblemInformation', 'bool', S.CONNECT),
  rule(0x18, 'Will Delay Interval', 'willDelayInterval', 'u32', S.WILL),
  rule(0x19, 'Request Response Information', 'requestResponseInformation', 'bool', S.CONNECT),
  rule(0x1a, 'Response Information', 'responseInformation', 'utf8', S.CONNACK),
  rule(0x1c, 'Server Reference', 'serverReference', 'utf8', S.CONNACK | S.DISCONNECT),
  rule(0x1f, 'Reason String', 'reasonString', 'utf8', S.CONNACK | ACKS | S.SUBACK | S.UNSUBACK | S.DISCONNECT | S.AUTH),
  // "It is a Protocol Error to include the Receive Maximum value more than once or for it to have the value 0" (§3.1.2.11.3).
  rule(0x21, 'Receive Maximum', 'receiveMaximum', 'u16', S.CONNECT | S.CONNACK, { min: 1 }),
  rule(0x22, 'Topic Alias Maximum', 'topicAliasMaximum', 'u16', S.CONNECT | S.CONNACK),
  // [MQTT-3.3.2-8] A Topic Alias of 0 is not permitted.
  rule(0x23, 'Topic Alias', 'topicAlias', 'u16', S.PUBLISH, { min: 1 }),
  // "It is a Protocol Error to include Maximum QoS more than once, or to have a value other than 0 or 1" (§3.2.2.3.4).
  rule(0x24, 'Maximum QoS', 'maximumQoS', 'byte', S.CONNACK, { max: 1 }),
  rule(0x25, 'Retain Available', 'retainAvailable', 'bool', S.CONNACK),
  rule(
    0x26,
    'User Property',
    'userProperties',
    'pair',
    S.CONNECT | S.CONNACK | S.PUBLISH | S.WILL | ACKS | S.SUBSCRIBE | S.SUBACK | S.UNSUBSCRIBE | S.UNSUBACK | S.DISCONNECT | S.AUTH,
    { repeatable: -1 }
  ),
  // "It is a Protocol Error to include the Maximum Packet Size more than once, or for the value to be set to zero" (§3.1.2.11.4).
  rule(0x27, 'Maximum Packet Size', 'maximumPacketSize', 'u32', S.CONNECT | S.CONNACK, { min: 1 }),
  rule(0x28, 'Wildcard Subscription Available', 'wildcardSubscriptionAvailable', 'bool', S.CONNACK),
  rule(0x29, 'Subscription Identifier Available', 'subscriptionIdentifiersAvailable', 'bool', S.CONNACK),
  rule(0x2a, 'Shared Subscription Available', 'sharedSubscriptionAvailable', 'bool', S.CONNACK)
]

/** The rules indexed by property identifier; undefined for identifiers MQTT 5 does not define. */
export const PROPERTY_RULES: ReadonlyArray<PropertyRule | undefined> = (() => {
  const table: Array<PropertyRule | undefined> = new Array(256).fill(undefined) // every byte value, so a lookup never reads past the end
  for (const r of RULES) table[r.id] = r
  return table
})()

export const PropertyId = {
  PayloadFormatIndicator: 0x01,
  MessageExpiryInterval: 0x02,
  ContentType: 0x03,
  ResponseTopic: 0x08,
  CorrelationData: 0x09,
  SubscriptionIdentifier: 0x0b,
  SessionExpiryInterval: 0x11,
  AuthenticationMethod: 0x15,
  TopicAlias: 0x23,
  UserProperty: 0x26
} as const
