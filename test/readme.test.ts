// The README's first screen and its configuration reference are what a newcomer reads: keep them true.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

test('the README carries edge-config/CONFIG-REFERENCE.md verbatim (the reference that is checked against the schema)', () => {
  const reference = readFileSync(new URL('../edge-config/CONFIG-REFERENCE.md', import.meta.url), 'utf8')
  const body = reference.split('\n').slice(reference.startsWith('#') ? 1 : 0).join('\n').trim()
  assert.ok(readme.includes(body), 'README.md configuration reference differs from edge-config/CONFIG-REFERENCE.md: paste it again')
})

test('the first screen gives the start command and npm test', () => {
  const firstScreen = readme.split('\n').slice(0, 40).join('\n')
  assert.match(firstScreen, /npm install && npm start/)
  assert.match(firstScreen, /npm test/)
})
