import type { IConnectPacket, Packet } from 'mqtt-packet'
import type { UserPropertyList } from './property-scanner.ts'

export interface Ordered {
  userPropertiesOrdered?: UserPropertyList
}

/** A decoded packet as mqtt-packet gives it, plus the User Properties in wire order when it had any. */
export type InboundPacket = (Exclude<Packet, IConnectPacket> & Ordered) | (IConnectPacket & Ordered & { willUserPropertiesOrdered?: UserPropertyList })
