import { test } from 'node:test'
import assert from 'node:assert/strict'
import { OpenedResources } from './opened-resources.ts'

test('closes in reverse order, goes on past a failing closer, and names it', async () => {
  const opened = new OpenedResources()
  const closed: string[] = []
  opened.add('store', () => {
    closed.push('store')
  })
  opened.add('adapter', () => {
    throw new Error('boom')
  })
  opened.add('listener', async () => {
    closed.push('listener')
  })
  assert.deepEqual(await opened.closeAll(1000), ['close adapter: boom'])
  assert.deepEqual(closed, ['listener', 'store'])
  assert.deepEqual(await opened.closeAll(1000), [], 'each is closed once')
})

test('a closer that hangs is abandoned at the deadline; the ones after it still run', async () => {
  const opened = new OpenedResources()
  let storeClosed = false
  opened.add('store', () => {
    storeClosed = true
  })
  opened.add('stuck', () => new Promise(() => {}))
  const startedMs = Date.now()
  assert.deepEqual(await opened.closeAll(50), ['close stuck: not done within 50 ms'])
  assert.ok(Date.now() - startedMs < 1000)
  assert.equal(storeClosed, true)
})
