// CONNECT: protocol level, client identifier, credentials (or an enhanced authentication exchange),
// the will, the session (new, resumed or taken over), and CONNACK with the server's limits.
import { randomBytes } from 'node:crypto'
import type { IConnackPacket, IConnectPacket } from 'mqtt-packet'
import type { Engine } from '../engine.ts'
import type { MqttConnection } from '../connection.ts'
import type { WillRecord } from '../session-store.ts'
import type { PublishProperties } from '../properties.ts'
import type { Principal } from '../../../core/auth/access-types.ts'
import { isBrokerError } from '../../../core/errors.ts'
import { ReasonCode, connackReturnCodeV3 } from '../codec/reason-codes.ts'
import { isReservedTopic, isWellFormedUtf8, responseTopicProblem, topicNameProblem } from '../topic-grammar.ts'
import { runAuthStep } from './auth.ts'
import { connackWithin } from '../codec/connack-fit.ts'

type ConnectPacket = IConnectPacket & { userPropertiesOrdered?: Array<[string, string]>; willUserPropertiesOrdered?: Array<[string, string]> }

/** What CONNECT decided, kept while the credentials are checked. */
export interface PendingConnect {
  readonly cleanStart: boolean
  readonly expirySeconds: number | null
  readonly will: WillRecord | undefined
  readonly assignedClientId: string | undefined
  /** The vhost the CONNECT's User Name names ('vhost:user'); null: the listener's. Used once the login succeeds. */
  readonly vhost: string | null
}

const NEVER = 0xffffffff

export function handleConnect(engine: Engine, conn: MqttConnection, p: ConnectPacket): void {
  if (conn.state !== 'awaiting-connect') {
    conn.protocolError('a second CONNECT')
    return
  } // [MQTT-3.1.0-2]
  const version = p.protocolVersion
  if (version !== 3 && version !== 4 && version !== 5) {
    refuse(conn, ReasonCode.UnsupportedProtocolVersion, `protocol level ${String(version)}`)
    return
  }
  conn.setProtocolVersion(version)
  conn.state = 'authenticating'
  const props = p.properties ?? {}
  const { config } = engine

  let clientId = p.clientId ?? ''
  let assignedClientId: string | undefined
  if (clientId === '') {
    // [MQTT-3.1.3-6] a zero-length id is given one; 3.1.1 only with clean session [MQTT-3.1.3-8]; 3.1 never.
    if (version === 3 || (version === 4 && p.clean !== true)) {
      refuse(conn, ReasonCode.ClientIdentifierNotValid, 'empty client identifier')
      return
    }
    clientId = assignedClientId = 'wharf-' + randomBytes(9).toString('base64url')
  }
  if (clientId.length > config.maxClientIdLength) {
    refuse(conn, ReasonCode.ClientIdentifierNotValid, `client identifier of ${clientId.length} characters (mqtt.maxClientIdLength ${config.maxClientIdLength})`)
    return
  }
  conn.clientId = clientId
  if (props.receiveMaximum === 0) {
    refuse(conn, ReasonCode.ProtocolError, 'Receive Maximum 0')
    return
  } // a Protocol Error (MQTT 5 §3.1.2.11.3)
  if (props.maximumPacketSize === 0) {
    refuse(conn, ReasonCode.ProtocolError, 'Maximum Packet Size 0')
    return
  }
  // "It is a Protocol Error to include Authentication Data if there is no Authentication Method" (§3.1.2.11.10).
  if (props.authenticationData !== undefined && props.authenticationMethod === undefined) {
    refuse(conn, ReasonCode.ProtocolError, 'Authentication Data without an Authentication Method')
    return
  }
  if (version === 5) {
    conn.sendQuota = Math.min(props.receiveMaximum ?? 65535, 65535)
    conn.clientMaxPacketBytes = props.maximumPacketSize ?? Infinity
    conn.clientTopicAliasMax = props.topicAliasMaximum ?? 0
    conn.problemInformation = props.requestProblemInformation !== false && (props.requestProblemInformation as unknown) !== 0
  }
  // Server Keep Alive is told in a 5.0 CONNACK [MQTT-3.2.2-21]; a 3.1.1 client cannot hear it, so it is held to its own [MQTT-3.1.2-24 (3.1.1)].
  const serverKeepAlive = version === 5 ? config.serverKeepAliveSeconds : 0
  conn.keepAliveMs = (serverKeepAlive > 0 ? serverKeepAlive : (p.keepalive ?? 0)) * 1000

  let will: WillRecord | undefined
  if (p.will != null) {
    const w = p.will
    const problem = topicNameProblem(w.topic) ?? (isReservedTopic(w.topic) ? 'a $ topic' : null)
    if (problem !== null) {
      refuse(conn, ReasonCode.TopicNameInvalid, `will topic: ${problem}`)
      return
    }
    if ((w.qos ?? 0) > config.maximumQos) {
      refuse(conn, ReasonCode.QosNotSupported, `will QoS ${w.qos} above ${config.maximumQos}`)
      return
    } // [MQTT-3.2.2-12]
    const wp = (w as { properties?: Record<string, unknown> }).properties ?? {}
    // The will goes out as a PUBLISH carrying it, so it is checked as a PUBLISH's is: a wildcard or an
    // empty one is a Protocol Error (Mosquitto's property check says so too), answered as the other
    // CONNECT Protocol Errors here, CONNACK 0x82 then close (§4.13.1) [MQTT-3.3.2-14].
    const responseProblem = responseTopicProblem(typeof wp.responseTopic === 'string' ? wp.responseTopic : undefined)
    if (responseProblem !== null) {
      refuse(conn, ReasonCode.ProtocolError, `will Response Topic: ${responseProblem}`)
      return
    }
    const payload = Buffer.isBuffer(w.payload) ? w.payload : Buffer.from(w.payload)
    if (wp.payloadFormatIndicator === 1 && !isWellFormedUtf8(payload)) {
      refuse(conn, ReasonCode.PayloadFormatInvalid, 'will payload is not UTF-8')
      return
    }
    will = {
      topic: w.topic,
      payload,
      qos: w.qos ?? 0,
      retain: w.retain === true,
      delaySeconds: typeof wp.willDelayInterval === 'number' ? wp.willDelayInterval : 0,
      properties: willProperties(wp, p.willUserPropertiesOrdered)
    }
  }
  const expiry = version === 5 ? (props.sessionExpiryInterval ?? 0) : p.clean === true ? 0 : NEVER
  const pending = { cleanStart: p.clean === true, expirySeconds: expiry === NEVER ? null : expiry, will, assignedClientId }

  const method = props.authenticationMethod
  if (conn.certificateIdentity !== null) {
    certificateLogin(engine, conn, method, p.username, pending)
    return
  }
  const named = p.username === undefined || p.username === '' ? null : engine.access.parseLoginName(p.username)
  conn.pendingConnect = { ...pending, vhost: named?.vhost ?? null } satisfies PendingConnect
  if (method !== undefined) {
    const m = engine.authMethods.get(method)
    if (m === undefined) {
      refuse(conn, ReasonCode.BadAuthenticationMethod, `authentication method '${method}'`)
      return
    }
    // The method authenticates the user the name names; 'vhost:' alone leaves the user to the method.
    const username = named === null || named.username === '' ? undefined : named.username
    conn.auth = { method, exchange: m.start({ clientId, username }) }
    runAuthStep(engine, conn, props.authenticationData)
    return
  }
  if (named === null) {
    if (engine.access.allowAnonymous) {
      conn.guard('connect', accept(engine, conn, null))
      return
    }
    engine.counters.authFailed.inc()
    refuse(conn, ReasonCode.NotAuthorized, 'anonymous access is disabled')
    return
  }
  const { username } = named
  const password = p.password
  const login =
    password === undefined
      ? Promise.resolve({ ok: false as const, reason: 'no password' })
      : engine.access.login(username, password.toString('utf8'), conn.remoteAddress)
  conn.guard(
    'connect',
    login.then(result => {
      if (conn.state !== 'authenticating') return
      if (!result.ok) {
        engine.counters.authFailed.inc()
        refuse(conn, ReasonCode.BadUserNameOrPassword, `bad username or password for '${username}'`)
        return
      }
      conn.guard('connect', accept(engine, conn, result.principal))
    })
  )
}

/**
 * A listener with identityAsUsername: the verified client certificate names the user, as Mosquitto's
 * use_identity_as_username does; the CONNECT's password is not used, nor its username unless it is
 * 'vhost:<that user>' or 'vhost:', which picks the vhost (MqttAccess.certificateVhost). As RabbitMQ's
 * certificate login, the user must exist (its permissions are what it may do).
 */
function certificateLogin(
  engine: Engine,
  conn: MqttConnection,
  method: string | undefined,
  connectUsername: string | undefined,
  pending: Omit<PendingConnect, 'vhost'>
): void {
  const identity = conn.certificateIdentity as NonNullable<MqttConnection['certificateIdentity']>
  if (method !== undefined) {
    refuse(conn, ReasonCode.BadAuthenticationMethod, `authentication method '${method}' on a listener that takes the user from the client certificate`)
    return
  }
  const username = identity.username
  if (username === null) {
    engine.counters.authFailed.inc()
    refuse(conn, ReasonCode.NotAuthorized, `the client certificate has no ${identity.source} to take the username from`)
    return
  }
  const login = engine.access.certificateLogin(username, identity.source)
  if (!login.ok) {
    engine.counters.authFailed.inc()
    refuse(conn, ReasonCode.NotAuthorized, login.reason)
    return
  }
  conn.pendingConnect = { ...pending, vhost: engine.access.certificateVhost(connectUsername, username) } satisfies PendingConnect
  conn.guard('connect', accept(engine, conn, login.principal))
}

function willProperties(wp: Record<string, unknown>, ordered: Array<[string, string]> | undefined): PublishProperties | undefined {
  const out: PublishProperties = {}
  if (wp.payloadFormatIndicator === true || wp.payloadFormatIndicator === 1) out.payloadFormatIndicator = 1
  else if (wp.payloadFormatIndicator === false || wp.payloadFormatIndicator === 0) out.payloadFormatIndicator = 0
  if (typeof wp.messageExpiryInterval === 'number') out.messageExpiryInterval = wp.messageExpiryInterval
  if (typeof wp.contentType === 'string') out.contentType = wp.contentType
  if (typeof wp.responseTopic === 'string') out.responseTopic = wp.responseTopic
  if (Buffer.isBuffer(wp.correlationData)) out.correlationData = wp.correlationData
  if (ordered !== undefined) out.userProperties = ordered
  return Object.keys(out).length === 0 ? undefined : out
}

/**
 * Credentials checked (principal null: anonymous): access to the vhost the CONNECT named (the pending
 * connect's, whichever way the client logged in; null: the listener's), the move to that vhost's
 * engine, the will's permission, the session, CONNACK, then the session's deliveries.
 */
export async function accept(front: Engine, conn: MqttConnection, principal: Principal | null, authData?: Buffer): Promise<void> {
  const username = principal?.username ?? null
  const pending = conn.pendingConnect as PendingConnect
  const inVhost = front.access.open(principal, conn.clientId, pending.vhost, conn.listenerVhost)
  if (!inVhost.ok) {
    front.counters.authFailed.inc()
    refuse(conn, ReasonCode.NotAuthorized, inVhost.reason)
    return
  }
  // The vhost's engine: its sessions, retained messages and wills are the client's from here on.
  const engine = await front.node.vhosts.engine(inVhost.access.vhost)
  if (conn.state !== 'authenticating') return
  if (engine === undefined) {
    refuse(conn, ReasonCode.NotAuthorized, `vhost '${inVhost.access.vhost}' does not exist`)
    return
  }
  conn.moveTo(engine)
  conn.username = username
  conn.access = inVhost.access
  if (engine.limits !== null) {
    const admission = engine.limits.admit('mqtt', username, engine.vhost.name)
    if (!admission.ok) {
      refuse(conn, ReasonCode.QuotaExceeded, admission.reason)
      return
    } // 3.1.1: 3 Server unavailable
    conn.admitted(username, admission.release)
  }
  if (pending.will !== undefined && !engine.access.canPublish(inVhost.access, pending.will.topic)) {
    engine.counters.publishDenied.inc()
    refuse(conn, ReasonCode.NotAuthorized, `will topic '${pending.will.topic}' not allowed`)
    return
  }
  // The CONNACK's size does not depend on Session Present: one the client's Maximum Packet Size cannot
  // take is known before any session is touched [MQTT-3.1.2-24].
  let properties: IConnackPacket['properties']
  if (conn.protocolVersion === 5) {
    const full: IConnackPacket = { cmd: 'connack', sessionPresent: false, reasonCode: 0, properties: connackProperties(engine, conn, pending, authData) }
    properties = connackWithin(full, conn.clientMaxPacketBytes)?.properties
  }
  if (properties === undefined && conn.protocolVersion === 5) {
    conn.closeReason = `no CONNACK fits the client's Maximum Packet Size of ${conn.clientMaxPacketBytes} bytes`
    engine.log.warn('mqtt connect refused', { clientId: conn.clientId, remote: conn.remoteAddress, reason: conn.closeReason })
    conn.end()
    return
  }
  await engine.sessions.oneAtATime(conn.clientId, async () => {
    if (conn.state !== 'authenticating') return // gone while an earlier CONNECT of its id was accepted: it takes nothing over
    let opened
    try {
      opened = await engine.sessions.open(conn, pending.cleanStart, pending.expirySeconds)
      if (pending.will !== undefined) await engine.sessions.store.putWill(conn.clientId, pending.will)
      // A will an earlier connection left pending (its delay cut short by this one [MQTT-3.1.3-9]) leaves the store too, or a restart publishes it.
      else if (opened.session.will !== undefined) await engine.sessions.store.deleteWill(conn.clientId)
    } catch (err) {
      // A new session is a queue of the vhost: at its max-queues the client is refused as over quota (3.1.1: 3 Server unavailable).
      if (isBrokerError(err) && err.kind === 'precondition-failed') {
        refuse(conn, ReasonCode.QuotaExceeded, err.message)
        return
      }
      engine.log.error('mqtt: session open failed', { clientId: conn.clientId, err })
      refuse(conn, ReasonCode.ServerUnavailable, `session: ${(err as Error).message}`)
      return
    }
    const { session, present } = opened
    if (conn.state !== 'authenticating') {
      engine.sessions.abandoned(session)
      return
    } // the client went away meanwhile
    session.will = pending.will
    conn.session = session
    conn.pendingConnect = null
    // MQTT 3.1 has no Session Present: its CONNACK's first byte is reserved (3.1 §3.2), 0 as Mosquitto sends it.
    const sessionPresent = present && conn.protocolVersion !== 3
    conn.send({ cmd: 'connack', sessionPresent, returnCode: 0, reasonCode: 0, properties } as never)
    engine.stats.connectedTotal++
    conn.usage = engine.usage.cell(engine.vhost.name, username, 'mqtt')
    engine.log.info('mqtt client connected', { ...conn.logFields(), sessionPresent: present, sessionExpirySeconds: session.expirySeconds })
    conn.connected()
    session.attach(conn)
  })
}

function connackProperties(
  engine: Engine,
  conn: MqttConnection,
  pending: PendingConnect,
  authData: Buffer | undefined
): NonNullable<IConnackPacket['properties']> {
  const { config } = engine
  const props: NonNullable<IConnackPacket['properties']> = {
    receiveMaximum: config.receiveMaximum,
    maximumPacketSize: config.maxPacketBytes,
    topicAliasMaximum: config.topicAliasMaximum,
    retainAvailable: true,
    wildcardSubscriptionAvailable: true,
    subscriptionIdentifiersAvailable: true,
    sharedSubscriptionAvailable: true
  }
  if (config.maximumQos < 2) props.maximumQoS = config.maximumQos
  if (pending.assignedClientId !== undefined) props.assignedClientIdentifier = pending.assignedClientId // [MQTT-3.2.2-16]
  if (config.serverKeepAliveSeconds > 0) props.serverKeepAlive = config.serverKeepAliveSeconds
  // A bridge from another Wharf reads it to recognise its own messages coming back (adapters/bridge).
  if (engine.nodeId !== null) props.userProperties = { 'wharf-node-id': engine.nodeId }
  if (conn.auth !== null) {
    props.authenticationMethod = conn.auth.method
    if (authData !== undefined) props.authenticationData = authData
  }
  return props
}

/** CONNACK with a refusal (5.0 reason, or the 3.1.1 return code it maps to), then close [MQTT-3.2.2-7]. */
export function refuse(conn: MqttConnection, reasonCode: number, reason: string): void {
  conn.closeReason = reason
  conn.engine.log.warn('mqtt connect refused', { clientId: conn.clientId || undefined, remote: conn.remoteAddress, reasonCode, reason })
  if (conn.protocolVersion === 5) {
    conn.send({ cmd: 'connack', sessionPresent: false, reasonCode, properties: { reasonString: reason.slice(0, 200) } } as never)
  } else {
    const code = connackReturnCodeV3(reasonCode)
    if (code !== null) conn.send({ cmd: 'connack', sessionPresent: false, returnCode: code } as never)
  }
  conn.end()
}
