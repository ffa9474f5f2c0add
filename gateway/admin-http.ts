import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Metrics } from '../core/metrics.ts'
import type { AccessControl } from '../core/auth/access-control.ts'
import type { Principal } from '../core/auth/access-types.ts'
import { authorizeAdmin, openPaths, realm } from './admin-auth.ts'

export interface AdminState {
  ready(): boolean
  /** Cold tier: object store, upload backlog and errors, block cache, disk watermark. */
  tiering(): Record<string, unknown> | null
  /** Bridges to cloud brokers: state, backlog, counts and rates (adapters/bridge/bridge-status.ts). */
  bridges(): Array<{ name: string }>
}

export type AdminRoute = (req: IncomingMessage, res: ServerResponse) => void

/** Resources that take other methods than GET (users, vhosts, permissions); true when it answered the request. */
export type AdminApi = (req: IncomingMessage, res: ServerResponse, path: string, principal: Principal) => boolean | Promise<boolean>

export interface AdminOptions {
  /** Logins and tags: every resource but /healthz and /readyz needs HTTP Basic credentials. */
  readonly access: AccessControl
  /** More GET resources (the live page), mounted without this file knowing them. */
  readonly extraRoutes?: Record<string, AdminRoute>
  /** GET resources served without credentials (the console's files, which hold no data). */
  readonly publicRoutes?: Record<string, AdminRoute>
  /** The APIs that answer under /api, asked in order (the management API, the access store's changes). */
  readonly apis?: readonly AdminApi[]
}

// Admin HTTP: health for orchestrators, Prometheus metrics, and the management API compatible with
// RabbitMQ's (gateway/management/), so rabbitmqadmin, dashboards and scripts written for it work.
export function createAdminServer(metrics: Metrics, state: AdminState, opts: AdminOptions): Server {
  return createServer(adminRequestHandler(metrics, state, opts))
}

/** The admin API as a request handler, for the plain and the TLS (admin.tls) listener alike. */
export function adminRequestHandler(metrics: Metrics, state: AdminState, opts: AdminOptions): AdminRoute {
  const extraRoutes = opts.extraRoutes ?? {}
  const routes: Record<string, AdminRoute> = {
    ...extraRoutes,
    ...opts.publicRoutes,
    '/healthz': (_req, res) => sendJson(res, 200, { status: 'ok' }),
    '/readyz': (_req, res) => (state.ready() ? sendJson(res, 200, { status: 'ready' }) : sendJson(res, 503, { status: 'starting' })),
    '/metrics': (_req, res) => {
      metrics.render().then(
        text => {
          res.writeHead(200, { 'content-type': metrics.contentType })
          res.end(text)
        },
        err => sendJson(res, 500, { error: 'internal_error', reason: `metrics: render: ${(err as Error).message}` })
      )
    },
    '/api/tiering': (_req, res) => {
      const t = state.tiering()
      if (t === null) sendJson(res, 503, { error: 'starting' })
      else sendJson(res, 200, t)
    }
  }
  const publicRoutes = opts.publicRoutes ?? {}
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    const open = openPaths.has(path) || ((req.method === 'GET' || req.method === 'HEAD') && publicRoutes[path] !== undefined)
    if (!open) {
      const decision = await authorizeAdmin(opts.access, req, path)
      if (!decision.ok) {
        // A script's request (the console) gets no challenge: the browser would show its own login dialog.
        const scripted = req.headers['x-requested-with'] === 'XMLHttpRequest'
        const headers: Record<string, string> = decision.status === 401 && !scripted ? { 'www-authenticate': `Basic realm="${realm}"` } : {}
        sendJson(res, decision.status, { error: decision.status === 401 ? 'not_authorized' : 'access_refused', reason: decision.reason }, headers)
        return
      }
      for (const api of opts.apis ?? []) if (await api(req, res, path, decision.principal)) return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: 'method_not_allowed', reason: `${req.method} is not supported here` })
      return
    }
    if (path === '/api/bridges' || path.startsWith('/api/bridges/')) {
      sendBridges(res, path, state)
      return
    }
    const route = routes[path]
    if (!route) {
      sendJson(res, 404, { error: 'not_found', reason: `no admin resource at ${path}` })
      return
    }
    route(req, res)
  }
  return (req, res) => {
    serve(req, res).catch(err => {
      if (!res.headersSent) sendJson(res, 500, { error: 'internal_error', reason: `admin http: ${req.method} ${req.url}: ${(err as Error).message}` })
      else res.destroy()
    })
  }
}

/** /api/bridges, /api/bridges/{name} (URL-encoded). */
function sendBridges(res: ServerResponse, path: string, state: AdminState): void {
  const rest = path
    .slice('/api/bridges'.length)
    .split('/')
    .filter(p => p !== '')
  if (rest.length === 0) {
    sendJson(res, 200, state.bridges())
    return
  }
  let name: string
  try {
    name = decodeURIComponent(rest.join('/'))
  } catch {
    sendJson(res, 400, { error: 'bad_request', reason: `malformed URL encoding in ${path}` })
    return
  }
  const bridge = state.bridges().find(b => b.name === name)
  if (bridge === undefined) {
    sendJson(res, 404, { error: 'not_found', reason: `no bridge '${name}'` })
    return
  }
  sendJson(res, 200, bridge)
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}
