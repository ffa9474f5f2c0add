// Password checks of logins (MQTT CONNECT, AMQP PLAIN/AMQPLAIN). One scrypt costs ~30 ms of CPU, so
// a reconnect storm of known devices would be a CPU storm: a verified password is remembered per user
// as an HMAC under a key that exists only in this process, over the stored hash and the password, and
// the user's next login with it costs one HMAC. A changed hash changes the HMAC, so a changed
// password is never accepted from memory. Every other outcome costs one full scrypt, a user that does
// not exist included (against UNKNOWN_USER_HASH): a refusal takes the same time whoever is refused.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { UNKNOWN_USER_HASH, verifyPasswordAsync } from './password-hash.ts'

export interface VerifierStats {
  /** Logins accepted from memory. */
  hits: number
  /** Full scrypt checks run (unknown users and refusals included). */
  scrypts: number
}

export class PasswordVerifier {
  private readonly key = randomBytes(32)
  /** username → HMAC of the last verified (hash, password); Map order is least recently used first. */
  private readonly remembered = new Map<string, Buffer>()
  readonly stats: VerifierStats = { hits: 0, scrypts: 0 }

  /** entriesMax users are remembered at most (least recently used forgotten first); 0 remembers none. */
  constructor(private readonly entriesMax: number) {}

  /** True when `password` is the one `encodedHash` was made from; encodedHash undefined = no such user. */
  async verify(username: string, password: string, encodedHash: string | undefined): Promise<boolean> {
    if (encodedHash === undefined) {
      this.stats.scrypts++
      await verifyPasswordAsync(password, UNKNOWN_USER_HASH)
      return false
    }
    const mac = this.mac(encodedHash, password)
    const seen = this.remembered.get(username)
    if (seen !== undefined && timingSafeEqual(seen, mac)) {
      this.stats.hits++
      this.remembered.delete(username) // most recently used last
      this.remembered.set(username, mac)
      return true
    }
    this.stats.scrypts++
    const ok = await verifyPasswordAsync(password, encodedHash)
    if (ok) this.remember(username, mac)
    return ok
  }

  /** Forget a user (deleted, or its password changed): its next login runs scrypt. */
  forget(username: string): void {
    this.remembered.delete(username)
  }

  get size(): number {
    return this.remembered.size
  }

  private remember(username: string, mac: Buffer): void {
    if (this.entriesMax === 0) return
    this.remembered.delete(username)
    this.remembered.set(username, mac)
    while (this.remembered.size > this.entriesMax) {
      const oldest = this.remembered.keys().next().value as string
      this.remembered.delete(oldest)
    }
  }

  private mac(encodedHash: string, password: string): Buffer {
    return createHmac('sha256', this.key).update(encodedHash).update('\0').update(password, 'utf8').digest()
  }
}
