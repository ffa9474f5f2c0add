import { connect as netConnect, type Socket } from 'node:net'
import mqttPacket from 'mqtt-packet'

/** A raw TCP MQTT peer for feeding bytes the real clients would never send. */
export async function rawConnect (port: number, clientId: string, clean = true): Promise<{ socket: Socket, closed: Promise<void>, received: Buffer[] }> {
  const socket = netConnect(port, '127.0.0.1')
  const received: Buffer[] = []
  socket.on('data', d => received.push(d))
  socket.on('error', () => {})
  const closed = new Promise<void>(resolve => socket.once('close', () => resolve()))
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
  socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean, clientId, keepalive: 30 } as mqttPacket.IConnectPacket))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('raw connect: no CONNACK within 5 s')), 5000)
    const check = (): void => { if (Buffer.concat(received).length >= 4) { clearTimeout(timer); socket.off('data', check); resolve() } }
    socket.on('data', check)
    check()
  })
  return { socket, closed, received }
}

/** A PUBLISH packet with the topic given as raw bytes (so it may be ill-formed UTF-8). */
export function publishWithTopicBytes (topic: Buffer, payload: Buffer, qos: 0 | 1 = 0): Buffer {
  const variable = [Buffer.from([topic.length >> 8, topic.length & 0xff]), topic]
  if (qos > 0) variable.push(Buffer.from([0, 1]))
  const body = Buffer.concat([...variable, payload])
  return Buffer.concat([Buffer.from([0x30 | (qos << 1)]), remainingLength(body.length), body])
}

function remainingLength (n: number): Buffer {
  const out: number[] = []
  do {
    let byte = n % 128
    n = Math.floor(n / 128)
    if (n > 0) byte |= 0x80
    out.push(byte)
  } while (n > 0)
  return Buffer.from(out)
}

export function withTimeout<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_resolve, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))])
}
