// How the bench's smoke tests run the bench: `bench/run.ts` as `npm run bench` would, in its own
// process, and read figures out of the JSON report it writes.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { RunRecord } from './bench-runner.ts'

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url))

/** Runs `bench/run.ts` with args; kills it if it outlives timeoutMs. Its exit code and all it printed. */
export function runBench(args: readonly string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise(resolve => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], { cwd: REPO_ROOT })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('exit', code => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

/** The value of the figure `key` of one run; fails the test when the run has no such figure. */
export function figure(record: RunRecord, key: string): number {
  const found = record.figures.find(f => f.key === key)
  assert.ok(found !== undefined, `${record.scenario}: no figure ${key}`)
  return found.value
}
