// Queues, every kind the model has: AMQP classic queues and streams, MQTT sessions
// (`mqtt-session/<client id>`) and shared-subscription groups (`mqtt-share/<group>/<filter>`).
//   GET /api/queues[/{vhost}]   GET|PUT|DELETE /api/queues/{vhost}/{name}   GET /api/queues/{vhost}/{name}/bindings
//   DELETE /api/queues/{vhost}/{name}/contents (purge)
// PUT declares (201 / 204 / 400 when it differs); DELETE takes ?if-unused=true&if-empty=true. Deleting
// a session's queue ends the session (the MQTT engine disconnects its client with 0x98 and forgets it).
import type { Queue } from '../../../core/model/queue.ts'
import { defaultBindingJson, bindingJson, queueJson } from '../model-json.ts'
import { authorize, managementOwner, vhostNamed } from '../management-context.ts'
import { list, noContent, object, upserted, type ApiCall, type Route } from '../api-router.ts'
import { notFoundError } from '../api-error.ts'
import { argumentsField, boolField, queryFlag } from '../body-fields.ts'

export const queueRoutes: Route[] = [
  {
    method: 'GET',
    path: '/api/queues',
    handler: ({ ctx }) => list([...ctx.broker.vhosts.values()].flatMap(v => [...v.queues.values()].map(q => queueJson(q, ctx.nodeName, ctx.rates))))
  },
  {
    method: 'GET',
    path: '/api/queues/:vhost',
    handler: ({ ctx, params }) => list([...vhostNamed(ctx, params.vhost as string).queues.values()].map(q => queueJson(q, ctx.nodeName, ctx.rates)))
  },
  { method: 'GET', path: '/api/queues/:vhost/:name', handler: call => object(queueJson(queueNamed(call), call.ctx.nodeName, call.ctx.rates)) },
  { method: 'PUT', path: '/api/queues/:vhost/:name', handler: declare },
  { method: 'DELETE', path: '/api/queues/:vhost/:name', handler: remove },
  { method: 'DELETE', path: '/api/queues/:vhost/:name/contents', handler: purge },
  {
    method: 'GET',
    path: '/api/queues/:vhost/:name/bindings',
    handler: call => {
      const q = queueNamed(call)
      return list([defaultBindingJson(q), ...[...q.inbound].map(bindingJson)])
    }
  }
]

export function queueNamed({ ctx, params }: ApiCall): Queue {
  const v = vhostNamed(ctx, params.vhost as string)
  const q = v.queueNamed(params.name as string)
  if (q === undefined) throw notFoundError(`no queue '${params.name}' in vhost '${v.name}'`)
  return q
}

async function declare({ ctx, params, principal, body }: ApiCall) {
  const v = vhostNamed(ctx, params.vhost as string)
  const name = params.name as string
  const b = await body(`declare queue '${name}'`)
  authorize(ctx, principal, v.name, 'configure', 'queue', name)
  const existed = v.queueNamed(name) !== undefined
  await v.declareQueue(
    {
      name,
      durable: boolField(b, 'durable', true),
      autoDelete: boolField(b, 'auto_delete', false),
      // An exclusive queue needs a connection to belong to; over HTTP there is none.
      exclusive: false,
      arguments: argumentsField(b)
    },
    managementOwner,
    false
  )
  return upserted(!existed)
}

async function remove(call: ApiCall) {
  const { ctx, principal, query } = call
  const q = queueNamed(call)
  authorize(ctx, principal, q.vhost, 'configure', 'queue', q.name)
  await vhostNamed(ctx, q.vhost).deleteQueue(
    q.name,
    { ifUnused: queryFlag(query, 'if-unused'), ifEmpty: queryFlag(query, 'if-empty') },
    q.exclusiveOwner ?? managementOwner
  )
  return noContent
}

function purge(call: ApiCall) {
  const { ctx, principal } = call
  const q = queueNamed(call)
  authorize(ctx, principal, q.vhost, 'read', 'queue', q.name)
  vhostNamed(ctx, q.vhost).purgeQueue(q.name, q.exclusiveOwner ?? managementOwner)
  return noContent
}
