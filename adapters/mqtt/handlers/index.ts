// One handler per packet type a client may send, dispatched from this table (as aedes does).
import type { Engine } from '../engine.ts'
import type { MqttConnection } from '../connection.ts'
import { handleConnect } from './connect.ts'
import { handleAuth } from './auth.ts'
import { handlePublish } from './publish.ts'
import { handlePuback } from './puback.ts'
import { handlePubrec } from './pubrec.ts'
import { handlePubrel } from './pubrel.ts'
import { handlePubcomp } from './pubcomp.ts'
import { handleSubscribe } from './subscribe.ts'
import { handleUnsubscribe } from './unsubscribe.ts'
import { handlePingreq } from './pingreq.ts'
import { handleDisconnect } from './disconnect.ts'

export type Handler = (engine: Engine, conn: MqttConnection, packet: never) => void

export const handlers: Readonly<Partial<Record<string, Handler>>> = {
  connect: handleConnect,
  auth: handleAuth,
  publish: handlePublish,
  puback: handlePuback,
  pubrec: handlePubrec,
  pubrel: handlePubrel,
  pubcomp: handlePubcomp,
  subscribe: handleSubscribe,
  unsubscribe: handleUnsubscribe,
  pingreq: handlePingreq,
  disconnect: handleDisconnect
}
