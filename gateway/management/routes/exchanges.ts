// Exchanges: GET /api/exchanges[/{vhost}]; GET|PUT|DELETE /api/exchanges/{vhost}/{name};
// GET /api/exchanges/{vhost}/{name}/bindings/source|destination. The default exchange is '' in JSON
// and amq.default in paths. PUT declares (201 created, 204 when an equivalent one exists; 400 when it
// differs), DELETE takes ?if-unused=true. Declaring and deleting need configure permission.
import { DEFAULT_EXCHANGE_ALIAS, bindingJson, exchangeJson } from '../model-json.ts'
import { authorize, vhostNamed } from '../management-context.ts'
import { list, noContent, object, upserted, type ApiCall, type Route } from '../api-router.ts'
import { notFoundError } from '../api-error.ts'
import { argumentsField, boolField, queryFlag, stringField } from '../body-fields.ts'
import type { Exchange } from '../../../core/model/exchange.ts'

export const exchangeRoutes: Route[] = [
  {
    method: 'GET',
    path: '/api/exchanges',
    handler: ({ ctx }) => list([...ctx.broker.vhosts.values()].flatMap(v => [...v.exchanges.values()].map(exchangeJson)))
  },
  {
    method: 'GET',
    path: '/api/exchanges/:vhost',
    handler: ({ ctx, params }) => list([...vhostNamed(ctx, params.vhost as string).exchanges.values()].map(exchangeJson))
  },
  { method: 'GET', path: '/api/exchanges/:vhost/:name', handler: call => object(exchangeJson(exchangeNamed(call))) },
  { method: 'PUT', path: '/api/exchanges/:vhost/:name', handler: declare },
  { method: 'DELETE', path: '/api/exchanges/:vhost/:name', handler: remove },
  {
    method: 'GET',
    path: '/api/exchanges/:vhost/:name/bindings/source',
    handler: call => list([...exchangeNamed(call).bindings.values()].filter(b => b.destination.kind !== 'sink').map(bindingJson))
  },
  { method: 'GET', path: '/api/exchanges/:vhost/:name/bindings/destination', handler: call => list([...exchangeNamed(call).inbound].map(bindingJson)) }
]

export function exchangeName(pathName: string): string {
  return pathName === DEFAULT_EXCHANGE_ALIAS ? '' : pathName
}

export function exchangeNamed({ ctx, params }: ApiCall): Exchange {
  const v = vhostNamed(ctx, params.vhost as string)
  const x = v.exchangeNamed(exchangeName(params.name as string))
  if (x === undefined) throw notFoundError(`no exchange '${params.name}' in vhost '${v.name}'`)
  return x
}

async function declare({ ctx, params, principal, body }: ApiCall) {
  const v = vhostNamed(ctx, params.vhost as string)
  const name = exchangeName(params.name as string)
  const b = await body(`declare exchange '${name}'`)
  authorize(ctx, principal, v.name, 'configure', 'exchange', name)
  const existed = v.exchangeNamed(name) !== undefined
  await v.declareExchange(
    {
      name,
      type: stringField(b, 'type'),
      durable: boolField(b, 'durable', true),
      autoDelete: boolField(b, 'auto_delete', false),
      internal: boolField(b, 'internal', false),
      arguments: argumentsField(b)
    },
    false
  )
  return upserted(!existed)
}

async function remove({ ctx, params, principal, query }: ApiCall) {
  const v = vhostNamed(ctx, params.vhost as string)
  const name = exchangeName(params.name as string)
  authorize(ctx, principal, v.name, 'configure', 'exchange', name)
  if (v.exchangeNamed(name) === undefined) throw notFoundError(`no exchange '${name}' in vhost '${v.name}'`)
  await v.deleteExchange(name, queryFlag(query, 'if-unused'))
  return noContent
}
