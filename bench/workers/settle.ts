import { setTimeout as sleep } from 'node:timers/promises'
import type { SequenceTracker } from './sequence-tracker.ts'

const POLL_MS = 20

/**
 * Waits until `isComplete`, or until `progress` (a count of what arrived) has not moved for
 * settleMs (then whatever is missing counts as lost).
 */
export async function waitForCompletion(isComplete: () => boolean, progress: () => number, settleMs: number): Promise<void> {
  let lastTotal = -1
  let quietSinceMs = Date.now()
  for (;;) {
    if (isComplete()) return
    const total = progress()
    if (total !== lastTotal) {
      lastTotal = total
      quietSinceMs = Date.now()
    } else if (Date.now() - quietSinceMs >= settleMs) {
      return
    }
    await sleep(POLL_MS)
  }
}

/** Waits until every tracker has seen everything that was sent, or until nothing new has arrived for settleMs. */
export async function waitForDeliveries(trackers: readonly SequenceTracker[], sentPerPublisher: readonly number[], settleMs: number): Promise<void> {
  await waitForCompletion(
    () => trackers.every(t => t.isComplete(sentPerPublisher)),
    () => trackers.reduce((sum, t) => sum + t.received, 0),
    settleMs
  )
}
