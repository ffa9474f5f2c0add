import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Metrics } from '../core/metrics.ts'
import type { QueueInfo } from './queue-listing.ts'

export interface AdminState {
  ready(): boolean
  overview(): Record<string, unknown>
  connections(): Array<Record<string, unknown>>
  queues(): QueueInfo[]
  /** Cold tier: object store, upload backlog and errors, block cache, disk watermark. */
  tiering(): Record<string, unknown> | null
}

export type AdminRoute = (req: IncomingMessage, res: ServerResponse) => void

// Admin HTTP: health for orchestrators, Prometheus metrics, and a JSON API shaped like RabbitMQ's
// management API so existing dashboards and scripts find familiar fields. extraRoutes mounts more GET
// resources (the live page) without this file knowing them.
export function createAdminServer (metrics: Metrics, state: AdminState, extraRoutes: Record<string, AdminRoute> = {}): Server {
  return createServer(adminRequestHandler(metrics, state, extraRoutes))
}

/** The admin API as a request handler, for the plain and the TLS (admin.tls) listener alike. */
export function adminRequestHandler (metrics: Metrics, state: AdminState, extraRoutes: Record<string, AdminRoute> = {}): AdminRoute {
  const routes: Record<string, AdminRoute> = {
    ...extraRoutes,
    '/healthz': (_req, res) => sendJson(res, 200, { status: 'ok' }),
    '/readyz': (_req, res) => state.ready() ? sendJson(res, 200, { status: 'ready' }) : sendJson(res, 503, { status: 'starting' }),
    '/metrics': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
      res.end(metrics.renderPrometheus())
    },
    '/api/overview': (_req, res) => sendJson(res, 200, state.overview()),
    '/api/connections': (_req, res) => sendJson(res, 200, state.connections()),
    '/api/tiering': (_req, res) => { const t = state.tiering(); if (t === null) sendJson(res, 503, { error: 'starting' }); else sendJson(res, 200, t) }
  }
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    if (req.method !== 'GET' && req.method !== 'HEAD') { sendJson(res, 405, { error: 'method_not_allowed', reason: `${req.method} is not supported here` }); return }
    if (path === '/api/queues' || path.startsWith('/api/queues/')) { sendQueues(res, path, state); return }
    const route = routes[path]
    if (!route) { sendJson(res, 404, { error: 'not_found', reason: `no admin resource at ${path}` }); return }
    route(req, res)
  }
}

/** /api/queues, /api/queues/{vhost}, /api/queues/{vhost}/{name}: URL-encoded, as RabbitMQ ('/' is %2F). */
function sendQueues (res: ServerResponse, path: string, state: AdminState): void {
  const parts = path.slice('/api/queues'.length).split('/').filter(p => p !== '')
  let names: string[]
  try { names = parts.map(p => decodeURIComponent(p)) } catch { sendJson(res, 400, { error: 'bad_request', reason: `malformed URL encoding in ${path}` }); return }
  const [vhost, name, ...rest] = names
  if (rest.length > 0) { sendJson(res, 404, { error: 'not_found', reason: `no admin resource at ${path}` }); return }
  const queues = state.queues().filter(q => vhost === undefined || q.vhost === vhost)
  if (name === undefined) { sendJson(res, 200, queues); return }
  const q = queues.find(q => q.name === name)
  if (q === undefined) { sendJson(res, 404, { error: 'not_found', reason: `no queue '${name}' in vhost '${vhost ?? ''}'` }); return }
  sendJson(res, 200, q)
}

function sendJson (res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}
