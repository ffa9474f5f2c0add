// SCRAM-SHA-256 credentials (RFC 5802 §3, RFC 7677) and their stored form, RFC 5803:
//   SCRAM-SHA-256$<iterations>:<salt base64>$<StoredKey base64>:<ServerKey base64>
// The server keeps StoredKey and ServerKey only: they verify a client proof and sign the server's
// answer, but do not give the password (nor log in without an eavesdropped exchange).
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto'
import { parseCanonicalBase64 as parseBase64 } from './canonical-base64.ts'

export interface ScramCredentials {
  iterations: number
  salt: Buffer
  storedKey: Buffer
  serverKey: Buffer
}

export const scramIterationsDefault = 4096
// RFC 7677 §4: at least 4096. The upper bound keeps a client's PBKDF2 (and `wharf passwd`) in seconds.
export const scramIterationsMin = 4096
export const scramIterationsMax = 10_000_000
export const scramSaltBytes = 16
const saltBytesMin = 8
const saltBytesMax = 128
const keyBytes = 32
const prefix = 'SCRAM-SHA-256$'

/**
 * SaltedPassword = Hi(password, salt, i); StoredKey = H(HMAC(SaltedPassword, "Client Key"));
 * ServerKey = HMAC(SaltedPassword, "Server Key"). The password is used as its UTF-8 bytes without
 * SASLprep, which is the identity for printable ASCII; a non-ASCII password may not match a client
 * that normalizes it.
 */
export function scramCredentialsFor(password: string, salt: Buffer, iterations: number): ScramCredentials {
  const saltedPassword = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, keyBytes, 'sha256')
  const clientKey = hmacSha256(saltedPassword, 'Client Key')
  return {
    iterations,
    salt: Buffer.from(salt),
    storedKey: sha256(clientKey),
    serverKey: hmacSha256(saltedPassword, 'Server Key')
  }
}

/** Fresh credentials with a random salt, as `wharf passwd --scram` prints them. */
export function newScramCredentials(password: string, iterations = scramIterationsDefault): ScramCredentials {
  return scramCredentialsFor(password, randomBytes(scramSaltBytes), iterations)
}

export function formatScramCredentials(c: ScramCredentials): string {
  return `${prefix}${c.iterations}:${c.salt.toString('base64')}$${c.storedKey.toString('base64')}:${c.serverKey.toString('base64')}`
}

/** The RFC 5803 string parsed; null when malformed or outside the supported bounds (never throws). */
export function parseScramCredentials(encoded: string): ScramCredentials | null {
  if (!encoded.startsWith(prefix)) return null
  const parts = encoded.slice(prefix.length).split('$')
  if (parts.length !== 2) return null
  const [iterText, saltText, ...restA] = (parts[0] as string).split(':')
  const [storedText, serverText, ...restB] = (parts[1] as string).split(':')
  if (restA.length > 0 || restB.length > 0) return null
  const iterations = iterText !== undefined && /^[1-9][0-9]{0,8}$/.test(iterText) ? Number(iterText) : null
  const salt = parseBase64(saltText)
  const storedKey = parseBase64(storedText)
  const serverKey = parseBase64(serverText)
  if (iterations === null || salt === null || storedKey === null || serverKey === null) return null
  if (iterations < scramIterationsMin || iterations > scramIterationsMax) return null
  if (salt.length < saltBytesMin || salt.length > saltBytesMax) return null
  if (storedKey.length !== keyBytes || serverKey.length !== keyBytes) return null
  return { iterations, salt, storedKey, serverKey }
}

export function isScramCredentials(s: unknown): boolean {
  return typeof s === 'string' && parseScramCredentials(s) !== null
}

export function hmacSha256(key: Buffer, data: string | Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest()
}

export function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest()
}
