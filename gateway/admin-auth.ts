// Who may use the admin HTTP API: HTTP Basic with Wharf users (the same logins as MQTT and AMQP; guest
// from loopback while it is enabled). Tags decide, as in RabbitMQ's management plugin: monitoring and
// administrator read, administrator writes; any management tag may ask who it is. /healthz and /readyz
// stay open for orchestrators.
import type { IncomingMessage } from 'node:http'
import type { AccessControl } from '../core/auth/access-control.ts'
import type { Principal, UserTag } from '../core/auth/access-types.ts'

export const openPaths: ReadonlySet<string> = new Set(['/healthz', '/readyz'])
export const realm = 'Wharf'

export type AdminDecision = { ok: true; principal: Principal } | { ok: false; status: 401 | 403; reason: string }

const readers: readonly UserTag[] = ['administrator', 'monitoring']
const writers: readonly UserTag[] = ['administrator']

export async function authorizeAdmin(access: AccessControl, req: IncomingMessage, path: string): Promise<AdminDecision> {
  const credentials = basicCredentials(req.headers.authorization)
  if (credentials === null) return { ok: false, status: 401, reason: 'credentials required (HTTP Basic)' }
  const login = await access.login(credentials.username, credentials.password, req.socket.remoteAddress)
  if (!login.ok) return { ok: false, status: 401, reason: login.reason }
  const { principal } = login
  const tags = principal.tags
  const user = credentials.username
  if (path === '/api/whoami') {
    return tags.length > 0 ? { ok: true, principal } : { ok: false, status: 403, reason: `user '${user}' has no management tag` }
  }
  const reading = req.method === 'GET' || req.method === 'HEAD'
  const needed = reading ? readers : writers
  if (!tags.some(t => needed.includes(t))) {
    return { ok: false, status: 403, reason: `user '${user}' may not ${reading ? 'read' : 'change'} ${path}: needs tag ${needed.join(' or ')}` }
  }
  return { ok: true, principal }
}

/** RFC 7617: "Basic " + base64(user ":" password); the user holds no colon, the password may. */
export function basicCredentials(header: string | undefined): { username: string; password: string } | null {
  if (header === undefined) return null
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header)
  if (match === null) return null
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon <= 0) return null
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}
