// Tracks MQTT framing on a byte stream to refuse a packet whose declared size exceeds the limit
// before aedes buffers it. Only the fixed header is inspected: type byte, then the variable-length
// "remaining length" (1-4 bytes, [MQTT-2.2.3]); the body is skipped by count.
export class PacketSizeGuard {
  private skip = 0 // body bytes of the current packet still to pass
  private headerBytes = 0 // bytes of the fixed header seen so far (0 = expecting a type byte)
  private remaining = 0
  private multiplier = 1

  constructor (private readonly maxPacketBytes: number) {}

  /** Returns an error text when the stream declares an oversize or malformed packet, else null. */
  feed (chunk: Buffer): string | null {
    let i = 0
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i)
        this.skip -= n
        i += n
        continue
      }
      const byte = chunk[i++] as number
      if (this.headerBytes === 0) {
        this.headerBytes = 1
        this.remaining = 0
        this.multiplier = 1
        continue
      }
      this.remaining += (byte & 0x7f) * this.multiplier
      this.multiplier *= 128
      this.headerBytes++
      if (byte & 0x80) {
        if (this.headerBytes > 4) return 'malformed remaining length (more than 4 bytes)'
        continue
      }
      const total = this.headerBytes + this.remaining
      if (total > this.maxPacketBytes) return `packet of ${total} bytes exceeds mqtt.maxPacketBytes ${this.maxPacketBytes}`
      this.skip = this.remaining
      this.headerBytes = 0
    }
    return null
  }
}
