// GET /api/nodes[/{name}] (one node: this process) and GET /api/consumers[/{vhost}]: what
// `rabbitmqadmin list nodes|consumers` reads.
import { list, object, type Route } from '../api-router.ts'
import type { ManagementContext } from '../management-context.ts'
import { notFoundError } from '../api-error.ts'
import type { Json } from '../model-json.ts'

export const nodeRoutes: Route[] = [
  { method: 'GET', path: '/api/nodes', handler: ({ ctx }) => list([nodeJson(ctx)]) },
  {
    method: 'GET',
    path: '/api/nodes/:name',
    handler: ({ ctx, params }) => {
      if (params.name !== ctx.nodeName) throw notFoundError(`no node '${params.name}'`)
      return object(nodeJson(ctx))
    }
  },
  { method: 'GET', path: '/api/consumers', handler: ({ ctx }) => list(consumers(ctx, undefined)) },
  { method: 'GET', path: '/api/consumers/:vhost', handler: ({ ctx, params }) => list(consumers(ctx, params.vhost)) }
]

function nodeJson(ctx: ManagementContext): Json {
  const mem = process.memoryUsage()
  return {
    name: ctx.nodeName,
    type: 'disc',
    running: true,
    uptime: ctx.nowMs() - ctx.startedAtMs,
    mem_used: mem.rss,
    proc_used: 1,
    os_pid: String(process.pid)
  }
}

function consumers(ctx: ManagementContext, vhost: string | undefined): Json[] {
  const out: Json[] = []
  for (const v of ctx.broker.vhosts.values()) {
    if (vhost !== undefined && v.name !== vhost) continue
    for (const q of v.queues.values()) {
      for (const c of q.consumers) {
        out.push({
          queue: { name: q.name, vhost: q.vhost },
          consumer_tag: c.tag,
          ack_required: !c.noAck,
          exclusive: c.exclusive,
          active: true,
          activity_status: 'up',
          arguments: {}
        })
      }
    }
  }
  return out
}
