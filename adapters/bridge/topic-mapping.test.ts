import { test } from 'node:test'
import assert from 'node:assert/strict'
import { inboundTopic, outboundTopic, tradePrefix } from './topic-mapping.ts'

test('prefixes are traded each way', () => {
  const out = { topics: ['site/#'], localPrefix: 'site/', remotePrefix: 'edges/e1/' }
  assert.equal(outboundTopic('site/temp/1', out), 'edges/e1/temp/1')
  const down = { topics: ['edges/e1/cmd/#'], remotePrefix: 'edges/e1/', localPrefix: 'site/' }
  assert.equal(inboundTopic('edges/e1/cmd/reboot', down), 'site/cmd/reboot')
  assert.equal(outboundTopic('a/b', { topics: [], localPrefix: '', remotePrefix: '' }), 'a/b')
})

test('a topic without the prefix gets the other one all the same; never an empty topic', () => {
  assert.equal(tradePrefix('site', 'site/', 'e1/'), 'e1/site')
  assert.equal(tradePrefix('site/', 'site/', ''), 'site/')
})
