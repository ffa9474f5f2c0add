// UNSUBSCRIBE: each filter checked as RabbitMQ checks an unbind (access.ts), then the binding (or the
// shared group membership) goes before the UNSUBACK. A refused filter keeps its subscription: MQTT 5
// says so with 0x87 Not authorized; 3.1.1's UNSUBACK has no reason codes, so there the refusal is only
// logged and counted, as RabbitMQ does (its UNSUBACK is the same either way). A filter that is not a
// valid one (`a/#/b`, `$share/g`) gets 0x8F Topic Filter invalid, the UNSUBACK code the spec has for it,
// as SUBSCRIBE's does, rather than 0x11, which would say it was a filter with no subscription.
import type { IUnsubscribePacket } from 'mqtt-packet'
import type { Engine } from '../engine.ts'
import type { MqttConnection } from '../connection.ts'
import type { MqttSession } from '../session.ts'
import { ReasonCode } from '../codec/reason-codes.ts'
import { subscriptionFilterProblem } from '../topic-grammar.ts'

export function handleUnsubscribe(engine: Engine, conn: MqttConnection, p: IUnsubscribePacket): void {
  const session = conn.session as MqttSession
  conn.guard(
    'unsubscribe',
    (async () => {
      const codes: number[] = []
      let sharedChanged = false
      for (const filter of p.unsubscriptions) {
        const problem = subscriptionFilterProblem(filter)
        if (problem !== null) {
          engine.warnOnce.warn('mqtt unsubscribe refused: invalid filter', { clientId: conn.clientId, filter, problem })
          codes.push(ReasonCode.TopicFilterInvalid)
          continue
        }
        // Checked before looking: no answer tells whether a filter the client may not read has a subscription.
        const access = conn.access
        if (access === null || !engine.access.canUnsubscribe(access, conn.clientId, filter)) {
          engine.counters.unsubscribeDenied.inc()
          engine.warnOnce.warn('mqtt unsubscribe denied by permissions', { clientId: conn.clientId, username: conn.username, filter })
          codes.push(ReasonCode.NotAuthorized)
          continue
        }
        const m = session.shared.get(filter)
        if (m !== undefined) {
          m.detach('unsubscribed')
          session.shared.delete(filter)
          sharedChanged = true
          codes.push(ReasonCode.Success)
          continue
        }
        codes.push((await session.unsubscribe(filter)) ? ReasonCode.Success : ReasonCode.NoSubscriptionExisted)
      }
      if (sharedChanged && session.durable) await engine.sessions.persist(session, null)
      return codes
    })().then(
      codes => {
        if (conn.state === 'closed') return
        // mqtt-packet writes a 5.0 UNSUBACK's reason codes from `granted` (3.1.1 has none) [MQTT-3.11.3-1].
        conn.send({ cmd: 'unsuback', messageId: p.messageId as number, granted: conn.protocolVersion === 5 ? codes : [] })
      },
      err => {
        engine.log.error('mqtt: unsubscribe failed', { clientId: conn.clientId, err })
        conn.disconnect(ReasonCode.UnspecifiedError, `unsubscribe: ${(err as Error).message}`)
      }
    )
  )
}
