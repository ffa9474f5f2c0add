import assert from 'node:assert/strict'
import { test } from 'node:test'
import { assertCleanRun, figure, runQuickBench } from './bench-cli-run.ts'
import type { RunRecord } from './bench-runner.ts'

// `npm run bench -- --quick --scenario stream-replay` against Wharf: s3rver and Wharf start, the
// stream is replayed hot, offloaded and replayed cold, and neither replay loses, repeats, reorders
// or alters a message. It checks what was delivered and stored, never how fast.

const RUN_TIMEOUT_MS = 110_000

test('bench --quick: stream-replay replays hot and cold from S3 with nothing lost, in order', { timeout: 120_000 }, async () => {
  const { results, output } = await runQuickBench('wharf', ['stream-replay'], RUN_TIMEOUT_MS)
  const [run] = results as [RunRecord]
  assertCleanRun(run)

  const messages = run.settings.messages
  assert.equal(figure(run, 'messages'), messages, 'every message confirmed')
  for (const tier of ['hot', 'cold']) {
    assert.equal(figure(run, `${tier}Delivered`), messages, `${tier}: delivered`)
    assert.equal(figure(run, `${tier}Lost`), 0, `${tier}: lost`)
    assert.equal(figure(run, `${tier}OutOfOrder`), 0, `${tier}: order`)
    assert.equal(figure(run, `${tier}Corrupt`), 0, `${tier}: payloads intact`)
    assert.ok(figure(run, `${tier}Rate`) > 0, `${tier}: a rate`)
  }
  // The cold replay was read out of the bucket, which holds the whole stream.
  assert.ok(figure(run, 'coldGets') > 0, 'cold replay made ranged GETs')
  assert.ok(figure(run, 'objects') > 1, 'the stream spans several segment objects')
  assert.ok(figure(run, 'objectBytes') >= figure(run, 'payloadBytes'), 'random payloads do not shrink in the store')
  assert.ok(figure(run, 'hotLocalBytes') >= figure(run, 'payloadBytes'), 'the hot replay read local records')
  assert.match(output, /target cold replay >= 0\.5x hot: (met|MISSED)/)
})
