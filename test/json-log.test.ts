// The log stays JSON lines whichever way Wharf is started: the AWS SDK's multi-line notice about Node
// versions is off unless the environment asks for it, and then it is one log line like any process warning.
import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startBrokerProcess } from './support/broker-process.ts'

const s3Tiering = {
  WHARF_TIERING_URL: 's3://wharf-test/edge',
  WHARF_S3_ENDPOINT: 'http://127.0.0.1:9', // never reached: nothing is sealed in these runs
  WHARF_S3_FORCE_PATH_STYLE: 'true',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_REGION: 'us-east-1'
}

/** Starts with an S3 cold tier (the SDK client is built at start), stops, and returns every line written. */
async function linesOfARun(dataDir: string, sdkVariable: string | undefined): Promise<Array<Record<string, unknown>>> {
  const broker = await startBrokerProcess(dataDir, { ...s3Tiering, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: sdkVariable })
  assert.equal(await broker.terminate(), 0)
  return broker.lines.map(line => {
    try {
      return JSON.parse(line) as Record<string, unknown>
    } catch {
      return assert.fail(`not a JSON line: ${JSON.stringify(line)}\nall lines:\n${broker.lines.join('\n')}`)
    }
  })
}

describe('JSON-lines log', { timeout: 60_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'wharf-jsonlog-'))
  after(() => rmSync(root, { recursive: true, force: true }))

  test('with the SDK variable unset, the SDK notice is not written at all', async () => {
    const entries = await linesOfARun(join(root, 'unset'), undefined)
    assert.ok(entries.some(e => e.msg === 'wharf ready'))
    assert.ok(entries.some(e => e.msg === 'tiering started' && e.objectStore === 's3://wharf-test/edge'))
    assert.ok(!JSON.stringify(entries).includes('NodeVersionSupportWarning'))
  })

  test('with the SDK notice asked for (=false), it is one JSON log line', async () => {
    const entries = await linesOfARun(join(root, 'false'), 'false')
    const notices = entries.filter(e => String(e.warning ?? '').includes('NodeVersionSupportWarning'))
    assert.equal(notices.length, 1, JSON.stringify(entries))
    assert.deepEqual([notices[0]!.level, notices[0]!.msg], ['warn', 'process warning'])
  })
})
