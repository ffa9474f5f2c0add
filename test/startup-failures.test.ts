// A start-up that fails, fails (DESIGN.md §6): `wharf start` as a child process exits non-zero within
// 10 s, writes one JSON line naming the cause, never answers /readyz with 200, and leaves nothing open
// (the next start on the same data directory works). And one process per data directory.
import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { runWharfToExit, startBrokerProcess, type WharfExit } from './support/broker-process.ts'
import { startS3Server } from './support/s3-server.ts'

// 10 s on this machine; when the cores are oversubscribed (the stability runs add two busy loops)
// every wall-clock bound stretches with the load, so the bound does too.
const exitWithinMs = 10_000 * Math.max(1, (loadavg()[0] ?? 0) / cpus().length)

/** The one line a failed start-up writes: every line is JSON, exactly one is an error, and it names the cause. */
function assertFailedWith(r: WharfExit, cause: RegExp): void {
  const all = [...r.stdout, ...r.stderr]
  assert.notEqual(r.code, 0, `exit status ${r.code} (signal ${r.signal}):\n${all.join('\n')}`)
  assert.equal(r.signal, null, 'exited by itself')
  assert.ok(r.elapsedMs < exitWithinMs, `exited after ${r.elapsedMs} ms`)
  assert.deepEqual(r.stderr, [], 'nothing on stderr')
  const entries = r.stdout.map(line => {
    try {
      return JSON.parse(line) as Record<string, unknown>
    } catch {
      return assert.fail(`not a JSON line: ${line}`)
    }
  })
  const errors = entries.filter(e => e.level === 'error')
  assert.equal(errors.length, 1, `one error line:\n${r.stdout.join('\n')}`)
  assert.equal(errors[0]!.msg, 'start-up failed')
  assert.match(String(errors[0]!.error), cause)
  assert.ok(!entries.some(e => e.msg === 'wharf ready'), 'never ready')
}

async function listeningServer(): Promise<{ server: Server; port: number }> {
  const server = createServer(socket => {
    socket.on('error', () => {})
  }) // accepts and never answers
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as { port: number }).port }
}

async function freePort(): Promise<number> {
  const { server, port } = await listeningServer()
  await new Promise(resolve => server.close(resolve))
  return port
}

/** Polls /readyz while the broker starts and fails; resolves with every status it saw (0: no answer). */
function watchReadyz(port: number, until: Promise<unknown>): Promise<number[]> {
  const seen = new Set<number>()
  let done = false
  void until.finally(() => {
    done = true
  })
  return (async () => {
    while (!done) {
      try {
        seen.add((await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(500) })).status)
      } catch {
        seen.add(0)
      }
      await new Promise(resolve => setTimeout(resolve, 10))
    }
    return [...seen]
  })()
}

describe('start-up failures', { timeout: 120_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'wharf-startup-'))
  after(() => rmSync(root, { recursive: true, force: true }))
  let n = 0
  const dataDir = (): string => join(root, `data-${++n}`)

  test('a port in use: exit 1 naming the listener and the port, /readyz never 200, nothing left open', async () => {
    const { server, port } = await listeningServer()
    try {
      const dir = dataDir()
      const adminPort = await freePort()
      const run = runWharfToExit(dir, { WHARF_AMQP_PORT: String(port), WHARF_ADMIN_PORT: String(adminPort) })
      const statuses = await watchReadyz(adminPort, run)
      assertFailedWith(await run, new RegExp(`listen amqp on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`))
      assert.ok(!statuses.includes(200), `/readyz answered ${statuses.join(', ')}`)
      // The lock and the store were closed: the next start on the same directory is ready.
      const next = await startBrokerProcess(dir)
      assert.equal(await next.terminate(), 0)
    } finally {
      server.close()
    }
  })

  test('a data directory under a regular file: exit 1 naming the directory and ENOTDIR', async () => {
    const file = join(root, 'a-file')
    writeFileSync(file, 'not a directory')
    assertFailedWith(await runWharfToExit(join(file, 'data')), /data directory .*a-file\/data: create: ENOTDIR/)
  })

  test("a store that will not open: exit 1 naming the file and SQLite's reason; the lock is released", async () => {
    const dir = dataDir()
    mkdirSync(dir)
    writeFileSync(join(dir, 'wharf.db'), Buffer.alloc(8192, 'x'))
    assertFailedWith(await runWharfToExit(dir), /store: open .*wharf\.db: file is not a database/)
    rmSync(join(dir, 'wharf.db'))
    const next = await startBrokerProcess(dir)
    assert.equal(await next.terminate(), 0)
  })

  test('an object store that is required and refuses connections: exit 1 naming it', async () => {
    const port = await freePort()
    const r = await runWharfToExit(dataDir(), {
      WHARF_TIERING_URL: 's3://wharf-test/edge',
      WHARF_S3_ENDPOINT: `http://127.0.0.1:${port}`,
      WHARF_S3_FORCE_PATH_STYLE: 'true',
      WHARF_TIERING_REQUIRED_AT_START: 'true',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'us-east-1'
    })
    assertFailedWith(r, /object store s3:\/\/wharf-test\/edge: unreachable at start \(tiering\.requiredAtStart\)/)
  })

  test('an object store that is required and never answers: exit 1 after tiering.startCheckTimeoutMs', async () => {
    const { server, port } = await listeningServer()
    try {
      const config = join(root, 'silent-s3.yaml')
      writeFileSync(config, 'tiering:\n  requiredAtStart: true\n  startCheckTimeoutMs: 1000\n')
      const r = await runWharfToExit(
        dataDir(),
        {
          WHARF_TIERING_URL: 's3://wharf-test/edge',
          WHARF_S3_ENDPOINT: `http://127.0.0.1:${port}`,
          WHARF_S3_FORCE_PATH_STYLE: 'true',
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_REGION: 'us-east-1'
        },
        ['--config', config]
      )
      assertFailedWith(r, /object store s3:\/\/wharf-test\/edge: no answer within 1000 ms/)
    } finally {
      server.close()
    }
  })

  test('an object store that is required and answers: ready', async () => {
    const s3 = await startS3Server()
    try {
      const broker = await startBrokerProcess(dataDir(), {
        WHARF_TIERING_URL: `s3://${s3.bucket}/edge`,
        WHARF_S3_ENDPOINT: s3.endpoint,
        WHARF_S3_FORCE_PATH_STYLE: 'true',
        WHARF_TIERING_REQUIRED_AT_START: 'true',
        AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
        AWS_REGION: s3.region
      })
      assert.equal(await broker.terminate(), 0)
    } finally {
      await s3.close()
    }
  })

  test('a refused configuration is one JSON line too, naming the field', async () => {
    const config = join(root, 'bad.yaml')
    writeFileSync(config, 'storage:\n  durability: sometimes\n')
    assertFailedWith(await runWharfToExit(dataDir(), {}, ['--config', config]), /storage\.durability = "sometimes"/)
  })
})

describe('the data directory lock', { timeout: 60_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'wharf-lock-'))
  after(() => rmSync(root, { recursive: true, force: true }))

  test("a second instance on the same directory exits 1 naming the directory and the holder's PID; after a SIGKILL of the holder a new one starts", async t => {
    const dir = join(root, 'data')
    const first = await startBrokerProcess(dir)
    t.after(() => first.kill()) // a no-op once killed below; else a failed assertion before that leaves it running
    const second = await runWharfToExit(dir)
    assertFailedWith(second, new RegExp(`data directory ${dir.replaceAll('/', '\\/')} is locked by another wharf process \\(pid ${first.child.pid}\\)`))
    await first.kill()
    const third = await startBrokerProcess(dir)
    assert.equal(await third.terminate(), 0)
  })
})
