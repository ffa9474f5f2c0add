import { createConnection, type Socket } from 'node:net'
import { CONNACK_ACCEPTED, DISCONNECT, splitPackets } from './mqtt-raw-packets.ts'

const EMPTY = Buffer.alloc(0)

export interface RawEndpoint {
  readonly host: string
  readonly port: number
}

export function rawEndpoint(url: string): RawEndpoint {
  const { hostname, port } = new URL(url)
  return { host: hostname.replace(/^\[(.*)\]$/, '$1'), port: port === '' ? 1883 : Number(port) }
}

/** A SUBSCRIBE to send once the CONNACK is in, and the exact SUBACK bytes that must answer it. */
export interface RawSubscription {
  readonly subscribe: Buffer
  readonly suback: Buffer
}

/** Why a handshake failed, in few enough distinct words to be counted per reason. */
export class HandshakeError extends Error {}

type Stage = 'connack' | 'suback' | 'open'

/**
 * One MQTT 3.1.1 connection on a raw socket: CONNECT, the exact CONNACK bytes, optionally one
 * SUBSCRIBE and the exact SUBACK bytes; after that it keeps whatever the broker sends until
 * `takePackets` reads it. Once open it holds no timer, so ten thousand of them cost the generator
 * little.
 */
export class RawMqttClient {
  private buffered: Buffer = EMPTY
  private stage: Stage = 'connack'
  private ending = false
  /** The broker closed the connection (or it failed) after the handshake, before `end`. */
  closedByPeer = false
  readonly closed: Promise<void>

  private constructor(
    private readonly socket: Socket,
    private readonly subscription: RawSubscription | undefined
  ) {
    this.closed = new Promise(resolve => socket.once('close', () => resolve()))
  }

  /** Resolves once the handshake is complete; rejects with a HandshakeError and destroys the socket otherwise. */
  static open(endpoint: RawEndpoint, connect: Buffer, subscription: RawSubscription | undefined, timeoutMs: number): Promise<RawMqttClient> {
    const socket = createConnection({ host: endpoint.host, port: endpoint.port, noDelay: true })
    const client = new RawMqttClient(socket, subscription)
    return new Promise((resolve, reject) => {
      let errorCode: string | undefined
      const fail = (reason: string): void => {
        clearTimeout(timer)
        socket.destroy()
        reject(new HandshakeError(reason))
      }
      const timer = setTimeout(() => fail(`no ${client.stage.toUpperCase()} within ${timeoutMs} ms`), timeoutMs)
      socket.once('connect', () => socket.write(connect))
      socket.on('error', (err: NodeJS.ErrnoException) => (errorCode ??= err.code ?? err.message))
      socket.once('close', () => {
        if (client.stage !== 'open') fail(errorCode === undefined ? `closed before ${client.stage.toUpperCase()}` : `socket error ${errorCode}`)
        else if (!client.ending) client.closedByPeer = true
      })
      socket.on('data', (chunk: Buffer) => {
        client.append(chunk)
        if (client.stage === 'open') return
        const outcome = client.advance()
        if (outcome === 'open') {
          clearTimeout(timer)
          resolve(client)
        } else if (outcome !== 'waiting') {
          fail(outcome)
        }
      })
    })
  }

  get isOpen(): boolean {
    return !this.socket.destroyed && !this.closedByPeer
  }

  /** The complete packets received since the last call. */
  takePackets(): Buffer[] {
    const { packets, rest } = splitPackets(this.buffered)
    this.buffered = rest.length === 0 ? EMPTY : rest
    return packets
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes)
  }

  /** DISCONNECT, then the socket is closed from this side. */
  end(): Promise<void> {
    this.ending = true
    if (!this.socket.destroyed) this.socket.end(DISCONNECT)
    return this.closed
  }

  destroy(): void {
    this.ending = true
    this.socket.destroy()
  }

  private append(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk])
  }

  /** Moves the handshake on with what has arrived: 'waiting', 'open', or why it failed. */
  private advance(): string {
    if (this.stage === 'connack') {
      if (this.buffered.length < CONNACK_ACCEPTED.length) return 'waiting'
      const connack = this.consume(CONNACK_ACCEPTED.length)
      if (!connack.equals(CONNACK_ACCEPTED)) return `CONNACK ${connack.toString('hex')}`
      if (this.subscription === undefined) {
        this.stage = 'open'
        return 'open'
      }
      this.stage = 'suback'
      this.socket.write(this.subscription.subscribe)
    }
    if (this.subscription === undefined || this.buffered.length < this.subscription.suback.length) return 'waiting'
    const suback = this.consume(this.subscription.suback.length)
    if (!suback.equals(this.subscription.suback)) return `SUBACK ${suback.toString('hex')}`
    this.stage = 'open'
    return 'open'
  }

  private consume(bytes: number): Buffer {
    const head = this.buffered.subarray(0, bytes)
    this.buffered = this.buffered.length === bytes ? EMPTY : this.buffered.subarray(bytes)
    return head
  }
}
