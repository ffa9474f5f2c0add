// The admin resources of operations: GET /api/diagnose (why queues lag) and GET /api/usage (metering).
import type { AdminRoute } from './admin-http.ts'
import { sendJson } from './admin-http.ts'
import type { Ops } from './ops-wiring.ts'

export function opsRoutes(ops: Ops): Record<string, AdminRoute> {
  return {
    '/api/diagnose': (_req, res) => sendJson(res, 200, ops.diagnose()),
    '/api/usage': (_req, res) => sendJson(res, 200, ops.usage())
  }
}
