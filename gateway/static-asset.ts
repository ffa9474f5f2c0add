// Files the admin server serves as they are (the live page, the console): read at the first request
// and kept (they do not change while the process runs), sent with no-cache and a strict CSP.
import { readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AdminRoute } from './admin-http.ts'

export const contentTypes = {
  html: 'text/html; charset=utf-8',
  js: 'application/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json'
} as const

export function serveOnce(path: string, file: () => string, contentType: string, csp: string): AdminRoute {
  let body: Buffer | undefined
  return (_req: IncomingMessage, res: ServerResponse) => {
    try {
      body ??= readFileSync(file())
    } catch (err) {
      sendAsset(res, 500, contentTypes.json, JSON.stringify({ error: 'internal_error', reason: `admin http: read ${path}: ${(err as Error).message}` }), csp)
      return
    }
    sendAsset(res, 200, contentType, body, csp)
  }
}

export function sendAsset(res: ServerResponse, status: number, contentType: string, body: string | Buffer, csp: string): void {
  res.writeHead(status, {
    'content-type': contentType,
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    'content-security-policy': csp
  })
  res.end(body)
}
