// The local vhost of the configuration's entries that may name their own, mqtt.vhost otherwise:
// one rule for the checks, the adapters that declare their queues there, and the vhost-deletion guard.
import type { ArchiveConfig, BridgeConfig, MqttConfig } from './config-types.ts'

/** The vhost a bridge works in: its own, or mqtt.vhost. */
export function bridgeVhost(config: Pick<BridgeConfig, 'vhost'>, mqtt: Pick<MqttConfig, 'vhost'>): string {
  return config.vhost ?? mqtt.vhost
}

/** The vhost an archive entry keeps topics of and declares its stream in: its own, or mqtt.vhost. */
export function archiveVhost(config: Pick<ArchiveConfig, 'vhost'>, mqtt: Pick<MqttConfig, 'vhost'>): string {
  return config.vhost ?? mqtt.vhost
}
