// RabbitMQ's password hashes, so users imported from a RabbitMQ definitions file keep their passwords:
// base64(salt(4 bytes) ++ H(salt ++ UTF-8 password)) with H per hashing_algorithm (rabbit_password_hashing_
// sha256, RabbitMQ's default since 3.6, sha512, md5). Stored as "<hashing_algorithm>$<base64>". These are
// fast hashes: a login against one costs far less than scrypt, which is why `wharf passwd` never makes them.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { parseCanonicalBase64 } from './canonical-base64.ts'

const digests = {
  rabbit_password_hashing_sha256: 'sha256',
  rabbit_password_hashing_sha512: 'sha512',
  rabbit_password_hashing_md5: 'md5'
} as const

export type RabbitHashingAlgorithm = keyof typeof digests

const saltBytes = 4

export function isRabbitHashingAlgorithm(name: unknown): name is RabbitHashingAlgorithm {
  return typeof name === 'string' && Object.hasOwn(digests, name)
}

/** The stored form of a RabbitMQ password_hash, or null when it is not one of that algorithm. */
export function rabbitStoredHash(algorithm: RabbitHashingAlgorithm, passwordHash: string): string | null {
  const stored = `${algorithm}$${passwordHash}`
  return parseRabbitHash(stored) === null ? null : stored
}

export function isRabbitStoredHash(s: string): boolean {
  return parseRabbitHash(s) !== null
}

export function verifyRabbitHash(password: string, stored: string): boolean {
  const parsed = parseRabbitHash(stored)
  if (parsed === null) return false
  const derived = digest(parsed.algorithm, parsed.salt, password)
  return derived.length === parsed.hash.length && timingSafeEqual(derived, parsed.hash)
}

/** A hash as RabbitMQ makes it (tests, and what rabbitmqctl hash_password prints). */
export function rabbitHash(password: string, algorithm: RabbitHashingAlgorithm = 'rabbit_password_hashing_sha256', salt = randomBytes(saltBytes)): string {
  return Buffer.concat([salt, digest(algorithm, salt, password)]).toString('base64')
}

function digest(algorithm: RabbitHashingAlgorithm, salt: Buffer, password: string): Buffer {
  return createHash(digests[algorithm]).update(salt).update(password, 'utf8').digest()
}

function parseRabbitHash(stored: string): { algorithm: RabbitHashingAlgorithm; salt: Buffer; hash: Buffer } | null {
  const dollar = stored.indexOf('$')
  if (dollar < 0) return null
  const algorithm = stored.slice(0, dollar)
  if (!isRabbitHashingAlgorithm(algorithm)) return null
  const bytes = parseCanonicalBase64(stored.slice(dollar + 1))
  const hashBytes = createHash(digests[algorithm]).digest().length
  if (bytes === null || bytes.length !== saltBytes + hashBytes) return null
  return { algorithm, salt: bytes.subarray(0, saltBytes), hash: bytes.subarray(saltBytes) }
}
