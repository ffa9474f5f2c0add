// SCRAM-SHA-256 (RFC 5802, RFC 7677) as an MQTT 5 enhanced authentication method, server side, without
// channel binding. Two steps: client-first -> server-first (AUTH 0x18), client-final -> success
// carrying server-final v=<ServerSignature> (CONNACK 0x00). Usernames and passwords are compared as
// their UTF-8 bytes: SASLprep is skipped, which is the identity for printable ASCII.
//
// An unknown username is answered like a known one: a salt and keys derived from the server secret and
// the name (the same every time, so a second look reveals nothing), the same computations, and the same
// failure at the proof check. Only the onProofChecked hook, on the server side, tells them apart.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { AuthExchange, AuthStartContext, AuthStep, EnhancedAuthMethod } from './auth-method.ts'
import { authReasonCode } from './auth-method.ts'
import { parseClientFinal, parseClientFirst } from './scram-messages.ts'
import { hmacSha256, scramIterationsDefault, scramSaltBytes, sha256, type ScramCredentials } from '../../../core/auth/scram-credentials.ts'

export const scramSha256MethodName = 'SCRAM-SHA-256'

/** A client message longer than this is refused: real ones are a username, a nonce and a proof. */
export const scramClientMessageBytesMax = 4096
const serverNonceBytes = 18
const serverSecretBytesMin = 16

export interface ProofCheckedEvent {
  username: string
  userKnown: boolean
  valid: boolean
}

export interface ScramSha256Options {
  /** The user's credentials, undefined for an unknown user. Synchronous: config or better-sqlite3. */
  credentials: (username: string) => ScramCredentials | undefined
  /**
   * Secret and stable across restarts (at least 16 bytes): unknown users' salts derive from it. A salt
   * that changed at every restart for unknown names only would reveal which names exist.
   */
  serverSecret: Buffer
  /** Announced to unknown users; set it to what real users have. Default 4096 (`wharf passwd --scram`). */
  unknownUserIterations?: number
  /** Server nonce source; tests fix it to replay RFC 7677. Default 18 random bytes, base64. */
  serverNonce?: () => string
  /** Once per proof check, known or unknown user: for logs and metrics, never for the client. Must not throw. */
  onProofChecked?: (event: ProofCheckedEvent) => void
}

export class ScramSha256 implements EnhancedAuthMethod {
  readonly name = scramSha256MethodName
  private readonly options: ScramSha256Options

  constructor(options: ScramSha256Options) {
    if (options.serverSecret.length < serverSecretBytesMin) {
      throw new Error(`${scramSha256MethodName}: server secret of ${options.serverSecret.length} bytes; at least ${serverSecretBytesMin} needed`)
    }
    this.options = options
  }

  start(ctx: AuthStartContext): AuthExchange {
    return new ScramExchange(this.options, ctx)
  }
}

interface Pending {
  username: string
  userKnown: boolean
  credentials: ScramCredentials
  gs2Header: string
  nonce: string
  /** client-first-message-bare "," server-first-message: the first two thirds of AuthMessage. */
  firstMessages: string
}

class ScramExchange implements AuthExchange {
  private state: 'client-first' | 'client-final' | 'done' = 'client-first'
  private pending: Pending | undefined

  constructor(
    private readonly options: ScramSha256Options,
    private readonly ctx: AuthStartContext
  ) {}

  async step(clientData: Buffer | undefined): Promise<AuthStep> {
    const state = this.state
    if (state === 'done') return protocolError('the exchange is over; re-authenticate to start a new one')
    // Each message is used once: only a server-first answer leads on, to the one client-final.
    this.state = 'done'
    const text = decodeClientMessage(clientData)
    if (typeof text !== 'string') return text
    if (state === 'client-final') return this.clientFinal(text)
    const answer = this.clientFirst(text)
    if (answer.kind === 'continue') this.state = 'client-final'
    return answer
  }

  private clientFirst(text: string): AuthStep {
    const parsed = parseClientFirst(text)
    if (!parsed.ok) return protocolError(`client-first-message: ${parsed.problem}`)
    const { username, authzid, gs2Header, clientNonce, bare } = parsed.value
    if (authzid !== undefined && authzid !== username) {
      return failure(authReasonCode.notAuthorized, 'an authorization identity (a=) other than the username is not supported')
    }
    if (this.ctx.username !== undefined && this.ctx.username !== username) {
      return failure(
        authReasonCode.badUserNameOrPassword,
        `the SCRAM username (n=) differs from the User Name of the connection (its user part, after any 'vhost:': '${this.ctx.username}')`
      )
    }
    // Both are computed for every name, so a known and an unknown name cost the same.
    const fake = this.unknownUserCredentials(username)
    let known: ScramCredentials | undefined
    try {
      known = this.options.credentials(username)
    } catch {
      return failure(authReasonCode.unspecifiedError, 'credentials could not be read')
    }
    const credentials = known ?? fake
    const serverNonce = this.options.serverNonce?.() ?? randomBytes(serverNonceBytes).toString('base64')
    const nonce = clientNonce + serverNonce
    const serverFirst = `r=${nonce},s=${credentials.salt.toString('base64')},i=${credentials.iterations}`
    this.pending = { username, userKnown: known !== undefined, credentials, gs2Header, nonce, firstMessages: `${bare},${serverFirst}` }
    return { kind: 'continue', data: Buffer.from(serverFirst, 'utf8') }
  }

  private clientFinal(text: string): AuthStep {
    const pending = this.pending as Pending
    this.pending = undefined
    const parsed = parseClientFinal(text)
    if (!parsed.ok) return protocolError(`client-final-message: ${parsed.problem}`)
    const { channelBinding, nonce, proof, withoutProof } = parsed.value
    if (!channelBinding.equals(Buffer.from(pending.gs2Header, 'utf8'))) {
      return protocolError('client-final-message: c= is not the gs2 header of the client-first-message')
    }
    if (nonce !== pending.nonce) return protocolError('client-final-message: r= is not the nonce of the server-first-message')
    const { storedKey, serverKey } = pending.credentials
    if (proof.length !== storedKey.length) return protocolError(`client-final-message: p= has ${proof.length} bytes, not ${storedKey.length}`)
    const authMessage = `${pending.firstMessages},${withoutProof}`
    const clientSignature = hmacSha256(storedKey, authMessage)
    const clientKey = xor(proof, clientSignature)
    const serverSignature = hmacSha256(serverKey, authMessage)
    const proofMatches = timingSafeEqual(sha256(clientKey), storedKey)
    const valid = proofMatches && pending.userKnown
    this.options.onProofChecked?.({ username: pending.username, userKnown: pending.userKnown, valid })
    // One answer for an unknown user and a wrong password [RFC 5802 §9: do not reveal which].
    if (!valid) return failure(authReasonCode.badUserNameOrPassword, 'authentication failed')
    return { kind: 'success', username: pending.username, data: Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8') }
  }

  private unknownUserCredentials(username: string): ScramCredentials {
    const secret = this.options.serverSecret
    const derive = (purpose: string): Buffer => hmacSha256(secret, `${purpose}\0${username}`)
    return {
      iterations: this.options.unknownUserIterations ?? scramIterationsDefault,
      salt: derive('salt').subarray(0, scramSaltBytes),
      storedKey: derive('stored-key'),
      serverKey: derive('server-key')
    }
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

function decodeClientMessage(data: Buffer | undefined): string | AuthStep {
  if (data === undefined || data.length === 0) return protocolError('no Authentication Data; a SCRAM message was expected')
  if (data.length > scramClientMessageBytesMax) return protocolError(`a SCRAM message of ${data.length} bytes; at most ${scramClientMessageBytesMax}`)
  try {
    return utf8.decode(data)
  } catch {
    return protocolError('Authentication Data is not UTF-8')
  }
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length)
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) ^ (b[i] as number)
  return out
}

function protocolError(reason: string): AuthStep {
  return failure(authReasonCode.protocolError, reason)
}

function failure(reasonCode: number, reason: string): AuthStep {
  return { kind: 'failure', reasonCode, reason: `${scramSha256MethodName}: ${reason}` }
}
