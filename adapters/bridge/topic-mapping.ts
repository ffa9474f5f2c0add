// Topic renaming across a bridge (config out/in localPrefix and remotePrefix): the prefix of one
// side is taken off and the other side's put in front, as Mosquitto's bridge `topic` lines do.
import type { BridgeDirectionConfig } from '../../edge-config/config-types.ts'

/** `from` removed (when the topic starts with it), `to` put in front; never an empty topic. */
export function tradePrefix(topic: string, from: string, to: string): string {
  const rest = from !== '' && topic.startsWith(from) ? topic.slice(from.length) : topic
  const mapped = to + rest
  return mapped === '' ? topic : mapped
}

/** A local topic as it is sent to the remote. */
export function outboundTopic(localTopic: string, out: BridgeDirectionConfig): string {
  return tradePrefix(localTopic, out.localPrefix, out.remotePrefix)
}

/** A remote topic as it is published locally. */
export function inboundTopic(remoteTopic: string, dir: BridgeDirectionConfig): string {
  return tradePrefix(remoteTopic, dir.remotePrefix, dir.localPrefix)
}
