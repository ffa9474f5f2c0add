// $SYS topics as Mosquitto names them ($SYS/broker/...), published every mqtt.sysIntervalSeconds
// (QoS 0) and retained in memory, so a new subscriber gets the latest values at once. They stay
// inside MQTT: not routed on the exchange (an AMQP queue bound with '#' does not get them), but put
// into the queues of the connected sessions that subscribed to them. Filters starting with a
// wildcard do not match them [MQTT-4.7.2-1].
import { Message } from '../../core/model/message.ts'
import type { Engine } from './engine.ts'
import type { MqttSession } from './session.ts'
import { RETAIN_HEADER, QOS_HEADER } from './properties.ts'
import { topicToRoutingKey } from './topic-grammar.ts'

const PROPERTIES = Object.freeze({ deliveryMode: 1, headers: Object.freeze({ [QOS_HEADER]: 0, [RETAIN_HEADER]: true }) })

export function sysValues(engine: Engine, version: string): Array<[string, string]> {
  const s = engine.stats
  return [
    ['$SYS/broker/version', `wharf ${version}`],
    ['$SYS/broker/uptime', `${Math.floor((engine.nowMs() - engine.startedAtMs) / 1000)} seconds`],
    ['$SYS/broker/clients/connected', String(engine.connectedCount)],
    ['$SYS/broker/clients/total', String(engine.sessions.size)],
    ['$SYS/broker/clients/maximum', String(engine.config.maxConnections)],
    ['$SYS/broker/messages/received', String(s.received)],
    ['$SYS/broker/messages/sent', String(s.sent)],
    ['$SYS/broker/bytes/received', String(s.receivedBytes)],
    ['$SYS/broker/bytes/sent', String(s.sentBytes)],
    ['$SYS/broker/retained messages/count', String(engine.retained.size)],
    ['$SYS/broker/subscriptions/count', String(subscriptionCount(engine))]
  ]
}

function subscriptionCount(engine: Engine): number {
  let n = 0
  // forEach, not for...of, here and below: a timer runs these over every session, too rarely for V8
  // to optimise them, and the interpreter allocates an iterator result per session.
  engine.sessions.forEach(s => {
    n += s.subscriptions.size + s.sharedCount
  })
  return n
}

/** Starts the periodic publication; returns its stop. */
export function startSysTopics(engine: Engine, version: string): () => void {
  const seconds = engine.config.sysIntervalSeconds
  if (seconds <= 0) return () => {}
  const publish = (): void => {
    // Only sessions with a '$' filter can want these: found in one pass, not one per topic (with
    // 10,000 clients, 11 passes blocked the event loop ~25 ms every interval).
    const listeners: MqttSession[] = []
    engine.sessions.forEach(session => {
      if (session.conn !== null && session.subscribesToDollarTopics) listeners.push(session)
    })
    for (const [topic, value] of sysValues(engine, version)) {
      const message = new Message(engine.exchange, topicToRoutingKey(topic), PROPERTIES, Buffer.from(value), engine.nowMs(), null)
      engine.retained.setVolatile(message)
      for (const session of listeners) if (session.wants(topic)) engine.vhost.enqueueTo(session.queue, message)
    }
  }
  publish()
  const timer = setInterval(publish, seconds * 1000)
  timer.unref()
  return () => clearInterval(timer)
}
