// The README's first screen and its configuration reference are what a newcomer reads: keep them true.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

test('the README carries edge-config/CONFIG-REFERENCE.md verbatim (the reference that is checked against the schema)', () => {
  const reference = readFileSync(new URL('../edge-config/CONFIG-REFERENCE.md', import.meta.url), 'utf8')
  const body = reference
    .split('\n')
    .slice(reference.startsWith('#') ? 1 : 0)
    .join('\n')
    .trim()
  assert.ok(readme.includes(body), 'README.md configuration reference differs from edge-config/CONFIG-REFERENCE.md: paste it again')
})

test('the first screen gives the start command and npm test', () => {
  const firstScreen = readme.split('\n').slice(0, 40).join('\n')
  assert.match(firstScreen, /npm install && npm start/)
  assert.match(firstScreen, /npm test/)
})

test("CI runs exactly the README's test command, and that command runs the test script", () => {
  const commands = [
    ...readme
      .split('\n')
      .slice(0, 40)
      .join('\n')
      .matchAll(/```sh\n([^`]+)```/g)
  ].map(m => m[1]!.trim())
  assert.deepEqual(commands, ['npm install && npm start', 'npm test'])
  const ci = readFileSync(new URL('../.ci/run', import.meta.url), 'utf8')
    .split('\n')
    .map(l => l.trim())
    .filter(l => l !== '' && !l.startsWith('#'))
  assert.equal(ci.at(-1), commands[1], ".ci/run ends with the README's test command")
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }
  assert.equal(pkg.scripts.test, 'bash test/run-tests.sh')
  assert.match(pkg.scripts.prepare ?? '', /tsconfig\.build\.json/, 'npm install builds dist/')
})
