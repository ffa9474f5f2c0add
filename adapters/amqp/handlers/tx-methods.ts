// tx class (90): publishes and acks of a transactional channel take effect at tx.commit, which
// answers once every persistent message of the transaction is committed to the store.
import { Methods } from '../codec/amqp-defs.ts'
import { PRECONDITION_FAILED } from '../codec/reply-codes.ts'
import { AmqpException } from '../amqp-errors.ts'
import type { AmqpChannel, TxState } from '../channel.ts'
import { routeOnce } from './publish.ts'
import { onChannel, type RouteEntry } from './route.ts'

function txOf(ch: AmqpChannel, methodId: number): TxState {
  if (ch.tx === undefined) throw new AmqpException(PRECONDITION_FAILED, 'channel is not transactional', methodId)
  return ch.tx
}

export const txMethods: readonly RouteEntry[] = [
  onChannel(Methods.TxSelect, ch => {
    if (ch.confirm !== undefined) throw new AmqpException(PRECONDITION_FAILED, 'cannot switch from confirm to tx mode', Methods.TxSelect)
    ch.tx ??= { publishes: [], settlements: [], heldTags: new Set() }
    ch.send(Methods.TxSelectOk, {})
  }),

  onChannel(Methods.TxCommit, async ch => {
    const tx = txOf(ch, Methods.TxCommit)
    const { publishes, settlements } = tx
    tx.publishes = []
    tx.settlements = []
    tx.heldTags.clear()
    for (const apply of settlements) apply()
    const vhost = ch.conn.vhostOrThrow()
    const stored: Array<Promise<void>> = []
    for (const p of publishes) {
      const result = routeOnce(ch, vhost, p.exchange, p.message, p.mandatory)
      if (result.stored !== undefined) stored.push(result.stored)
    }
    await Promise.all(stored)
    ch.send(Methods.TxCommitOk, {})
  }),

  onChannel(Methods.TxRollback, ch => {
    const tx = txOf(ch, Methods.TxRollback)
    tx.publishes = []
    tx.settlements = []
    tx.heldTags.clear()
    ch.send(Methods.TxRollbackOk, {})
  })
]
