import assert from 'node:assert/strict'
import { test } from 'node:test'
import { assertCleanRun, figure, runQuickBench } from './bench-cli-run.ts'
import type { RunRecord } from './bench-runner.ts'

// `npm run bench -- --quick --scenario bridge-uplink`: RabbitMQ and the edge start, the live uplink
// and the drained backlog arrive whole, and the run reports the rates and what each message cost
// RabbitMQ and the edge in CPU. It checks what arrived and that the figures are there, never how fast.

const RUN_TIMEOUT_MS = 170_000

test('bench --quick: bridge-uplink loses nothing and reports rates and CPU per message', { timeout: 180_000 }, async () => {
  const { results, output } = await runQuickBench('wharf', ['bridge-uplink'], RUN_TIMEOUT_MS)
  const [run] = results as [RunRecord]
  assertCleanRun(run)
  for (const key of ['baseline', 'uplink', 'baselineDrain', 'drain', 'ingest']) assert.ok(figure(run, key) > 0, `${key}: a rate`)
  // CPU time is read from /proc in 10 ms ticks: every phase of 5,000 messages costs both processes some.
  for (const key of ['rabbitPlainCpu', 'rabbitLiveCpu', 'edgeLiveCpu', 'rabbitPlainDrainCpu', 'rabbitDrainCpu', 'edgeDrainCpu']) {
    assert.ok(figure(run, key) > 0, `${key}: CPU µs per message`)
  }
  assert.match(output, /uplink and drain >= 0\.8x the plain publisher; here [\d.]+x and [\d.]+x/)
})
