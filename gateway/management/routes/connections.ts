// Connections (AMQP and MQTT) and AMQP channels:
//   GET /api/connections   GET|DELETE /api/connections/{name}   GET /api/connections/{name}/channels
//   GET /api/vhosts/{vhost}/connections   GET /api/channels   GET /api/channels/{name}   GET /api/vhosts/{vhost}/channels
// DELETE closes the connection (AMQP: 320 CONNECTION_FORCED; MQTT 5: DISCONNECT 0x98), with the
// X-Reason header as the reason, as RabbitMQ.
import { list, noContent, object, type ApiCall, type Route } from '../api-router.ts'
import { notFoundError } from '../api-error.ts'
import type { Json } from '../model-json.ts'

const defaultReason = 'Closed via management plugin'

export const connectionRoutes: Route[] = [
  { method: 'GET', path: '/api/connections', handler: ({ ctx }) => list(ctx.connections.connections()) },
  {
    method: 'GET',
    path: '/api/vhosts/:vhost/connections',
    handler: ({ ctx, params }) => list(ctx.connections.connections().filter(c => c.vhost === params.vhost))
  },
  { method: 'GET', path: '/api/connections/:name', handler: call => object(connectionNamed(call)) },
  { method: 'DELETE', path: '/api/connections/:name', handler: closeConnection },
  {
    method: 'GET',
    path: '/api/connections/:name/channels',
    handler: call => {
      const c = connectionNamed(call)
      return list(call.ctx.connections.channels().filter(ch => (ch.connection_details as Json).name === c.name))
    }
  },
  { method: 'GET', path: '/api/channels', handler: ({ ctx }) => list(ctx.connections.channels()) },
  {
    method: 'GET',
    path: '/api/vhosts/:vhost/channels',
    handler: ({ ctx, params }) => list(ctx.connections.channels().filter(ch => ch.vhost === params.vhost))
  },
  {
    method: 'GET',
    path: '/api/channels/:name',
    handler: ({ ctx, params }) => {
      const ch = ctx.connections.channels().find(c => c.name === params.name)
      if (ch === undefined) throw notFoundError(`no channel '${params.name}'`)
      return object(ch)
    }
  }
]

function connectionNamed({ ctx, params }: ApiCall): Json {
  const c = ctx.connections.connections().find(c => c.name === params.name)
  if (c === undefined) throw notFoundError(`no connection '${params.name}'`)
  return c
}

function closeConnection({ ctx, params, req }: ApiCall) {
  const header = req.headers['x-reason']
  const reason = typeof header === 'string' && header !== '' ? header : defaultReason
  if (!ctx.connections.close(params.name as string, reason)) throw notFoundError(`no connection '${params.name}'`)
  return noContent
}
