import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Metrics } from '../core/metrics.ts'

export interface AdminState {
  ready(): boolean
  overview(): Record<string, unknown>
  connections(): Array<Record<string, unknown>>
}

export type AdminRoute = (req: IncomingMessage, res: ServerResponse) => void

// Admin HTTP: health for orchestrators, Prometheus metrics, and a JSON API shaped like RabbitMQ's
// management API so existing dashboards and scripts find familiar fields. extraRoutes mounts more GET
// resources (the live page) without this file knowing them.
export function createAdminServer (metrics: Metrics, state: AdminState, extraRoutes: Record<string, AdminRoute> = {}): Server {
  const routes: Record<string, AdminRoute> = {
    ...extraRoutes,
    '/healthz': (_req, res) => sendJson(res, 200, { status: 'ok' }),
    '/readyz': (_req, res) => state.ready() ? sendJson(res, 200, { status: 'ready' }) : sendJson(res, 503, { status: 'starting' }),
    '/metrics': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
      res.end(metrics.renderPrometheus())
    },
    '/api/overview': (_req, res) => sendJson(res, 200, state.overview()),
    '/api/connections': (_req, res) => sendJson(res, 200, state.connections())
  }
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    const route = routes[path]
    if (req.method !== 'GET' && req.method !== 'HEAD') { sendJson(res, 405, { error: 'method_not_allowed', reason: `${req.method} is not supported here` }); return }
    if (!route) { sendJson(res, 404, { error: 'not_found', reason: `no admin resource at ${path}` }); return }
    route(req, res)
  })
}

function sendJson (res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}
