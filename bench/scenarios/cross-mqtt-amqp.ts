import type { AmqpLatencyConsumerConfig } from '../workers/amqp-latency-consumer.ts'
import type { MqttRatePublisherConfig } from '../workers/mqtt-rate-publisher.ts'
import { onFreshQueue, PREFETCH } from './amqp-run.ts'
import {
  CROSS_EXCHANGE,
  CROSS_TOPIC,
  crossFigures,
  crossTimeoutMs,
  describeCross,
  maxSeq,
  NO_MESSAGE_CAP,
  PUBLISHER_IDS,
  ratePhases,
  RECEIVER_SETTLE_MS,
  runCrossPhases,
  targetNotes,
  type LatencyTarget
} from './cross-run.ts'
import type { Scenario } from './scenario.ts'
import { AMQP_LATENCY_CONSUMER, MQTT_RATE_PUBLISHER } from './worker-files.ts'

/** The queue gets every MQTT topic under bench/cross/ (amq.topic routing key bench.cross.*). */
const BINDING_KEY = 'bench.cross.#'

/**
 * MQTT QoS 1 publisher at a fixed rate (TCP) → amq.topic → a durable AMQP queue → an amqplib
 * consumer with manual acks, in two processes: cross-protocol end-to-end latency.
 */
function crossMqttAmqp(name: string, target: LatencyTarget, rateFixed: boolean, quickRatePerS: number, quickDurationS: number): Scenario {
  return {
    name,
    protocol: 'mqtt',
    alsoNeeds: ['amqp'],
    summary:
      `MQTT QoS 1 publisher at ${rateFixed ? `${target.ratePerS} msg/s` : 'a fixed rate'} -> amq.topic -> durable AMQP queue -> 1 consumer (manual ack), ` +
      'separate processes: cross-protocol end-to-end p50/p90/p99/max',
    defaults: quick => ({
      messages: NO_MESSAGE_CAP,
      durationS: quick ? quickDurationS : 10,
      ratePerS: quick ? quickRatePerS : target.ratePerS,
      inflight: 100,
      payloadBytes: 64,
      publishers: 1,
      consumers: 1
    }),
    fixedSettings: rateFixed ? ['publishers', 'consumers', 'ratePerS'] : ['publishers', 'consumers'],
    describe: settings => `${describeCross(settings, 'QoS 1 messages')}, queue bound with ${BINDING_KEY}, prefetch ${PREFETCH}`,
    timeoutMs: crossTimeoutMs,
    async run(context) {
      const { settings } = context
      const amqpUrl = context.endpoints.amqpUrl
      if (amqpUrl === undefined) throw new Error(`${name}: the broker has no AMQP endpoint`)
      const hardTimeoutMs = crossTimeoutMs(settings) + 5000
      return onFreshQueue({ ...context, url: amqpUrl }, name, async (group, queue) => {
        const consumer: AmqpLatencyConsumerConfig = {
          url: amqpUrl,
          name: `wharf-bench-${name}-consumer-${context.runId}`,
          queue,
          exchange: CROSS_EXCHANGE,
          bindingKey: BINDING_KEY,
          prefetch: PREFETCH,
          publishers: PUBLISHER_IDS,
          maxSeq: maxSeq(settings),
          rounds: ratePhases(settings).length,
          settleMs: RECEIVER_SETTLE_MS,
          hardTimeoutMs
        }
        const publisher: MqttRatePublisherConfig = {
          url: context.url,
          clientId: `wharf-bench-${name}-pub-${context.runId}`,
          topic: CROSS_TOPIC,
          ratePerS: settings.ratePerS,
          phases: ratePhases(settings),
          inflight: settings.inflight,
          payloadBytes: settings.payloadBytes,
          hardTimeoutMs
        }
        const { published, received } = await runCrossPhases(
          group,
          { label: 'amqp consumer', file: AMQP_LATENCY_CONSUMER, config: consumer },
          { label: 'mqtt publisher', file: MQTT_RATE_PUBLISHER, config: publisher },
          ratePhases(settings)
        )
        if (published.kind !== 'publisher') throw new Error(`mqtt publisher sent a ${published.kind} result`)
        const failures: string[] = []
        if (received.lost > 0) failures.push(`QoS 1: ${received.lost} acknowledged messages never reached the AMQP consumer`)
        if (received.duplicates > 0) failures.push(`${received.duplicates} messages delivered to the AMQP consumer more than once`)
        if (published.acked < published.sent) failures.push(`${published.sent - published.acked} QoS 1 publishes never acknowledged`)
        return {
          figures: crossFigures(received, published.sent, published.startMs, published.endMs),
          lost: received.lost,
          duplicates: received.duplicates,
          failures,
          notes: targetNotes(target, settings, received, published.sent)
        }
      })
    }
  }
}

export const crossMqttAmqp1k: Scenario = crossMqttAmqp('cross-mqtt-amqp', { ratePerS: 1000, p99MsMax: 2 }, false, 500, 2)
export const crossMqttAmqp10k: Scenario = crossMqttAmqp('cross-mqtt-amqp-10k', { ratePerS: 10_000, p99MsMax: 10 }, true, 10_000, 1)
