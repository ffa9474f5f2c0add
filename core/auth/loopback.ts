// Whether a peer address is this machine's loopback interface (IPv4 127/8, IPv6 ::1, IPv4-mapped 127/8).
export function isLoopback(address: string | null | undefined): boolean {
  if (address === undefined || address === null) return false
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.')
}

/** Whether a bind address accepts only loopback peers (so an anonymous listener on it is not exposed). */
export function isLoopbackBind(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.')
}
