// Config `archive`: MQTT topics matching a filter are kept in a stream queue, so device data is
// archived (and later tiered to object storage) without any AMQP client. A stream bound on the MQTT
// exchange of its vhost (archive[].vhost, or mqtt.vhost) with the filter's binding key: core routes
// each matching publish to that vhost into it once.
import type { ArchiveConfig } from '../../edge-config/config-types.ts'
import type { Vhost } from '../../core/model/vhost.ts'
import type { Arguments } from '../../core/model/message.ts'
import { filterToBindingKey } from './topic-grammar.ts'

const GATEWAY_OWNER = {}

/** Declares and binds the streams of archives, all in vhost. */
export async function bindArchives(vhost: Vhost, exchange: string, archives: readonly ArchiveConfig[]): Promise<void> {
  for (const a of archives) {
    const args: Record<string, unknown> = { 'x-queue-type': 'stream' }
    if (a.maxAgeSeconds !== undefined) args['x-max-age'] = `${a.maxAgeSeconds}s`
    if (a.maxLengthBytes !== undefined) args['x-max-length-bytes'] = a.maxLengthBytes
    try {
      await vhost.declareQueue({ name: a.stream, durable: true, exclusive: false, autoDelete: false, arguments: args as Arguments }, GATEWAY_OWNER, false)
      await vhost.bindQueue(a.stream, exchange, filterToBindingKey(a.filter), {}, GATEWAY_OWNER)
    } catch (err) {
      throw new Error(`archive: stream '${a.stream}' in vhost '${vhost.name}' for filter '${a.filter}': ${(err as Error).message}`)
    }
  }
}
