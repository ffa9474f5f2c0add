// Where each listener binds. The top-level `host` is the default of the protocol listeners; a TLS
// variant defaults to its plain sibling's address. The admin API binds admin.host (127.0.0.1 unless
// configured), never the top-level host, so opening the protocols to a network does not open it.
import type { WharfConfig } from './config-types.ts'

export interface BindAddresses {
  readonly mqtt: string
  readonly mqttTls: string
  readonly ws: string
  readonly wsTls: string
  readonly amqp: string
  readonly amqpTls: string
  readonly admin: string
  readonly adminTls: string
}

export function bindAddresses(c: WharfConfig): BindAddresses {
  const mqtt = c.mqtt.host ?? c.host
  const ws = c.mqtt.ws.host ?? c.host
  const amqp = c.amqp.host ?? c.host
  return {
    mqtt,
    mqttTls: c.mqtt.tls.host ?? mqtt,
    ws,
    wsTls: c.mqtt.ws.tls.host ?? ws,
    amqp,
    amqpTls: c.amqp.tls.host ?? amqp,
    admin: c.admin.host,
    adminTls: c.admin.tls.host ?? c.admin.host
  }
}
