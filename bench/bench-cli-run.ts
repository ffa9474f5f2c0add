// How the bench's smoke tests run the bench: `bench/run.ts` as `npm run bench` would, in its own
// process, and read figures out of the JSON report it writes.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { RunRecord } from './bench-runner.ts'

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url))

/** Runs `bench/run.ts` with args; kills it if it outlives timeoutMs. Its exit code and all it printed. */
function runBench(args: readonly string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
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

/**
 * `bench/run.ts --quick --target <target> --scenario <scenarios> --json <file>` in a temp directory
 * of its own: fails the test unless it exits 0 with every scenario ok, in order; the runs' records
 * and all it printed.
 */
export async function runQuickBench(target: string, scenarios: readonly string[], timeoutMs: number): Promise<{ results: RunRecord[]; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-bench-smoke-'))
  try {
    const jsonFile = join(dir, 'bench.json')
    const { code, output } = await runBench(['--quick', '--target', target, '--scenario', scenarios.join(','), '--json', jsonFile], timeoutMs)
    assert.equal(code, 0, `bench exited with ${code}:\n${output}`)
    const { results } = JSON.parse(readFileSync(jsonFile, 'utf8')) as { results: RunRecord[] }
    assert.deepEqual(
      results.map(r => `${r.scenario}/${r.target}/${r.status}`),
      scenarios.map(s => `${s}/${target}/ok`)
    )
    return { results, output }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The run reports no failure and lost or repeated nothing. */
export function assertCleanRun(run: RunRecord): void {
  assert.deepEqual(run.failures, [])
  assert.equal(run.lost, 0)
  assert.equal(run.duplicates, 0)
}
