// The access store at start: opened, seeded from the file (what the file changed wins), logged; vhosts
// added or deleted at runtime reach the model; an anonymous MQTT listener reachable from the network
// is warned about.
import type { WharfConfig } from '../edge-config/config-types.ts'
import type { Logger } from '../core/logger.ts'
import type { SqliteStore } from '../core/storage/sqlite-store.ts'
import type { Broker } from '../core/model/broker.ts'
import { AccessStore } from '../core/auth/access-store.ts'
import { AccessControl } from '../core/auth/access-control.ts'
import { seedDefinitions } from '../core/auth/seed-definitions.ts'
import { isLoopbackBind } from '../core/auth/loopback.ts'
import { preconditionFailed } from '../core/errors.ts'
import type { AmqpAdapter } from '../adapters/amqp/amqp-adapter.ts'
import { mqttListenerVhosts, type MqttAdapter } from '../adapters/mqtt/mqtt-adapter.ts'
import { archiveVhost, bridgeVhost } from '../edge-config/config-vhosts.ts'
import { definitionsFromConfig } from './access-definitions.ts'
import { tlsEnabled } from './tls-options.ts'
import type { BindAddresses } from '../edge-config/bind-addresses.ts'
import type { PasswordVerifier } from '../core/auth/password-verifier.ts'

export async function openAccess(config: WharfConfig, store: SqliteStore, logger: Logger, verifier: PasswordVerifier): Promise<AccessControl> {
  const access = new AccessStore(store)
  const log = logger.child({ component: 'access' })
  const report = await seedDefinitions(access, store, definitionsFromConfig(config))
  if (report.applied.length > 0 || report.deleted.length > 0)
    log.info('access definitions from the configuration applied', { applied: report.applied, deleted: report.deleted })
  for (const s of report.skipped)
    log.warn('access definition from the configuration not applied now (its user or vhost is gone); tried again at the next start', { definition: s })
  return new AccessControl({ store: access, guestEnabled: config.auth.guest.enabled, verifier })
}

/**
 * Vhosts created and deleted through the access store become and stop being vhosts of the model. The
 * vhost of an MQTT listener, of a bridge or of an archive stream cannot be deleted: the configuration names it.
 */
export function wireVhosts(
  access: AccessStore,
  broker: Broker,
  amqp: AmqpAdapter,
  mqtt: MqttAdapter,
  config: Pick<WharfConfig, 'mqtt' | 'bridges' | 'archive'>,
  logger: Logger
): void {
  const listenerVhosts = mqttListenerVhosts(config.mqtt)
  access.addVhostListener({
    vhostAdded: name => {
      broker.addVhost(name)
      logger.info('vhost added', { vhost: name })
      // Its MQTT exchange and retained messages are ready before the first client (or AMQP retained publish).
      mqtt.openVhost(name).catch(err => logger.error('mqtt: vhost not opened', { vhost: name, err }))
    },
    vhostDeleting: name => {
      if (listenerVhosts.has(name))
        throw preconditionFailed(
          `vhost '${name}' cannot be deleted: it is the vhost of an MQTT listener (mqtt.vhost, mqtt.tls.vhost, mqtt.ws.vhost or mqtt.ws.tls.vhost)`
        )
      const bridge = config.bridges.find(b => bridgeVhost(b, config.mqtt) === name)
      if (bridge !== undefined)
        throw preconditionFailed(`vhost '${name}' cannot be deleted: bridge '${bridge.name}' works in it (bridges[].vhost, or mqtt.vhost when it is null)`)
      const archive = config.archive.find(a => archiveVhost(a, config.mqtt) === name)
      if (archive !== undefined)
        throw preconditionFailed(`vhost '${name}' cannot be deleted: it holds the archive stream '${archive.stream}' (archive[].vhost)`)
    },
    vhostDeleted: async name => {
      amqp.closeVhost(name)
      mqtt.closeVhost(name)
      await broker.deleteVhost(name)
      logger.info('vhost deleted', { vhost: name })
    }
  })
}

/** Anonymous MQTT on an address other machines reach: anyone on the network may publish and subscribe. */
export function warnAnonymousExposure(config: WharfConfig, hosts: BindAddresses, logger: Logger): void {
  if (!config.auth.allowAnonymous) return
  const listeners: Array<[string, string, boolean]> = [
    ['mqtt', hosts.mqtt, true],
    ['mqtt websocket', hosts.ws, true],
    ['mqtt tls', hosts.mqttTls, tlsEnabled(config.mqtt.tls)],
    ['mqtt websocket tls', hosts.wsTls, tlsEnabled(config.mqtt.ws.tls)]
  ]
  const exposed = listeners.filter(([, host, on]) => on && !isLoopbackBind(host)).map(([name, host]) => `${name} on ${host}`)
  if (exposed.length === 0) return
  logger.warn('anonymous MQTT access is enabled on a listener that is not loopback-only: set auth.allowAnonymous to false, or bind the listener to 127.0.0.1', {
    listeners: exposed
  })
}
