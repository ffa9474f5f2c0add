// The client side of SCRAM-SHA-256 (RFC 5802 / RFC 7677, no channel binding), written apart from the
// server's code so that a shared mistake cannot pass the tests. With mqtt.js:
//
//   const scram = new ScramClient({ username: 'alice', password: 'wonderland' })
//   const client = mqtt.connect(url, { protocolVersion: 5, properties: {
//     authenticationMethod: 'SCRAM-SHA-256', authenticationData: scram.clientFirst() } })
//   client.handleAuth = scramHandleAuth(scram)
//   client.on('connect', connack => scram.verifyServerFinal(connack.properties?.authenticationData))
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto'
import type { MqttClient } from 'mqtt'

export interface ScramClientOptions {
  username: string
  password: string
  /** Default 18 random bytes, base64. */
  nonce?: string
  /** Default 'n,,'; 'y,,' and 'p=...' to test the server's answers. */
  gs2Header?: string
}

export class ScramClient {
  private readonly gs2Header: string
  private readonly clientNonce: string
  private readonly bare: string
  private serverSignature: Buffer | undefined

  constructor(private readonly options: ScramClientOptions) {
    this.gs2Header = options.gs2Header ?? 'n,,'
    this.clientNonce = options.nonce ?? randomBytes(18).toString('base64')
    const name = options.username.replace(/=/g, '=3D').replace(/,/g, '=2C')
    this.bare = `n=${name},r=${this.clientNonce}`
  }

  clientFirst(): Buffer {
    return Buffer.from(this.gs2Header + this.bare, 'utf8')
  }

  /** The client-final-message answering `serverFirst`; throws when serverFirst is not a valid answer. */
  clientFinal(serverFirst: Buffer | undefined): Buffer {
    const text = serverFirst?.toString('utf8') ?? ''
    const m = /^r=([^,]+),s=([A-Za-z0-9+/=]+),i=([0-9]+)(,.*)?$/.exec(text)
    if (m === null) throw new Error(`scram client: server-first-message malformed: ${JSON.stringify(text)}`)
    const [, nonce = '', salt = '', iterations = ''] = m
    if (!nonce.startsWith(this.clientNonce) || nonce === this.clientNonce) {
      throw new Error('scram client: server nonce does not extend the client nonce')
    }
    const saltedPassword = pbkdf2Sync(this.options.password, Buffer.from(salt, 'base64'), Number(iterations), 32, 'sha256')
    const clientKey = hmac(saltedPassword, 'Client Key')
    const storedKey = createHash('sha256').update(clientKey).digest()
    const withoutProof = `c=${Buffer.from(this.gs2Header, 'utf8').toString('base64')},r=${nonce}`
    const authMessage = `${this.bare},${text},${withoutProof}`
    const clientSignature = hmac(storedKey, authMessage)
    const proof = Buffer.from(clientKey.map((b, i) => b ^ (clientSignature[i] as number)))
    this.serverSignature = hmac(hmac(saltedPassword, 'Server Key'), authMessage)
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8')
  }

  /** True when `serverFinal` is v=<the ServerSignature this client expects>: the server knew the key. */
  verifyServerFinal(serverFinal: Buffer | undefined): boolean {
    const m = /^v=([A-Za-z0-9+/=]+)$/.exec(serverFinal?.toString('utf8') ?? '')
    if (m === null || this.serverSignature === undefined) return false
    const given = Buffer.from(m[1] as string, 'base64')
    return given.length === this.serverSignature.length && timingSafeEqual(given, this.serverSignature)
  }
}

/**
 * An mqtt.js `client.handleAuth` answering the server-first AUTH 0x18 with the client-final. On a
 * re-authentication (the client sends AUTH 0x19 with a new ScramClient's clientFirst) the server ends
 * with AUTH 0x00 carrying the server-final, which is verified here (mqtt.js hands that AUTH over too).
 */
export function scramHandleAuth(scram: ScramClient): MqttClient['handleAuth'] {
  return (packet, cb) => {
    if (packet.reasonCode === 0x00) {
      if (scram.verifyServerFinal(packet.properties?.authenticationData)) cb()
      else cb(new Error('scram client: the server-final-message of AUTH 0x00 does not verify'))
      return
    }
    try {
      const data = scram.clientFinal(packet.properties?.authenticationData)
      cb(undefined, { cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'SCRAM-SHA-256', authenticationData: data } })
    } catch (err) {
      cb(err as Error)
    }
  }
}

function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest()
}
