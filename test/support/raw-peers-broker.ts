// One broker for a describe block of raw-socket MQTT tests, and the peers they open: every peer is
// destroyed and the broker closed after the block.
import { after, before } from 'node:test'
import { startTestBroker, type ConfigPatch, type TestBroker } from './test-broker.ts'
import type { RawPeer } from './raw-mqtt.ts'

export interface RawPeersBroker {
  /** Started before the block's first test. */
  readonly broker: TestBroker
  /** Peers to destroy after the block: push each one opened. */
  readonly peers: RawPeer[]
}

export function rawPeersBroker(patch?: ConfigPatch): RawPeersBroker {
  let started: TestBroker | undefined
  const peers: RawPeer[] = []
  before(async () => {
    started = await startTestBroker(patch)
  })
  after(async () => {
    for (const p of peers) p.destroy()
    await started?.close()
  })
  return {
    peers,
    get broker(): TestBroker {
      if (started === undefined) throw new Error('rawPeersBroker: the broker starts in before()')
      return started
    }
  }
}
