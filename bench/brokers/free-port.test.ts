// Ports for servers the tests stop and start again: free, distinct, and outside the kernel's
// ephemeral range, where no port-0 listener or outgoing connection can take them meanwhile.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { restartablePorts } from './free-port.ts'

function ephemeralRange(): [number, number] | undefined {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number)
    return [low as number, high as number]
  } catch {
    return undefined
  }
}

test('restartablePorts: distinct, below the ephemeral range, and free to listen on', { timeout: 10_000 }, async () => {
  const ports = await restartablePorts(8)
  assert.equal(ports.length, 8)
  assert.equal(new Set(ports).size, 8)
  const range = ephemeralRange()
  for (const port of ports) {
    assert.ok(port >= 10_000, `port ${port}`)
    if (range !== undefined) assert.ok(port < range[0], `port ${port} is in the ephemeral range ${range.join('-')}`)
    const server = createServer()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => resolve())
    })
    await new Promise<void>(resolve => server.close(() => resolve()))
  }
})
