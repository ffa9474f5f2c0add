// A resource alarm seen from an amqplib publisher: connection.blocked / unblocked as promises, and a
// queue filled in confirmed batches until the broker blocks the connection (the disk and memory
// watermark tests).
import assert from 'node:assert/strict'
import type { ChannelModel, ConfirmChannel } from 'amqplib'

/** Resolves with the event's first argument the first time `event` fires; rejects after timeoutMs. */
export function nextConnectionEvent(conn: ChannelModel, event: 'blocked' | 'unblocked', timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connection.${event} within ${timeoutMs} ms`)), timeoutMs)
    conn.once(event, (arg: unknown) => {
      clearTimeout(timer)
      resolve(arg)
    })
  })
}

export interface Fill {
  readonly queue: string
  readonly body: Buffer
  /** Messages between two waits for their confirms. */
  readonly batch: number
  /** Fails the test when the connection is not blocked after this many. */
  readonly messagesMax: number
  /** Each message carries its number in a header `n`. */
  readonly numbered: boolean
}

/** Persistent messages to the durable queue, in confirmed batches, until the connection is blocked. */
export async function fillUntilBlocked(cc: ConfirmChannel, blocked: Promise<unknown>, fill: Fill): Promise<{ confirmed: number; sent: number }> {
  let isBlocked = false
  void blocked.then(
    () => {
      isBlocked = true
    },
    () => {}
  )
  let sent = 0
  let confirmed = 0
  while (!isBlocked) {
    assert.ok(sent < fill.messagesMax, `not blocked after ${sent} messages of ${fill.body.length} bytes`)
    for (let i = 0; i < fill.batch; i++, sent++)
      cc.sendToQueue(fill.queue, fill.body, fill.numbered ? { persistent: true, headers: { n: sent } } : { persistent: true })
    // Once blocked, the broker stops reading this connection, so confirms wait for the clearance.
    const batch = cc.waitForConfirms().then(() => true)
    if (await Promise.race([batch, blocked.then(() => false)])) confirmed = sent
  }
  return { confirmed, sent }
}
