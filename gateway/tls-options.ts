// TLS of every listener from its config section: the certificate and key, client certificates
// required and verified when a CA is given, a lowest protocol version, and a handshake deadline.
// Certificates are read again on SIGHUP (CertificateReloader): new connections get the new ones,
// open connections keep theirs.
import { readFileSync } from 'node:fs'
import type { Server as TlsServer, TlsOptions, SecureContextOptions } from 'node:tls'
import type { TlsListenerConfig } from '../edge-config/config-types.ts'

export function tlsEnabled(t: TlsListenerConfig): boolean {
  return t.certFile !== null && t.keyFile !== null
}

/** The certificate files and the version floor: what a secure context is made of (and remade on reload). */
export function secureContextOptions(t: TlsListenerConfig, listener: string): SecureContextOptions {
  const read = (file: string, what: string): Buffer => {
    try {
      return readFileSync(file)
    } catch (err) {
      throw new Error(`tls ${listener}: read ${what} ${file}: ${(err as Error).message}`)
    }
  }
  if (t.certFile === null || t.keyFile === null) throw new Error(`tls ${listener}: no certFile and keyFile`)
  const opts: SecureContextOptions = { cert: read(t.certFile, 'certFile'), key: read(t.keyFile, 'keyFile'), minVersion: t.minVersion }
  if (t.caFile !== null) opts.ca = read(t.caFile, 'caFile')
  return opts
}

/** Server options: with a CA, a client without a certificate signed by it is refused in the handshake. */
export function tlsServerOptions(t: TlsListenerConfig, listener: string, handshakeTimeoutMs: number): TlsOptions {
  const clientCerts = t.caFile !== null
  return { ...secureContextOptions(t, listener), requestCert: clientCerts, rejectUnauthorized: clientCerts, handshakeTimeout: handshakeTimeoutMs }
}

export interface ReloadOutcome {
  readonly listener: string
  readonly error?: string
}

/** The TLS servers whose certificates SIGHUP reloads. */
export class CertificateReloader {
  private readonly servers: Array<{ listener: string; server: TlsServer; config: TlsListenerConfig }> = []

  add(listener: string, server: TlsServer, config: TlsListenerConfig): void {
    this.servers.push({ listener, server, config })
  }

  get size(): number {
    return this.servers.length
  }

  /**
   * Reads every listener's files again and swaps its secure context; a listener whose files do not
   * load keeps the certificates it had.
   */
  reload(): ReloadOutcome[] {
    return this.servers.map(({ listener, server, config }) => {
      try {
        server.setSecureContext(secureContextOptions(config, listener))
        return { listener }
      } catch (err) {
        return { listener, error: (err as Error).message }
      }
    })
  }
}
