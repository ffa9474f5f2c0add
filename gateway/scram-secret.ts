// The SCRAM-SHA-256 server secret, from which unknown users' salts derive, lives in
// <dataDir>/scram-secret: random at the first start, then the same across restarts, so that a name
// probed before and after a restart gets the same salt, as a real user does.
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { writeFileDurably } from './durable-file.ts'

export const scramSecretFileName = 'scram-secret'
const secretBytes = 32

/** Reads the secret, creating it (0600, written durably) when absent. Call after the data dir is locked. */
export function loadScramServerSecret(dataDir: string): Buffer {
  const file = join(dataDir, scramSecretFileName)
  let existing: Buffer | undefined
  try {
    existing = readFileSync(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`scram secret: read ${file}: ${(err as Error).message}`)
  }
  if (existing !== undefined) {
    if (existing.length !== secretBytes) {
      throw new Error(`scram secret: ${file} holds ${existing.length} bytes, not ${secretBytes}; delete it to make a new one`)
    }
    return existing
  }
  try {
    return createSecret(dataDir, file)
  } catch (err) {
    throw new Error(`scram secret: create ${file}: ${(err as Error).message}`)
  }
}

function createSecret(dataDir: string, file: string): Buffer {
  const secret = randomBytes(secretBytes)
  writeFileDurably(dataDir, file, secret, 0o600)
  return secret
}
