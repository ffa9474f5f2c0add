import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'

/** Listens on port 0 and closes again; all listeners are held until every port is known, so the ports differ. */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: Server[] = []
  try {
    const ports: number[] = []
    for (let i = 0; i < count; i++) {
      const server = await listening(0, host)
      if (server instanceof Error) throw server
      servers.push(server)
      const address = server.address()
      if (address === null || typeof address === 'string') throw new Error('free port: no TCP address')
      ports.push(address.port)
    }
    return ports
  } finally {
    await closeAll(servers)
  }
}

/** A server listening on port (0: any), or why it could not. */
function listening(port: number, host: string): Promise<Server | Error> {
  const server = createServer()
  return new Promise(resolve => {
    server.once('error', err => resolve(err))
    server.listen(port, host, () => resolve(server))
  })
}

async function closeAll(servers: readonly Server[]): Promise<void> {
  await Promise.all(servers.map(s => new Promise<void>(resolve => s.close(() => resolve()))))
}

/** The lowest port restartablePorts draws from (below it: well-known and registered services). */
const RESTARTABLE_PORT_MIN = 10_000
/** Linux's default ephemeral range starts here; used where /proc does not tell. */
const EPHEMERAL_PORT_MIN_DEFAULT = 32_768
const RESTARTABLE_PORT_TRIES = 200

/**
 * Free ports for a server that is stopped and started again on the same port (a remote's outage, a
 * crash and restart). A port from freePorts() is in the kernel's ephemeral range, where every
 * port-0 listener and every outgoing connection on the machine takes its own, so another test can
 * hold it by the time the server comes back (seen: EADDRINUSE after a remote's 30 s outage). These
 * are drawn at random below that range (net.ipv4.ip_local_port_range), which the kernel never hands
 * out by itself, and checked free by listening, as freePorts does.
 */
export async function restartablePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const max = ephemeralPortMin() - 1
  const servers: Server[] = []
  try {
    const ports: number[] = []
    for (let tries = 0; ports.length < count; tries++) {
      if (tries >= RESTARTABLE_PORT_TRIES) {
        throw new Error(`restartable ports: ${ports.length} of ${count} free in ${RESTARTABLE_PORT_MIN}-${max} after ${tries} tries`)
      }
      const port = RESTARTABLE_PORT_MIN + Math.floor(Math.random() * (max - RESTARTABLE_PORT_MIN + 1))
      if (ports.includes(port)) continue
      const server = await listening(port, host)
      if (server instanceof Error) continue // taken: draw another
      servers.push(server)
      ports.push(port)
    }
    return ports
  } finally {
    await closeAll(servers)
  }
}

/** The first port of the kernel's ephemeral range (Linux), or Linux's default where it cannot be read. */
function ephemeralPortMin(): number {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    return Number.isInteger(first) && first > RESTARTABLE_PORT_MIN + 1000 ? first : EPHEMERAL_PORT_MIN_DEFAULT
  } catch {
    return EPHEMERAL_PORT_MIN_DEFAULT
  }
}

/** Tries of retryOnPortTaken. */
const PORT_TRIES = 3

/**
 * Starts a broker again, on ports picked anew, when it failed because another process took one of
 * its free ports between freePorts and its listen (EADDRINUSE: `npm test` runs two test files at a
 * time, and the bench smoke tests start brokers beside other tests). Any other failure is thrown.
 */
export async function retryOnPortTaken<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start()
    } catch (err) {
      if (attempt >= PORT_TRIES || !/EADDRINUSE/.test(String((err as Error).message))) throw err
    }
  }
}
