// The reason codes of the PUBACKs and PUBRECs an MQTT 5 remote sends the uplink, read before
// mqtt.js parses them. Mosquitto (2.0.11, message_size_limit) answers a PUBLISH over its limit with
// PUBACK 0x95 Packet too large, a code MQTT 5 allows in DISCONNECT but not in PUBACK or PUBREC
// (§3.4.2.1, §3.5.2.1). mqtt-packet takes such a packet for a malformed one ('Invalid puback reason
// code') and mqtt.js drops the rest of that read: the link stayed up, and the message and every one
// whose PUBACK came in the same read were never confirmed nor refused, in flight for good, the
// window smaller by each (observed: state connected, inflightMessages 2, the backlog never drained).
// Here such a code is replaced in place by 0x80 Unspecified error, which mqtt-packet reads, and kept
// by packet id, so the link refuses that one message with the code the remote gave.
//
// Framing follows the fixed header across reads (§2.1: type byte, Remaining Length of 1-4 bytes);
// only an ack's first three body bytes (packet id, reason code) are looked at, a PUBLISH's payload
// is skipped whole.

const PUBACK = 4
const PUBREC = 5
/** PUBACK and PUBREC reason codes MQTT 5 allows (Tables 3-4 and 3-5). */
const ALLOWED = new Set([0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99])
const UNSPECIFIED_ERROR = 0x80

export class AckReasonCodeFilter {
  private readonly replaced = new Map<number, number>()
  /** Where the reader is: in the type byte, the Remaining Length, or the body. */
  private part: 'type' | 'length' | 'body' = 'type'
  private type = 0
  private remainingBytes = 0
  private lengthMultiplier = 1
  /** The body byte the reader is at, and the packet id read so far (acks only). */
  private bodyAt = 0
  private packetId = 0

  /** Reads one chunk of what the remote sent, rewriting a disallowed ack reason code in place. */
  scan(chunk: Buffer): void {
    let i = 0
    while (i < chunk.length) {
      if (this.part === 'type') {
        this.type = (chunk[i] as number) >> 4
        this.part = 'length'
        this.remainingBytes = 0
        this.lengthMultiplier = 1
        i++
      } else if (this.part === 'length') {
        const b = chunk[i] as number
        this.remainingBytes += (b & 0x7f) * this.lengthMultiplier
        this.lengthMultiplier *= 128
        i++
        if ((b & 0x80) === 0) {
          this.bodyAt = 0
          this.packetId = 0
          this.part = this.remainingBytes === 0 ? 'type' : 'body'
        }
      } else if ((this.type === PUBACK || this.type === PUBREC) && this.bodyAt < 3 && this.remainingBytes >= 3) {
        const b = chunk[i] as number
        if (this.bodyAt < 2) this.packetId = this.packetId * 256 + b
        else if (!ALLOWED.has(b)) {
          this.replaced.set(this.packetId, b)
          chunk[i] = UNSPECIFIED_ERROR
        }
        this.bodyAt++
        i++
        if (this.bodyAt === this.remainingBytes) this.part = 'type'
      } else {
        const skip = Math.min(this.remainingBytes - this.bodyAt, chunk.length - i)
        this.bodyAt += skip
        i += skip
        if (this.bodyAt === this.remainingBytes) this.part = 'type'
      }
    }
  }

  /** The reason code the remote sent for packetId when it was replaced (once), else undefined. */
  takeReplaced(packetId: number | undefined): number | undefined {
    if (packetId === undefined) return undefined
    const code = this.replaced.get(packetId)
    this.replaced.delete(packetId)
    return code
  }
}
