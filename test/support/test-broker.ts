import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defaultConfig } from '../../edge-config/defaults.ts'
import type { WharfConfig } from '../../edge-config/config-types.ts'
import { createLogger } from '../../core/logger.ts'
import { startWharf, type WharfNode } from '../../gateway/wharf-node.ts'

export interface TestBroker {
  node: WharfNode
  dataDir: string
  /** JSON log lines the broker wrote, parsed. */
  logs: Array<Record<string, unknown>>
  mqttUrl: string
  wsUrl: string
  /** amqp://guest:guest@127.0.0.1:<port> (guest is accepted from loopback). */
  amqpUrl: string
  adminUrl: string
  /** Stop the broker; keeps the data directory (for restart tests). */
  stop(): Promise<void>
  /** Stop the broker and delete its data directory. */
  close(): Promise<void>
}

export type ConfigPatch = (config: WharfConfig) => void

/** A broker in this process on free loopback ports, with its own temporary data directory. */
export async function startTestBroker(patch: ConfigPatch = () => {}, dataDir?: string): Promise<TestBroker> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'wharf-test-'))
  const config = defaultConfig()
  config.dataDir = dir
  config.host = '127.0.0.1'
  config.mqtt.port = 0
  config.mqtt.ws.port = 0
  config.admin.port = 0
  config.amqp.port = 0
  config.log.level = 'debug'
  patch(config)
  const logs: Array<Record<string, unknown>> = []
  const node = await startWharf(
    config,
    createLogger(config.log.level, line => {
      logs.push(JSON.parse(line) as Record<string, unknown>)
    })
  )
  let stopped = false
  const stop = async (): Promise<void> => {
    if (!stopped) {
      stopped = true
      await node.close()
    }
  }
  return {
    node,
    dataDir: dir,
    logs,
    mqttUrl: `mqtt://127.0.0.1:${node.ports.mqtt}`,
    wsUrl: `ws://127.0.0.1:${node.ports.ws}${config.mqtt.ws.path}`,
    amqpUrl: `amqp://guest:guest@127.0.0.1:${node.ports.amqp}`,
    adminUrl: `http://127.0.0.1:${node.ports.admin}`,
    stop,
    close: async () => {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
