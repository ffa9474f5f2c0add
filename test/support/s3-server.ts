// A real S3-compatible server (s3rver) on 127.0.0.1 for tests, in a child process: s3rver's
// ListObjectsV2 continuation tokens use DES, which Node 20's OpenSSL 3 only has with
// --openssl-legacy-provider, so the child gets that flag and the test process needs none.
// stop() is an outage (the data stays); restart() comes back on the same port; close() cleans up.

import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { restartablePorts } from '../../bench/brokers/free-port.ts'

export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const

export interface S3Server {
  /** `http://127.0.0.1:<port>`, for forcePathStyle clients. */
  readonly endpoint: string
  readonly port: number
  readonly bucket: string
  readonly region: string
  readonly credentials: typeof S3RVER_CREDENTIALS
  /** Kills the server; objects stay in its directory. */
  stop(): Promise<void>
  /** Starts it again on the same port and directory. */
  restart(): Promise<void>
  /** stop(), then removes the directory if startS3Server made it. */
  close(): Promise<void>
}

export interface S3ServerOptions {
  readonly dir?: string
  readonly port?: number
  readonly bucket?: string
  readonly startTimeoutMs?: number
}

// Runs in the child (CommonJS). Exits when the test process's end of stdin closes, so a test
// process that dies leaves no server behind.
const CHILD_SOURCE = `
const [s3rverPath, port, directory, bucket] = JSON.parse(process.argv[1])
const S3rver = require(s3rverPath)
process.stdin.on('end', () => process.exit(0)).on('error', () => process.exit(0)).resume()
new S3rver({ port, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket }] })
  .run()
  .then((address) => process.stdout.write(JSON.stringify({ port: address.port }) + '\\n'))
  .catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1) })
`

const s3rverPath = createRequire(import.meta.url).resolve('s3rver')

export async function startS3Server(options: S3ServerOptions = {}): Promise<S3Server> {
  // A port restart() can have back: one from port 0 could be taken by another test meanwhile.
  let port = options.port ?? ((await restartablePorts(1))[0] as number)
  const ownsDir = options.dir === undefined
  const dir = options.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'wharf-s3rver-')))
  const bucket = options.bucket ?? 'wharf-test'
  const startTimeoutMs = options.startTimeoutMs ?? 15_000
  let child: ChildProcess | null = null
  try {
    ;({ child, port } = await spawnServer(port, dir, bucket, startTimeoutMs))
  } catch (err) {
    if (ownsDir) await rm(dir, { recursive: true, force: true })
    throw err
  }

  const stop = async (): Promise<void> => {
    const running = child
    child = null
    if (running !== null) await killAndWait(running)
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    bucket,
    region: 'us-east-1',
    credentials: S3RVER_CREDENTIALS,
    stop,
    async restart() {
      await stop()
      child = (await spawnServer(port, dir, bucket, startTimeoutMs)).child
    },
    async close() {
      await stop()
      if (ownsDir) await rm(dir, { recursive: true, force: true })
    }
  }
}

async function spawnServer(port: number, dir: string, bucket: string, startTimeoutMs: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', CHILD_SOURCE, JSON.stringify([s3rverPath, port, dir, bucket])], {
    stdio: ['pipe', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  try {
    const listening = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`s3rver: not listening after ${startTimeoutMs} ms`)), startTimeoutMs)
      child.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString()
        const line = stdout.split('\n')
        if (line.length < 2) return
        clearTimeout(timer)
        resolve((JSON.parse(line[0] ?? '') as { port: number }).port)
      })
      child.once('error', err => {
        clearTimeout(timer)
        reject(err)
      })
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`s3rver: exited before listening (code ${code}, signal ${signal}): ${stderr.trim()}`))
      })
    })
    // The test process may end without close(): the child then sees stdin end and exits.
    child.unref()
    for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.()
    return { child, port: listening }
  } catch (err) {
    await killAndWait(child)
    throw err
  }
}

/** Bounds the wait for a SIGKILLed child's exit: a hung wait would hang the whole test run. */
const EXIT_WAIT_MS = 10_000

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  // The child and its pipes are unref'd (a test process may end without close()), so while we wait
  // nothing else may keep the event loop alive: a ref'd timer does, until the exit arrives.
  // Without it node:test reports "Promise resolution is still pending but the event loop has
  // already resolved" and abandons the hook.
  child.ref()
  let keepAlive: NodeJS.Timeout | undefined
  try {
    await new Promise<void>((resolve, reject) => {
      keepAlive = setTimeout(() => reject(new Error(`s3rver: pid ${child.pid} did not exit within ${EXIT_WAIT_MS} ms of SIGKILL`)), EXIT_WAIT_MS)
      child.once('exit', () => resolve())
      if (child.exitCode !== null || child.signalCode !== null) {
        resolve()
        return
      }
      child.kill('SIGKILL')
    })
  } finally {
    clearTimeout(keepAlive)
  }
}
