// Stored credentials accept only canonical base64 (what Buffer#toString('base64') writes), so one
// credential has one spelling and a typo is an error instead of a different key.
export function parseCanonicalBase64(s: string | undefined): Buffer | null {
  if (s === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(s)) return null
  const bytes = Buffer.from(s, 'base64')
  return bytes.toString('base64') === s ? bytes : null
}
