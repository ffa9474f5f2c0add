// A TCP proxy in front of a broker port that can stop reading what the broker sends (stall) and
// start again (resume): a consumer whose host or link is too slow, as the broker sees it. What the
// client sends always goes through, so the client stays connected and its acks and heartbeats arrive.
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net'

export interface StallingProxy {
  readonly port: number
  /** Stops reading from the broker on every connection through the proxy (now and later). */
  stall(): void
  resume(): void
  close(): Promise<void>
}

export async function startStallingProxy(targetPort: number): Promise<StallingProxy> {
  const upstreams = new Set<Socket>()
  const sockets = new Set<Socket>()
  let stalled = false
  const server: Server = createServer(client => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort })
    upstreams.add(upstream)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => {
        sockets.delete(s)
        upstreams.delete(upstream)
        client.destroy()
        upstream.destroy()
      })
    }
    client.on('data', (chunk: Buffer) => upstream.write(chunk))
    // Flowing 'data' reads (no pipe): pause() then holds the broker's bytes in its socket buffers.
    upstream.on('data', (chunk: Buffer) => client.write(chunk))
    if (stalled) upstream.pause()
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    stall: () => {
      stalled = true
      for (const u of upstreams) u.pause()
    },
    resume: () => {
      stalled = false
      for (const u of upstreams) u.resume()
    },
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise(resolve => server.close(resolve))
    }
  }
}
