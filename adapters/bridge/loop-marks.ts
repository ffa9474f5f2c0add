// How a bridge keeps messages from going round in circles (DESIGN §8). Two headers travel with a
// message (AMQP headers, MQTT 5 User Properties; MQTT 3.1.1 carries neither: there, in and out
// topics must not overlap):
//   x-wharf-bridge: set on a message a bridge brought down, naming that bridge. That bridge never
//     sends it back up. Local meaning only: it is taken off whatever goes up.
//   x-wharf-via: the ids of the Wharf nodes whose bridges sent the message up, comma-separated;
//     each uplink adds its own. A bridge does not send a message to a Wharf it already went
//     through (the remote tells its id when the link opens), and a downlink drops what its own
//     node sent up (its echo from a remote subscription that matches the out topics too).
import type { Arguments, Message } from '../../core/model/message.ts'
import { USER_PROPERTIES_HEADER } from '../mqtt/properties.ts'

export const CAME_DOWN_HEADER = 'x-wharf-bridge'
export const VIA_HEADER = 'x-wharf-via'
/** What a Wharf tells peers its node id in: AMQP server property, MQTT 5 CONNACK User Property. */
export const NODE_ID_PROPERTY = 'wharf-node-id'

export type ForwardDecision = 'forward' | 'came-down-here' | 'visited-remote'

export function viaOf(headers: Arguments | undefined): string[] {
  const v = headers?.[VIA_HEADER]
  const text = Buffer.isBuffer(v) ? v.toString('utf8') : typeof v === 'string' ? v : ''
  return text === '' ? [] : text.split(',')
}

/** Whether bridge `bridgeName` (towards a remote with remoteNodeId, when it is a Wharf) may send this up. */
export function forwardDecision(message: Message, bridgeName: string, remoteNodeId: string | null): ForwardDecision {
  const headers = message.properties.headers
  if (headers === undefined) return 'forward'
  const cameDown = headers[CAME_DOWN_HEADER]
  if (cameDown === bridgeName || (Buffer.isBuffer(cameDown) && cameDown.toString('utf8') === bridgeName)) return 'came-down-here'
  if (remoteNodeId !== null && viaOf(headers).includes(remoteNodeId)) return 'visited-remote'
  return 'forward'
}

/**
 * Why a message may not go up once more, or null: it went up through hopsMax Wharf bridges already.
 * The marks above stop every loop among Wharfs and every echo; this stops one that runs through a
 * path that is not a Wharf but keeps the headers (a shovel or a third-party bridge from the remote
 * back into a Wharf), where no bridge on the way knows it has seen the message before.
 */
export function hopLimitProblem(headers: Arguments | undefined, hopsMax: number): string | null {
  const via = viaOf(headers)
  if (via.length < hopsMax) return null
  return `went up through ${via.length} Wharf bridges already (${VIA_HEADER}: ${via.join(',')}), bridges[].hopsMax is ${hopsMax}: a loop through a path that is not a Wharf?`
}

/** The headers a message goes up with: without the local mark, with this node added to the via list. */
export function upHeaders(headers: Arguments | undefined, nodeId: string): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (headers !== undefined) for (const k in headers) if (k !== CAME_DOWN_HEADER) out[k] = headers[k]
  return withMarks(out, { [VIA_HEADER]: [...viaOf(headers), nodeId].join(',') }, [CAME_DOWN_HEADER])
}

/**
 * Headers with the marks set (and `drop` removed). When the headers hold MQTT's ordered User
 * Property list (x-mqtt-user-properties, adapters/mqtt/properties.ts), that list stands for all of
 * them towards MQTT clients: the marks are written into it too, so an MQTT 5 hop carries them.
 */
export function withMarks(headers: Record<string, unknown>, marks: Record<string, string>, drop: readonly string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = { ...headers }
  for (const k of drop) delete out[k]
  Object.assign(out, marks)
  const ordered = out[USER_PROPERTIES_HEADER]
  if (Array.isArray(ordered)) {
    const names = new Set([...drop, ...Object.keys(marks)])
    out[USER_PROPERTIES_HEADER] = [...ordered.filter(pair => !names.has(String((pair as unknown[])[0]))), ...Object.entries(marks)]
  }
  return out
}

/** A message coming down that this node sent up itself. */
export function isOwnEcho(via: readonly string[], nodeId: string): boolean {
  return via.includes(nodeId)
}
