// This node's id, in <dataDir>/node-id: random at the first start, the same across restarts. Bridges
// name the node in the messages they send up (x-wharf-via) and default their remote names with it
// (downlink queue, MQTT client id), so two edges never share a remote queue; a Wharf tells it to
// peers (AMQP server property and MQTT 5 CONNACK user property wharf-node-id), which is how a
// bridge between two Wharfs recognises a message coming back (adapters/bridge/loop-marks.ts).
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { writeFileDurably } from './durable-file.ts'

export const nodeIdFileName = 'node-id'
const NODE_ID = /^[0-9a-f]{16}$/

/** Reads the id, creating it when absent. Call after the data dir is locked. */
export function loadNodeId(dataDir: string): string {
  const file = join(dataDir, nodeIdFileName)
  let text: string | undefined
  try {
    text = readFileSync(file, 'utf8').trim()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`node id: read ${file}: ${(err as Error).message}`)
  }
  if (text !== undefined) {
    if (!NODE_ID.test(text)) throw new Error(`node id: ${file} does not hold 16 hex digits; delete it to make a new one`)
    return text
  }
  const id = randomBytes(8).toString('hex')
  try {
    writeFileDurably(dataDir, file, Buffer.from(id + '\n'), 0o644)
  } catch (err) {
    throw new Error(`node id: create ${file}: ${(err as Error).message}`)
  }
  return id
}
