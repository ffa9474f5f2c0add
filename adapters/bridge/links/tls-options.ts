// TLS options of a bridge link from its config: files are read at each connect, so a renewed
// certificate is picked up by the next reconnect; a file that cannot be read fails that attempt.
import { readFileSync } from 'node:fs'
import type { BridgeTlsConfig } from '../../../edge-config/config-types.ts'
import { LinkSetupError } from './link.ts'

export interface LinkTlsOptions {
  ca?: Buffer
  cert?: Buffer
  key?: Buffer
  servername?: string
  rejectUnauthorized: boolean
}

export function linkTlsOptions(tls: BridgeTlsConfig, url: URL): LinkTlsOptions {
  const read = (file: string, what: string): Buffer => {
    try {
      return readFileSync(file)
    } catch (err) {
      throw new LinkSetupError(`tls: read ${what} ${file}: ${(err as Error).message}`)
    }
  }
  const out: LinkTlsOptions = { rejectUnauthorized: tls.rejectUnauthorized }
  if (tls.caFile !== null) out.ca = read(tls.caFile, 'tls.caFile')
  if (tls.certFile !== null) out.cert = read(tls.certFile, 'tls.certFile')
  if (tls.keyFile !== null) out.key = read(tls.keyFile, 'tls.keyFile')
  const name = tls.serverName ?? url.hostname
  // SNI takes host names only, not IP addresses.
  if (!/^[\d.]+$/.test(name) && !name.includes(':')) out.servername = name
  return out
}
