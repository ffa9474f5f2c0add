import { payloadPublisherId, payloadSentAtNs, payloadSeq } from './payload.ts'
import { summarizeLatencies } from './percentiles.ts'
import { ReceiptCounts } from './receipt-counts.ts'
import { waitForCompletion } from './settle.ts'
import { nextParentMessage, sendToParent } from './worker-ipc.ts'

/**
 * What a receiver in its own process counts: every sequence number of every publisher (lost,
 * duplicates) and, for the first receipt of each message of the measured publisher, its
 * end-to-end latency. The payload carries process.hrtime at publish; hrtime is CLOCK_MONOTONIC,
 * one clock for every process on the machine, so receipt minus send compares across processes.
 */
export class LatencyReceipts {
  received = 0
  redelivered = 0
  private readonly receipts: ReceiptCounts
  private readonly latencies: Float64Array
  private samples = 0

  constructor(
    readonly name: string,
    publishers: number,
    maxSeq: number,
    private readonly measuredPublisherId: number
  ) {
    this.receipts = new ReceiptCounts(publishers, maxSeq)
    this.latencies = new Float64Array(maxSeq)
  }

  record(payload: Buffer, redelivered: boolean): void {
    const nowNs = process.hrtime.bigint()
    this.received++
    if (redelivered) this.redelivered++
    const publisherId = payloadPublisherId(payload)
    const first = this.receipts.record(publisherId, payloadSeq(payload))
    if (first && publisherId === this.measuredPublisherId && this.samples < this.latencies.length) {
      this.latencies[this.samples++] = Number(nowNs - payloadSentAtNs(payload)) / 1e6
    }
  }

  /**
   * One round per publishing phase: (finish: sent so far per publisher) → wait until all of it
   * arrived, or nothing did for settleMs → result (cumulative: the last one is the run's).
   */
  async answerRounds(rounds: number, settleMs: number): Promise<void> {
    for (let round = 0; round < rounds; round++) {
      const { sentPerPublisher } = await nextParentMessage('finish')
      const total = sentPerPublisher.reduce((a, b) => a + b, 0)
      await waitForCompletion(
        () => this.receipts.isComplete(total),
        () => this.received,
        settleMs
      )
      const { lost, duplicates } = this.receipts.check(sentPerPublisher)
      await sendToParent({
        type: 'result',
        result: {
          kind: 'latency-receiver',
          name: this.name,
          received: this.received,
          lost,
          duplicates,
          unexpected: this.receipts.unexpected,
          redelivered: this.redelivered,
          // Sorting in place is fine: samples only grow at the end, and order does not matter.
          latencyMs: summarizeLatencies(this.latencies.subarray(0, this.samples))
        }
      })
    }
  }
}
