// Password hashes for auth.users: scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>, as `wharf passwd` prints them;
// also RabbitMQ's own (rabbit-password-hash.ts), which users imported from a RabbitMQ definitions file carry.
import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto'
import { parseCanonicalBase64 as parseBase64 } from './canonical-base64.ts'
import { isRabbitStoredHash, verifyRabbitHash } from './rabbit-password-hash.ts'

const costN = 16384
const blockSizeR = 8
const parallelP = 1
const saltBytes = 16
const keyBytes = 32

// Bounds on what a stored hash may ask for, so verification per CONNECT stays cheap and never throws.
const costNMax = 1 << 20
const blockSizeRMax = 32
const parallelPMax = 16
const scryptMemoryBytesMax = 256 * 1024 * 1024
const saltBytesMin = 8
const keyBytesMin = 16
const keyBytesMax = 64

interface ScryptHash {
  N: number
  r: number
  p: number
  salt: Buffer
  hash: Buffer
}

/**
 * What a login of a user that does not exist is checked against: a hash with the parameters
 * `wharf passwd` uses, which no password matches, so that login costs what a known user's does.
 */
export const UNKNOWN_USER_HASH = [
  'scrypt',
  costN,
  blockSizeR,
  parallelP,
  randomBytes(saltBytes).toString('base64'),
  randomBytes(keyBytes).toString('base64')
].join('$')

export function hashPassword(password: string): string {
  const salt = randomBytes(saltBytes)
  const hash = derive(password, { N: costN, r: blockSizeR, p: parallelP, salt }, keyBytes)
  return ['scrypt', costN, blockSizeR, parallelP, salt.toString('base64'), hash.toString('base64')].join('$')
}

/** Constant-time comparison; a malformed or unsupported hash never matches. */
export function verifyPassword(password: string, encoded: string): boolean {
  if (isRabbitStoredHash(encoded)) return verifyRabbitHash(password, encoded)
  const parsed = parsePasswordHash(encoded)
  if (!parsed) return false
  try {
    return timingSafeEqual(derive(password, parsed, parsed.hash.length), parsed.hash)
  } catch {
    return false
  }
}

/**
 * verifyPassword on libuv's thread pool: one scrypt costs ~30 ms of CPU, which must not stall the
 * event loop for every other connection while a device authenticates.
 */
export function verifyPasswordAsync(password: string, encoded: string): Promise<boolean> {
  if (isRabbitStoredHash(encoded)) return Promise.resolve(verifyRabbitHash(password, encoded))
  const parsed = parsePasswordHash(encoded)
  if (!parsed) return Promise.resolve(false)
  const { N, r, p, salt, hash } = parsed
  return new Promise(resolve => {
    scrypt(password, salt, hash.length, { N, r, p, maxmem: memoryBytes(N, r) + 1024 * 1024 }, (err, derived) => {
      resolve(!err && timingSafeEqual(derived, hash))
    })
  })
}

/** True if `s` is a well-formed scrypt hash within the supported parameter bounds, or a stored RabbitMQ hash. */
export function isPasswordHash(s: unknown): boolean {
  return typeof s === 'string' && (parsePasswordHash(s) !== null || isRabbitStoredHash(s))
}

function derive(password: string, params: Omit<ScryptHash, 'hash'>, length: number): Buffer {
  const { N, r, p, salt } = params
  return scryptSync(password, salt, length, { N, r, p, maxmem: memoryBytes(N, r) + 1024 * 1024 })
}

// scrypt needs about 128 * N * r bytes.
function memoryBytes(N: number, r: number): number {
  return 128 * N * r
}

function parsePasswordHash(encoded: string): ScryptHash | null {
  const parts = encoded.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null
  const N = parseDecimal(parts[1])
  const r = parseDecimal(parts[2])
  const p = parseDecimal(parts[3])
  const salt = parseBase64(parts[4])
  const hash = parseBase64(parts[5])
  if (N === null || r === null || p === null || salt === null || hash === null) return null
  const powerOfTwo = (N & (N - 1)) === 0
  if (N < 2 || N > costNMax || !powerOfTwo) return null
  if (r < 1 || r > blockSizeRMax || p < 1 || p > parallelPMax) return null
  if (memoryBytes(N, r) > scryptMemoryBytesMax) return null
  if (salt.length < saltBytesMin || hash.length < keyBytesMin || hash.length > keyBytesMax) return null
  return { N, r, p, salt, hash }
}

function parseDecimal(s: string | undefined): number | null {
  if (s === undefined || !/^[1-9][0-9]{0,8}$/.test(s)) return null
  return Number(s)
}
