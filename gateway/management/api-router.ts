// The management API's one route table: each resource module lists its routes (method and path
// template, `:name` for a URL-encoded segment); this matches a request to one, decodes the names,
// runs the handler and writes its reply. A list reply gets RabbitMQ's sorting, pagination and
// columns (list-query.ts), an object reply its columns; failures become {"error", "reason"}.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Principal } from '../../core/auth/access-types.ts'
import type { AdminApi } from '../admin-http.ts'
import type { ManagementContext } from './management-context.ts'
import { applyColumns, applyListQuery, ListQueryError, type Item } from './list-query.ts'
import { ApiError, errorReply } from './api-error.ts'
import { readJsonObject } from './http-body.ts'

export type Method = 'GET' | 'PUT' | 'POST' | 'DELETE'

export interface ApiCall {
  readonly req: IncomingMessage
  /** Decoded path names by template name. */
  readonly params: Readonly<Record<string, string>>
  readonly query: URLSearchParams
  readonly principal: Principal
  readonly ctx: ManagementContext
  /** The request's JSON object body; `what` names the operation in errors. */
  body(what: string): Promise<Record<string, unknown>>
}

export type Reply =
  | { readonly kind: 'object'; readonly body: Item; readonly status?: number }
  | { readonly kind: 'list'; readonly items: Item[] }
  | { readonly kind: 'raw'; readonly status: number; readonly body: unknown; readonly headers?: Record<string, string> }
  | { readonly kind: 'empty'; readonly status: 201 | 204; readonly headers?: Record<string, string> }

export type Handler = (call: ApiCall) => Reply | Promise<Reply>

export interface Route {
  readonly method: Method
  /** '/api/queues/:vhost/:name/get' */
  readonly path: string
  readonly handler: Handler
}

export const object = (body: Item): Reply => ({ kind: 'object', body })
export const list = (items: Item[]): Reply => ({ kind: 'list', items })
/** JSON sent as it is (no sorting, pagination or columns). */
export const json = (body: unknown, status = 200): Reply => ({ kind: 'raw', status, body })
export const created: Reply = { kind: 'empty', status: 201 }
export const noContent: Reply = { kind: 'empty', status: 204 }
/** 201 when it was made now, 204 when it was there (RabbitMQ's PUT). */
export const upserted = (made: boolean): Reply => (made ? created : noContent)

interface CompiledRoute extends Route {
  readonly segments: readonly string[]
}

export function managementApi(ctx: ManagementContext, routes: readonly Route[]): AdminApi {
  const compiled: CompiledRoute[] = routes.map(r => ({ ...r, segments: r.path.split('/').filter(s => s !== '') }))
  return async (req, res, path, principal) => {
    const raw = path.split('/').filter(s => s !== '')
    const matching = compiled.filter(r => matches(r.segments, raw))
    const method = req.method === 'HEAD' ? 'GET' : req.method
    const route = matching.find(r => r.method === method)
    // Another API may take this method here (the access store's PUT and DELETE); else admin-http answers 405.
    if (route === undefined) return false
    try {
      const params = decodeParams(route.segments, raw)
      const query = new URL(req.url ?? '/', 'http://admin').searchParams
      const call: ApiCall = { req, params, query, principal, ctx, body: async what => await readJsonObject(req, what) }
      writeReply(res, await route.handler(call), query)
    } catch (err) {
      const reply = err instanceof ListQueryError ? { status: 400, body: { error: 'bad_request', reason: err.message } } : errorReply(err)
      if (reply === undefined) throw err
      send(res, reply.status, reply.body)
    }
    return true
  }
}

function matches(template: readonly string[], raw: readonly string[]): boolean {
  if (template.length !== raw.length) return false
  return template.every((t, i) => t.startsWith(':') || t === raw[i])
}

function decodeParams(template: readonly string[], raw: readonly string[]): Record<string, string> {
  const params: Record<string, string> = {}
  template.forEach((t, i) => {
    if (!t.startsWith(':')) return
    try {
      params[t.slice(1)] = decodeURIComponent(raw[i] as string)
    } catch {
      throw new ApiError(400, `malformed URL encoding in path segment '${raw[i] ?? ''}'`)
    }
  })
  return params
}

function writeReply(res: ServerResponse, reply: Reply, query: URLSearchParams): void {
  switch (reply.kind) {
    case 'object':
      send(res, reply.status ?? 200, applyColumns(reply.body, query))
      return
    case 'list':
      send(res, 200, applyListQuery(reply.items, query))
      return
    case 'raw':
      send(res, reply.status, reply.body, reply.headers)
      return
    case 'empty':
      res.writeHead(reply.status, reply.headers ?? {})
      res.end()
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-cache', ...headers })
  res.end(JSON.stringify(body))
}
