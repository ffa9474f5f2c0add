// Bindings: GET /api/bindings[/{vhost}];
//   GET|POST /api/bindings/{vhost}/e/{exchange}/q/{queue}       GET|DELETE .../q/{queue}/{props}
//   GET|POST /api/bindings/{vhost}/e/{source}/e/{destination}   GET|DELETE .../e/{destination}/{props}
// POST takes {routing_key, arguments} and answers 201 with the new binding's path in Location; {props}
// is the binding's properties_key. Binding needs write permission on the destination and read on the source.
import type { Binding, Destination } from '../../../core/model/binding.ts'
import type { Vhost } from '../../../core/model/vhost.ts'
import { bindingJson, propertiesKey, vhostBindings } from '../model-json.ts'
import { authorize, managementOwner, vhostNamed } from '../management-context.ts'
import { list, noContent, object, type ApiCall, type Reply, type Route } from '../api-router.ts'
import { ApiError, notFoundError } from '../api-error.ts'
import { argumentsField, stringField } from '../body-fields.ts'
import { exchangeName } from './exchanges.ts'

type Kind = 'q' | 'e'

export const bindingRoutes: Route[] = [
  { method: 'GET', path: '/api/bindings', handler: ({ ctx }) => list([...ctx.broker.vhosts.values()].flatMap(vhostBindings)) },
  { method: 'GET', path: '/api/bindings/:vhost', handler: ({ ctx, params }) => list(vhostBindings(vhostNamed(ctx, params.vhost as string))) },
  ...(['q', 'e'] as const).flatMap((kind): Route[] => [
    { method: 'GET', path: `/api/bindings/:vhost/e/:source/${kind}/:destination`, handler: call => list(between(call, kind).map(bindingJson)) },
    { method: 'POST', path: `/api/bindings/:vhost/e/:source/${kind}/:destination`, handler: async call => await bind(call, kind) },
    { method: 'GET', path: `/api/bindings/:vhost/e/:source/${kind}/:destination/:props`, handler: call => object(bindingJson(one(call, kind))) },
    { method: 'DELETE', path: `/api/bindings/:vhost/e/:source/${kind}/:destination/:props`, handler: async call => await unbind(call, kind) }
  ])
]

function ends({ ctx, params }: ApiCall, kind: Kind): { v: Vhost; source: string; destination: string } {
  const v = vhostNamed(ctx, params.vhost as string)
  const source = exchangeName(params.source as string)
  const destination = kind === 'e' ? exchangeName(params.destination as string) : (params.destination as string)
  if (v.exchangeNamed(source) === undefined) throw notFoundError(`no exchange '${source}' in vhost '${v.name}'`)
  const dest: Destination | undefined = kind === 'q' ? v.queueNamed(destination) : v.exchangeNamed(destination)
  if (dest === undefined) throw notFoundError(`no ${kind === 'q' ? 'queue' : 'exchange'} '${destination}' in vhost '${v.name}'`)
  return { v, source, destination }
}

function between(call: ApiCall, kind: Kind): Binding[] {
  const { v, source, destination } = ends(call, kind)
  const wanted = kind === 'q' ? 'queue' : 'exchange'
  return [...(v.exchangeNamed(source)?.bindings.values() ?? [])].filter(b => b.destination.kind === wanted && b.destination.name === destination)
}

function one(call: ApiCall, kind: Kind): Binding {
  const props = call.params.props as string
  const b = between(call, kind).find(b => propertiesKey(b.routingKey, b.arguments) === props)
  if (b === undefined) throw notFoundError(`no binding '${props}' from '${call.params.source}' to '${call.params.destination}'`)
  return b
}

async function bind(call: ApiCall, kind: Kind): Promise<Reply> {
  const { v, source, destination } = ends(call, kind)
  const b = await call.body(`bind '${destination}' to exchange '${source}'`)
  const routingKey = stringField(b, 'routing_key', '')
  const args = argumentsField(b)
  check(call, v, kind, source, destination)
  if (kind === 'q') await v.bindQueue(destination, source, routingKey, args, managementOwnerOf(v, destination))
  else await v.bindExchange(destination, source, routingKey, args)
  const location = `${encodeURIComponent(propertiesKey(routingKey, args))}`
  return { kind: 'empty', status: 201, headers: { location } }
}

async function unbind(call: ApiCall, kind: Kind): Promise<Reply> {
  const binding = one(call, kind)
  const { v, source, destination } = ends(call, kind)
  check(call, v, kind, source, destination)
  if (kind === 'q') await v.unbindQueue(destination, source, binding.routingKey, binding.arguments, managementOwnerOf(v, destination))
  else await v.unbindExchange(destination, source, binding.routingKey, binding.arguments)
  return noContent
}

function check({ ctx, principal }: ApiCall, v: Vhost, kind: Kind, source: string, destination: string): void {
  if (source === '') throw new ApiError(403, 'operation not permitted on the default exchange')
  authorize(ctx, principal, v.name, 'write', kind === 'q' ? 'queue' : 'exchange', destination)
  authorize(ctx, principal, v.name, 'read', 'exchange', source)
}

/** An exclusive queue's owner (the management API acts for the operator, as RabbitMQ's does). */
function managementOwnerOf(v: Vhost, queue: string): object {
  return v.queueNamed(queue)?.exclusiveOwner ?? managementOwner
}
