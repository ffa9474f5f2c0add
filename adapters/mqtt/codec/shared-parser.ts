// One mqtt-packet parser for every connection: the reader hands it one whole packet at a time and
// parse() decodes it synchronously, so nothing is kept between calls. A parser per connection (its
// BufferList, listeners and packet state) was a good part of an idle connection's memory.
import mqttPacket, { type Packet, type Parser } from 'mqtt-packet'

let parser: Parser | null = null
let decoded: Packet | null = null
let failure: Error | null = null

function fresh(): Parser {
  const p = mqttPacket.parser({ protocolVersion: 4 })
  p.on('packet', (packet: Packet) => {
    decoded = packet
  })
  p.on('error', (err: Error) => {
    failure = err
  })
  return p
}

/** Tests make the decoder fail from the inside here (a fault must close one connection, never throw out). */
export const parserFaults: { inject: (() => void) | null } = { inject: null }

/** Decodes one complete packet with the connection's protocol version; an Error when mqtt-packet refuses it. */
export function parseWhole(buf: Buffer, protocolVersion: number, bridgeMode: boolean): Packet | Error {
  const p = (parser ??= fresh())
  // mqtt-packet reads the version from its settings (and stores a CONNECT there, password included): reset per call.
  ;(p as unknown as { settings: object }).settings = { protocolVersion, bridgeMode }
  decoded = null
  failure = null
  parserFaults.inject?.()
  p.parse(buf)
  const packet = decoded as Packet | null
  const err = failure as Error | null
  decoded = null
  failure = null
  ;(p as unknown as { settings: object }).settings = { protocolVersion: 4, bridgeMode: false }
  if (err !== null || packet === null) {
    parser = null // a parser that failed part way may hold state: the next call gets a new one
    return err ?? new Error('no packet decoded')
  }
  return packet
}
