import type { AmqpRatePublisherConfig } from '../workers/amqp-rate-publisher.ts'
import type { MqttWsLatencySubscriberConfig } from '../workers/mqtt-ws-latency-subscriber.ts'
import { summarizeLatencies } from '../workers/percentiles.ts'
import { decodeSamples } from '../workers/samples-transfer.ts'
import { WorkerGroup } from '../workers/worker-process.ts'
import { msFigure, publishFailures } from './amqp-run.ts'
import {
  CROSS_EXCHANGE,
  CROSS_ROUTING_KEY,
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
import { AMQP_RATE_PUBLISHER, MQTT_WS_LATENCY_SUBSCRIBER } from './worker-files.ts'

/** Every topic under bench/cross/: an AMQP publish with routing key bench.cross.x arrives as bench/cross/x. */
const TOPIC_FILTER = 'bench/cross/#'

/**
 * AMQP publisher with confirms, persistent, at a fixed rate → amq.topic → an mqtt.js subscriber
 * over WebSocket at QoS 1 (delivery-mode 2 is QoS 1), in two processes: cross-protocol latency.
 */
function crossAmqpWs(name: string, target: LatencyTarget, rateFixed: boolean, quickRatePerS: number, quickDurationS: number): Scenario {
  return {
    name,
    protocol: 'amqp',
    alsoNeeds: ['mqtt'],
    summary:
      `AMQP publisher with confirms at ${rateFixed ? `${target.ratePerS} msg/s` : 'a fixed rate'} -> amq.topic -> MQTT subscriber over WebSocket, QoS 1, ` +
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
    describe: settings =>
      `${describeCross(settings, 'persistent messages')}, routing key ${CROSS_ROUTING_KEY}, subscriber on ${TOPIC_FILTER} over ws:// (clean session)`,
    timeoutMs: crossTimeoutMs,
    async run(context) {
      const { settings } = context
      const wsUrl = context.endpoints.mqttWsUrl
      if (wsUrl === undefined) throw new Error(`${name}: the broker has no MQTT over WebSocket endpoint (only a Wharf the harness starts has one)`)
      const hardTimeoutMs = crossTimeoutMs(settings) + 5000
      const subscriber: MqttWsLatencySubscriberConfig = {
        url: wsUrl,
        clientId: `wharf-bench-${name}-sub-${context.runId}`,
        topicFilter: TOPIC_FILTER,
        publishers: PUBLISHER_IDS,
        maxSeq: maxSeq(settings),
        rounds: ratePhases(settings).length,
        settleMs: RECEIVER_SETTLE_MS,
        hardTimeoutMs
      }
      const publisher: AmqpRatePublisherConfig = {
        url: context.url,
        name: `wharf-bench-${name}-publisher-${context.runId}`,
        exchange: CROSS_EXCHANGE,
        routingKey: CROSS_ROUTING_KEY,
        ratePerS: settings.ratePerS,
        phases: ratePhases(settings),
        inflight: settings.inflight,
        payloadBytes: settings.payloadBytes,
        hardTimeoutMs
      }
      const group = new WorkerGroup(context.signal)
      try {
        const { published, received } = await runCrossPhases(
          group,
          { label: 'mqtt/ws subscriber', file: MQTT_WS_LATENCY_SUBSCRIBER, config: subscriber },
          { label: 'amqp publisher', file: AMQP_RATE_PUBLISHER, config: publisher },
          ratePhases(settings)
        )
        if (published.kind !== 'amqp-publisher') throw new Error(`amqp publisher sent a ${published.kind} result`)
        const confirmLatencyMs = summarizeLatencies(decodeSamples(published.confirmLatencies))
        const figures = [
          ...crossFigures(received, published.sent, published.startMs, published.endMs),
          msFigure('confirmP50', 'confirm latency p50', confirmLatencyMs.p50),
          msFigure('confirmP99', 'confirm latency p99', confirmLatencyMs.p99)
        ]
        const failures = publishFailures(published, 'publish')
        if (received.lost > 0) failures.push(`${received.lost} confirmed persistent messages never reached the MQTT subscriber`)
        const notes = targetNotes(target, settings, received, published.sent)
        // QoS 1 is at least once [MQTT-4.3.2]: a duplicate is counted, as in latency-qos1, not a failure.
        if (received.duplicates > 0) notes.push(`${received.duplicates} messages delivered to the MQTT subscriber more than once`)
        return { figures, lost: received.lost, duplicates: received.duplicates, failures, notes }
      } finally {
        await group.dispose()
      }
    }
  }
}

export const crossAmqpWs1k: Scenario = crossAmqpWs('cross-amqp-ws', { ratePerS: 1000, p99MsMax: 2 }, false, 500, 2)
export const crossAmqpWs10k: Scenario = crossAmqpWs('cross-amqp-ws-10k', { ratePerS: 10_000, p99MsMax: 10 }, true, 10_000, 1)
