// The username a verified client certificate carries: its subject's CN (Mosquitto's
// use_identity_as_username, RabbitMQ's ssl_cert_login_from = common_name), or its first subject
// alternative name (RabbitMQ's subject_alternative_name: the first DNS name, else the first e-mail
// address, else the first URI).
import type { PeerCertificate } from 'node:tls'

export type CertificateIdentitySource = 'commonName' | 'subjectAltName'

/** What a listener that names users by certificate hands a connection: the source and what the verified certificate says (null: nothing of that kind). */
export interface CertificateIdentity {
  readonly source: CertificateIdentitySource
  readonly username: string | null
}

/** The identity, or null when the certificate has none of that kind. */
export function certificateUsername(cert: PeerCertificate | Record<string, never> | null | undefined, from: CertificateIdentitySource): string | null {
  if (cert === null || cert === undefined || !('subject' in cert)) return null
  if (from === 'commonName') {
    const cn = (cert.subject as unknown as Record<string, string | string[] | undefined>).CN
    const first = Array.isArray(cn) ? cn[0] : cn
    return first === undefined || first === '' ? null : first
  }
  const names = parseSubjectAltName(cert.subjectaltname ?? '')
  for (const kind of ['DNS', 'email', 'URI']) {
    const name = names.find(n => n.kind === kind)
    if (name !== undefined && name.value !== '') return name.value
  }
  return null
}

/** Node's subjectaltname text, e.g. `DNS:a.example, email:x@y, URI:spiffe://t/w`; quoted values as Node writes them. */
export function parseSubjectAltName(text: string): Array<{ kind: string; value: string }> {
  const out: Array<{ kind: string; value: string }> = []
  const re = /([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:,\s*|$)/g
  for (const m of text.matchAll(re)) {
    const kind = (m[1] as string).trim()
    let value = m[2] as string
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string
      } catch {
        continue
      }
    }
    out.push({ kind, value })
  }
  return out
}
