import { setTimeout as sleep } from 'node:timers/promises';
import type { SequenceTracker } from './sequence-tracker.ts';

const POLL_MS = 20;

/**
 * Waits until every tracker has seen everything that was sent, or until nothing new has
 * arrived for settleMs (then the rest counts as lost).
 */
export async function waitForDeliveries(
  trackers: readonly SequenceTracker[],
  sentPerPublisher: readonly number[],
  settleMs: number,
): Promise<void> {
  let lastTotal = -1;
  let quietSinceMs = Date.now();
  for (;;) {
    if (trackers.every((t) => t.isComplete(sentPerPublisher))) return;
    const total = trackers.reduce((sum, t) => sum + t.received, 0);
    if (total !== lastTotal) {
      lastTotal = total;
      quietSinceMs = Date.now();
    } else if (Date.now() - quietSinceMs >= settleMs) {
      return;
    }
    await sleep(POLL_MS);
  }
}
