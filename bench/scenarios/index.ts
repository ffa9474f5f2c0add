import { amqpConsumeAck } from './amqp-consume-ack.ts'
import { amqpE2e } from './amqp-e2e.ts'
import { amqpPublishConfirm } from './amqp-publish-confirm.ts'
import { bridgeUplink } from './bridge-uplink.ts'
import { cliVersion } from './cli-version.ts'
import { crossAmqpWs10k, crossAmqpWs1k } from './cross-amqp-ws.ts'
import { crossMqttAmqp10k, crossMqttAmqp1k } from './cross-mqtt-amqp.ts'
import { faninQos0 } from './fanin-qos0.ts'
import { fuzzConnections } from './fuzz-connections.ts'
import { faninQos1 } from './fanin-qos1.ts'
import { fanoutQos0 } from './fanout-qos0.ts'
import { fanoutQos1 } from './fanout-qos1.ts'
import { idleConnections } from './idle-connections.ts'
import { idleRss } from './idle-rss.ts'
import { latencyQos1 } from './latency-qos1.ts'
import type { Scenario } from './scenario.ts'
import { streamReplay } from './stream-replay.ts'

/** Every scenario, by name, in the order a full run executes them. */
export const SCENARIOS: ReadonlyMap<string, Scenario> = new Map(
  [
    faninQos0,
    faninQos1,
    fanoutQos0,
    fanoutQos1,
    latencyQos1,
    amqpPublishConfirm,
    amqpConsumeAck,
    amqpE2e,
    crossMqttAmqp1k,
    crossMqttAmqp10k,
    crossAmqpWs1k,
    crossAmqpWs10k,
    streamReplay,
    bridgeUplink,
    idleRss,
    idleConnections,
    fuzzConnections,
    cliVersion
  ].map(s => [s.name, s])
)
