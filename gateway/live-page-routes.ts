import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { ServerResponse } from 'node:http'
import type { AdminRoute } from './admin-http.ts'
import { packageRoot } from './package-root.ts'
import { sendAsset, serveOnce } from './static-asset.ts'

export interface LiveRoutesOptions {
  /** The bound MQTT/WebSocket port; asked at request time because the admin server starts first (0 = not bound yet). */
  wsPort: () => number
  /** The WebSocket path MQTT is served on (config mqtt.ws.path). */
  wsPath: string
  /** How many received messages the page keeps on screen before dropping the oldest. */
  messagesShownMax?: number
}

// From the package root: the compiled module (dist/gateway/) serves the same files as the source.
const pageDir = join(packageRoot, 'gateway', 'live-page')

// The page is plain files served as they are (no build step); the MQTT client is the browser bundle the
// installed mqtt package ships, served from here so the page needs no CDN.
const assets: Record<string, { file: () => string; contentType: string }> = {
  '/live': { file: () => join(pageDir, 'live.html'), contentType: 'text/html; charset=utf-8' },
  '/live/live.js': { file: () => join(pageDir, 'live.js'), contentType: 'application/javascript; charset=utf-8' },
  '/live/live.css': { file: () => join(pageDir, 'live.css'), contentType: 'text/css; charset=utf-8' },
  '/live/mqtt.min.js': { file: mqttBrowserBundle, contentType: 'application/javascript; charset=utf-8' }
}

/** Admin routes of the live page: GET /live, its assets, and /live/config.json (where the WebSocket listener is). */
export function liveRoutes(opts: LiveRoutesOptions): Record<string, AdminRoute> {
  const routes: Record<string, AdminRoute> = {}
  for (const [path, asset] of Object.entries(assets)) routes[path] = serveOnce(path, asset.file, asset.contentType, csp)
  routes['/live/config.json'] = (_req, res) => {
    const wsPort = opts.wsPort()
    // The admin server listens before the WebSocket listener is bound; the page retries on 503.
    if (wsPort === 0) {
      send(res, 503, 'application/json', JSON.stringify({ error: 'starting', reason: 'the MQTT WebSocket listener is not bound yet' }))
      return
    }
    send(res, 200, 'application/json', JSON.stringify({ wsPort, wsPath: opts.wsPath, messagesShownMax: opts.messagesShownMax ?? 200 }))
  }
  return routes
}

function mqttBrowserBundle(): string {
  const pkg = createRequire(import.meta.url).resolve('mqtt/package.json')
  return join(dirname(pkg), 'dist', 'mqtt.min.js')
}

// Scripts only from this server; the page connects out only to the broker's WebSocket listener.
// mqtt.js runs its keep-alive timer in a blob: worker (not throttled in background tabs).
const csp =
  "default-src 'self'; connect-src 'self' ws: wss:; worker-src blob:; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

function send(res: ServerResponse, status: number, contentType: string, body: string | Buffer): void {
  sendAsset(res, status, contentType, body, csp)
}
