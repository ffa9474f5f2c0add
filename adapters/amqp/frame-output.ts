// Outgoing frames of one connection, gathered during an event-loop tick and written in one corked
// batch (one writev) on the next tick, so a burst of deliveries or confirms is one syscall.
import type { Socket } from 'node:net'
import type { Clock } from '../../core/clock.ts'

export class FrameOutput {
  private pending: Buffer[] = []
  private pendingBytes = 0
  private scheduled = false
  lastWriteMs = 0

  constructor(
    private readonly socket: Socket,
    private readonly clock: Clock,
    /** amqp.writeBufferBytesMax: bytes waiting in the socket (and here) beyond which consumers get no credit. */
    private readonly writeBufferBytesMax: number
  ) {}

  get backlogBytes(): number {
    return this.pendingBytes + this.socket.writableLength
  }

  /** Consumers stop getting deliveries until the socket drains. */
  get congested(): boolean {
    return this.backlogBytes > this.writeBufferBytesMax
  }

  send(frame: Buffer): void {
    this.pending.push(frame)
    this.pendingBytes += frame.length
    this.schedule()
  }

  sendAll(frames: readonly Buffer[]): void {
    for (const f of frames) {
      this.pending.push(f)
      this.pendingBytes += f.length
    }
    this.schedule()
  }

  /** Writes what is gathered now (before a close, say). */
  flush(): void {
    this.scheduled = false
    if (this.pending.length === 0 || this.socket.destroyed) {
      this.pending = []
      this.pendingBytes = 0
      return
    }
    const frames = this.pending
    this.pending = []
    this.pendingBytes = 0
    this.lastWriteMs = this.clock.nowMs()
    if (frames.length === 1) {
      this.socket.write(frames[0] as Buffer)
      return
    }
    this.socket.cork()
    for (const f of frames) this.socket.write(f)
    this.socket.uncork()
  }

  discard(): void {
    this.pending = []
    this.pendingBytes = 0
  }

  private schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    process.nextTick(() => this.flush())
  }
}
