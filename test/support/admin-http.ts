// The admin API needs HTTP Basic credentials (but for /healthz and /readyz): tests from loopback log in
// as the built-in guest, an administrator while auth.guest.enabled holds.
export const guestAuthorization = 'Basic ' + Buffer.from('guest:guest').toString('base64')

export function basicAuthorization(username: string, password: string): string {
  return 'Basic ' + Buffer.from(`${username}:${password}`).toString('base64')
}

/** fetch with guest's credentials unless the caller gives an authorization header of its own. */
export function adminFetch(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, headers: { authorization: guestAuthorization, ...(init.headers as Record<string, string> | undefined) } })
}
