// MQTT 5 reason codes (§2.4, Table 2-6) under their spec names, and the MQTT 3.1.1 return codes a
// v5 reason maps to when the client speaks 3.1/3.1.1.

import type { PacketCmd } from 'mqtt-packet'

export const ReasonCode = {
  Success: 0x00,
  NormalDisconnection: 0x00,
  GrantedQos0: 0x00,
  GrantedQos1: 0x01,
  GrantedQos2: 0x02,
  DisconnectWithWillMessage: 0x04,
  NoMatchingSubscribers: 0x10,
  NoSubscriptionExisted: 0x11,
  ContinueAuthentication: 0x18,
  ReAuthenticate: 0x19,
  UnspecifiedError: 0x80,
  MalformedPacket: 0x81,
  ProtocolError: 0x82,
  ImplementationSpecificError: 0x83,
  UnsupportedProtocolVersion: 0x84,
  ClientIdentifierNotValid: 0x85,
  BadUserNameOrPassword: 0x86,
  NotAuthorized: 0x87,
  ServerUnavailable: 0x88,
  ServerBusy: 0x89,
  Banned: 0x8a,
  ServerShuttingDown: 0x8b,
  BadAuthenticationMethod: 0x8c,
  KeepAliveTimeout: 0x8d,
  SessionTakenOver: 0x8e,
  TopicFilterInvalid: 0x8f,
  TopicNameInvalid: 0x90,
  PacketIdentifierInUse: 0x91,
  PacketIdentifierNotFound: 0x92,
  ReceiveMaximumExceeded: 0x93,
  TopicAliasInvalid: 0x94,
  PacketTooLarge: 0x95,
  MessageRateTooHigh: 0x96,
  QuotaExceeded: 0x97,
  AdministrativeAction: 0x98,
  PayloadFormatInvalid: 0x99,
  RetainNotSupported: 0x9a,
  QosNotSupported: 0x9b,
  UseAnotherServer: 0x9c,
  ServerMoved: 0x9d,
  SharedSubscriptionsNotSupported: 0x9e,
  ConnectionRateExceeded: 0x9f,
  MaximumConnectTime: 0xa0,
  SubscriptionIdentifiersNotSupported: 0xa1,
  WildcardSubscriptionsNotSupported: 0xa2
} as const

// 0x00 has three names; the packet decides which one reasonName gives.
const NAMES = new Map<number, string>([
  [0x00, 'Success'],
  [0x01, 'Granted QoS 1'],
  [0x02, 'Granted QoS 2'],
  [0x04, 'Disconnect with Will Message'],
  [0x10, 'No matching subscribers'],
  [0x11, 'No subscription existed'],
  [0x18, 'Continue authentication'],
  [0x19, 'Re-authenticate'],
  [0x80, 'Unspecified error'],
  [0x81, 'Malformed Packet'],
  [0x82, 'Protocol Error'],
  [0x83, 'Implementation specific error'],
  [0x84, 'Unsupported Protocol Version'],
  [0x85, 'Client Identifier not valid'],
  [0x86, 'Bad User Name or Password'],
  [0x87, 'Not authorized'],
  [0x88, 'Server unavailable'],
  [0x89, 'Server busy'],
  [0x8a, 'Banned'],
  [0x8b, 'Server shutting down'],
  [0x8c, 'Bad authentication method'],
  [0x8d, 'Keep Alive timeout'],
  [0x8e, 'Session taken over'],
  [0x8f, 'Topic Filter invalid'],
  [0x90, 'Topic Name invalid'],
  [0x91, 'Packet Identifier in use'],
  [0x92, 'Packet Identifier not found'],
  [0x93, 'Receive Maximum exceeded'],
  [0x94, 'Topic Alias invalid'],
  [0x95, 'Packet too large'],
  [0x96, 'Message rate too high'],
  [0x97, 'Quota exceeded'],
  [0x98, 'Administrative action'],
  [0x99, 'Payload format invalid'],
  [0x9a, 'Retain not supported'],
  [0x9b, 'QoS not supported'],
  [0x9c, 'Use another server'],
  [0x9d, 'Server moved'],
  [0x9e, 'Shared Subscriptions not supported'],
  [0x9f, 'Connection rate exceeded'],
  [0xa0, 'Maximum connect time'],
  [0xa1, 'Subscription Identifiers not supported'],
  [0xa2, 'Wildcard Subscriptions not supported']
])

/** The spec name of a reason code; for 0x00 the name depends on the packet that carries it. */
export function reasonName(code: number, cmd?: PacketCmd): string {
  if (code === 0x00 && cmd === 'disconnect') return 'Normal disconnection'
  if (code === 0x00 && cmd === 'suback') return 'Granted QoS 0'
  return NAMES.get(code) ?? `unknown reason code 0x${code.toString(16).padStart(2, '0')}`
}

/** MQTT 3.1.1 CONNACK return codes (§3.2.2.3, Table 3.1); MQTT 3.1 uses the same values. */
export const ConnackReturnCode = {
  Accepted: 0,
  UnacceptableProtocolVersion: 1,
  IdentifierRejected: 2,
  ServerUnavailable: 3,
  BadUserNameOrPassword: 4,
  NotAuthorized: 5
} as const

const V3_CONNACK = new Map<number, number>([
  [ReasonCode.Success, ConnackReturnCode.Accepted],
  [ReasonCode.UnsupportedProtocolVersion, ConnackReturnCode.UnacceptableProtocolVersion],
  [ReasonCode.ClientIdentifierNotValid, ConnackReturnCode.IdentifierRejected],
  [ReasonCode.ServerUnavailable, ConnackReturnCode.ServerUnavailable],
  [ReasonCode.ServerBusy, ConnackReturnCode.ServerUnavailable],
  [ReasonCode.ServerShuttingDown, ConnackReturnCode.ServerUnavailable],
  [ReasonCode.UseAnotherServer, ConnackReturnCode.ServerUnavailable],
  [ReasonCode.ServerMoved, ConnackReturnCode.ServerUnavailable],
  [ReasonCode.ConnectionRateExceeded, ConnackReturnCode.ServerUnavailable],
  [ReasonCode.QuotaExceeded, ConnackReturnCode.ServerUnavailable], // a connection limit: 3.1.1 has no closer code
  [ReasonCode.BadUserNameOrPassword, ConnackReturnCode.BadUserNameOrPassword],
  [ReasonCode.BadAuthenticationMethod, ConnackReturnCode.BadUserNameOrPassword],
  [ReasonCode.NotAuthorized, ConnackReturnCode.NotAuthorized],
  [ReasonCode.Banned, ConnackReturnCode.NotAuthorized]
])

/**
 * The 3.1.1 CONNACK return code for a v5 CONNACK reason, or null when 3.1.1 has none that fits:
 * then the server closes the connection without a CONNACK [MQTT-3.2.2-6] (3.1.1 numbering).
 */
export function connackReturnCodeV3(reasonCode: number): number | null {
  return V3_CONNACK.get(reasonCode) ?? null
}

/** A 3.1.1 SUBACK return code for a v5 SUBACK reason: the granted QoS, or 0x80 Failure. */
export function subackReturnCodeV3(reasonCode: number): number {
  return reasonCode <= 2 ? reasonCode : 0x80
}
