// SUBSCRIBE: each filter checked (grammar, $share, ACL), bound on the MQTT exchange before the
// SUBACK (nothing published after it is missed), then the retained messages it asks for.
import type { ISubscribePacket, ISubscription } from 'mqtt-packet'
import type { Engine } from '../engine.ts'
import type { MqttConnection } from '../connection.ts'
import type { MqttSession } from '../session.ts'
import { RetainedCopy } from '../session.ts'
import { Message } from '../../../core/model/message.ts'
import { ReasonCode } from '../codec/reason-codes.ts'
import { parseSharedFilter, subscriptionFilterProblem } from '../topic-grammar.ts'
import { prepareSharedQueue, SharedMembership } from '../shared-subscriptions.ts'

const SUBACK_FAILURE_311 = 0x80

export function handleSubscribe(engine: Engine, conn: MqttConnection, p: ISubscribePacket): void {
  const session = conn.session as MqttSession
  const subscriptionId = p.properties?.subscriptionIdentifier as number | number[] | undefined
  if (Array.isArray(subscriptionId) || subscriptionId === 0) {
    conn.protocolError('Subscription Identifier 0 or repeated')
    return
  } // a Protocol Error (§3.8.2.1.2)
  for (const s of p.subscriptions) {
    if (s.nl === true && parseSharedFilter(s.topic) !== null) {
      conn.protocolError(`No Local on shared subscription '${s.topic}'`)
      return
    } // [MQTT-3.8.3-4]
    if ((s.rh ?? 0) > 2 || s.qos > 2) {
      conn.protocolError(`bad subscription options for '${s.topic}'`)
      return
    }
  }
  conn.guard(
    'subscribe',
    subscribeAll(engine, conn, session, p, subscriptionId).then(
      ({ granted, retained }) => {
        if (conn.state === 'closed') return
        conn.send({ cmd: 'suback', messageId: p.messageId, granted, reasonCode: undefined } as never)
        for (const filter of retained) conn.guard('retained delivery', sendRetained(engine, session, filter))
      },
      err => {
        engine.log.error('mqtt: subscribe failed', { clientId: conn.clientId, err })
        conn.disconnect(ReasonCode.UnspecifiedError, `subscribe: ${(err as Error).message}`)
      }
    )
  )
}

async function subscribeAll(
  engine: Engine,
  conn: MqttConnection,
  session: MqttSession,
  p: ISubscribePacket,
  subscriptionId: number | undefined
): Promise<{ granted: number[]; retained: string[] }> {
  const granted: number[] = []
  const retained: string[] = []
  const v5 = conn.protocolVersion === 5
  let sharedChanged = false
  for (const s of p.subscriptions) {
    const code = await subscribeOne(engine, conn, session, s, subscriptionId, retained)
    if (code === 'shared') {
      sharedChanged = true
      granted.push(Math.min(s.qos, engine.config.maximumQos))
      continue
    }
    granted.push(code >= 0x80 && !v5 ? SUBACK_FAILURE_311 : code)
  }
  if (sharedChanged && session.durable) await engine.sessions.persist(session, null)
  return { granted, retained }
}

async function subscribeOne(
  engine: Engine,
  conn: MqttConnection,
  session: MqttSession,
  s: ISubscription,
  subscriptionId: number | undefined,
  retained: string[]
): Promise<number | 'shared'> {
  const filter = s.topic
  const problem = subscriptionFilterProblem(filter)
  if (problem !== null) {
    engine.warnOnce.warn('mqtt subscribe refused: invalid filter', { clientId: conn.clientId, filter, problem })
    return ReasonCode.TopicFilterInvalid
  }
  const access = conn.access
  if (access === null || !engine.access.canSubscribe(access, conn.clientId, filter)) {
    engine.counters.subscribeDenied.inc()
    engine.warnOnce.warn('mqtt subscribe denied by permissions', { clientId: conn.clientId, username: conn.username, filter })
    return ReasonCode.NotAuthorized
  }
  const qos = Math.min(s.qos, engine.config.maximumQos) as 0 | 1 | 2 // [MQTT-3.2.2-10]; the granted QoS may be lower (§3.8.4)
  const shared = parseSharedFilter(filter)
  if (shared !== null && typeof shared !== 'string') {
    await prepareSharedQueue(engine.vhost, engine.exchange, shared)
    session.shared.get(filter)?.detach('unsubscribed')
    const m = new SharedMembership(session, engine.vhost, filter, shared, qos, subscriptionId, s.rap === true)
    session.shared.set(filter, m)
    m.attach()
    return 'shared' // retained messages go to a new Non-shared Subscription only (§3.3.1.3)
  }
  const isNew = await session.subscribe({
    filter,
    qos,
    noLocal: s.nl === true,
    retainAsPublished: s.rap === true,
    retainHandling: (s.rh ?? 0) as 0 | 1 | 2,
    subscriptionId
  })
  const rh = s.rh ?? 0
  if (rh === 0 || (rh === 1 && isNew)) retained.push(filter) // [MQTT-3.3.1-9] [MQTT-3.3.1-10]
  return qos
}

/** Retained messages for a new subscription go through the session's queue, like any delivery. */
async function sendRetained(engine: Engine, session: MqttSession, filter: string): Promise<void> {
  const messages = await engine.retained.matching(filter, engine.nowMs())
  const publisher = new RetainedCopy(filter)
  for (const m of messages) {
    if (session.queue.deleted) return
    const copy = new Message(m.exchange, m.routingKey, m.properties, m.body, m.publishedAtMs, m.encodedProperties)
    copy.publisher = publisher
    const result = engine.vhost.enqueueTo(session.queue, copy)
    result.stored?.catch(err => engine.log.error('mqtt: retained delivery store failed', { clientId: session.clientId, err }))
  }
}
