// Packet ids a session's new PUBLISHes must not take although nothing of this process is in flight
// under them [MQTT-2.2.1-4]:
// - an id whose exchange ended (PUBCOMP; PUBACK of a delivery whose id was stored) while the
//   deletion of its stored row is not committed: a crash then would bring back its PUBREL, or its
//   delivery under it, beside a new PUBLISH under the same id, and the client would take one for the
//   other [MQTT-4.3.3-10];
// - the id stored for a delivery from before a restart that has not come back yet: an entry of the
//   session's own queue (it takes the id again by its seq), a shared group's QoS 2 message.
// A session's window holds one only while some id is held (OutboundWindow.releaseHeld drops an empty one).
export class HeldPacketIds {
  private readonly ids = new Set<number>()
  /** Entries of the session's own queue restored with a stored id: seq → id. */
  private bySeq: Map<number, number> | undefined = undefined

  get empty(): boolean {
    return this.ids.size === 0
  }

  has(id: number): boolean {
    return this.ids.has(id)
  }

  hold(id: number): void {
    this.ids.add(id)
  }

  release(id: number): void {
    this.ids.delete(id)
  }

  /** An entry of the session's queue restored with a stored id: the id waits for it. */
  holdForEntry(seq: number, id: number): void {
    ;(this.bySeq ??= new Map()).set(seq, id)
    this.ids.add(id)
  }

  /** The entry came back: its stored id, no longer held; undefined when it had none. */
  takeForEntry(seq: number): number | undefined {
    const id = this.bySeq?.get(seq)
    if (id === undefined) return undefined
    this.bySeq?.delete(seq)
    this.ids.delete(id)
    return id
  }
}
