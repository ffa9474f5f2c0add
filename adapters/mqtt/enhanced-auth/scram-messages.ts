// The two SCRAM messages a client sends (RFC 5802 §7), parsed without throwing: a problem is a string
// the exchange turns into a failure. Attribute values never contain ',' (names escape it as =2C, the
// rest is base64 or printable without ','), so splitting on ',' is exact.
import { parseCanonicalBase64 } from '../../../core/auth/canonical-base64.ts'

export interface ClientFirst {
  /** 'n,,' or 'y,,' (with a=<authzid> between the commas if given), echoed back in c= of client-final. */
  gs2Header: string
  /** authzid of the gs2 header, unescaped; undefined when absent. */
  authzid: string | undefined
  /** n= unescaped. */
  username: string
  /** r= */
  clientNonce: string
  /** client-first-message-bare: the part that enters AuthMessage. */
  bare: string
}

export interface ClientFinal {
  /** c= decoded: the gs2 header (no channel binding data, as none is supported). */
  channelBinding: Buffer
  /** r= */
  nonce: string
  /** p= decoded */
  proof: Buffer
  /** client-final-message-without-proof: the part that enters AuthMessage. */
  withoutProof: string
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string }

// printable = %x21-2B / %x2D-7E: visible ASCII without ','.
const printable = /^[\x21-\x2b\x2d-\x7e]+$/
// value-safe-char is any UTF-8 but NUL, ',' and '='; '=' only as =2C or =3D.
const saslName = /^(?:[^\0,=]|=2C|=3D)+$/

export function parseClientFirst(text: string): Parsed<ClientFirst> {
  const first = text.indexOf(',')
  const second = first < 0 ? -1 : text.indexOf(',', first + 1)
  if (second < 0) return problem('no gs2 header (expected n,, or y,, before the message)')
  const flag = text.slice(0, first)
  if (flag.startsWith('p=')) return problem(`channel binding (${flag}) is not supported; use the gs2 header n,,`)
  if (flag !== 'n' && flag !== 'y') return problem(`gs2 header flag must be n or y, not '${flag}'`)
  const authzidField = text.slice(first + 1, second)
  let authzid: string | undefined
  if (authzidField !== '') {
    authzid = authzidField.startsWith('a=') ? (decodeSaslName(authzidField.slice(2)) ?? undefined) : undefined
    if (authzid === undefined) return problem('gs2 header authzid must be a=<saslname>')
  }
  const bare = text.slice(second + 1)
  const attrs = bare.split(',')
  if (attrs[0]?.startsWith('m=') === true) return problem('mandatory extension m= is not supported')
  const username = attrs[0]?.startsWith('n=') === true ? decodeSaslName(attrs[0].slice(2)) : null
  if (username === null) return problem('n=<username> must come first, with "," and "=" written as =2C and =3D')
  const clientNonce = attrs[1]?.startsWith('r=') === true ? attrs[1].slice(2) : ''
  if (!printable.test(clientNonce)) return problem('r=<nonce> must follow the username, printable ASCII without ","')
  if (!attrs.slice(2).every(isExtension)) return problem('extensions after r= must be <letter>=<value>')
  return { ok: true, value: { gs2Header: text.slice(0, second + 1), authzid, username, clientNonce, bare } }
}

export function parseClientFinal(text: string): Parsed<ClientFinal> {
  const lastComma = text.lastIndexOf(',')
  const attrs = text.split(',')
  const channelBinding = attrs[0]?.startsWith('c=') === true ? parseCanonicalBase64(attrs[0].slice(2)) : null
  if (channelBinding === null) return problem('c=<base64 of the gs2 header> must come first')
  const nonce = attrs[1]?.startsWith('r=') === true ? attrs[1].slice(2) : ''
  if (!printable.test(nonce)) return problem('r=<nonce> must follow c=')
  const last = attrs.length > 2 ? (attrs[attrs.length - 1] as string) : ''
  const proof = last.startsWith('p=') ? parseCanonicalBase64(last.slice(2)) : null
  if (proof === null) return problem('p=<base64 proof> must come last')
  if (!attrs.slice(2, -1).every(isExtension)) return problem('extensions between r= and p= must be <letter>=<value>')
  return { ok: true, value: { channelBinding, nonce, proof, withoutProof: text.slice(0, lastComma) } }
}

/** saslname unescaped; null when it is empty or has a bare '=', ',' or NUL. */
export function decodeSaslName(s: string): string | null {
  if (!saslName.test(s)) return null
  return s.replace(/=2C|=3D/g, m => (m === '=2C' ? ',' : '='))
}

export function encodeSaslName(s: string): string {
  return s.replace(/[=,]/g, c => (c === ',' ? '=2C' : '=3D'))
}

function isExtension(attr: string): boolean {
  return /^[A-Za-z]=./.test(attr)
}

function problem<T>(text: string): Parsed<T> {
  return { ok: false, problem: text }
}
