// `wharf ctl list connections|channels|queues|exchanges|bindings|users|vhosts|permissions|vhost-limits|user-limits [--vhost V]`:
// an aligned table of what the management API lists (--json: the API's items as they are).
import { seg } from './admin-client.ts'
import { usageError, type CtlCommand, type CtlContext } from './ctl-io.ts'
import { formatTable, type Column } from './table.ts'

type Item = Record<string, unknown>

interface Listing {
  /** The API path; vhost-scoped listings take --vhost when it is given. */
  path: (ctx: CtlContext) => string
  columns: Array<Column<Item>>
}

const col = (title: string, value: (i: Item) => unknown): Column<Item> => ({ title, value })
const field = (name: string, title = name.toUpperCase()): Column<Item> => col(title, i => i[name])
// message_stats: totals since the connection or channel opened, and rates over the API's last
// sampling interval (metrics.rateSampleIntervalSeconds).
const stats = (i: Item): Item => (i.message_stats as Item | undefined) ?? {}
const stat = (name: string, title: string): Column<Item> => col(title, i => stats(i)[name] ?? 0)
const rate = (name: string, title: string): Column<Item> => col(title, i => (stats(i)[`${name}_details`] as Item | undefined)?.rate ?? 0)
const scoped =
  (what: string) =>
  (ctx: CtlContext): string =>
    ctx.options.has('vhost') ? `/api/${what}/${seg(ctx.vhost)}` : `/api/${what}`

const listings: Record<string, Listing> = {
  connections: {
    path: () => '/api/connections',
    columns: [
      field('name'),
      field('protocol'),
      field('user'),
      field('vhost'),
      col('CLIENT', i => i.client_id ?? (i.client_properties as Item | undefined)?.connection_name ?? (i.client_properties as Item | undefined)?.product),
      col('CONNECTED', i => (typeof i.connected_at === 'number' ? new Date(i.connected_at).toISOString().replace(/\.\d+Z$/, 'Z') : '')),
      field('channels'),
      stat('publish', 'PUBLISHED'),
      rate('publish', 'PUBLISH/S'),
      stat('deliver_get', 'DELIVERED'),
      rate('deliver_get', 'DELIVER/S')
    ]
  },
  channels: {
    path: () => '/api/channels',
    columns: [
      field('name'),
      field('user'),
      field('vhost'),
      col('CONSUMERS', i => i.consumer_count),
      col('UNACKED', i => i.messages_unacknowledged),
      col('PREFETCH', i => i.prefetch_count),
      stat('publish', 'PUBLISHED'),
      stat('confirm', 'CONFIRMED'),
      stat('deliver_get', 'DELIVERED'),
      stat('ack', 'ACKED')
    ]
  },
  queues: {
    path: scoped('queues'),
    columns: [
      field('vhost'),
      field('name'),
      field('type'),
      field('messages'),
      col('READY', i => i.messages_ready),
      col('UNACKED', i => i.messages_unacknowledged),
      field('consumers')
    ]
  },
  exchanges: {
    path: scoped('exchanges'),
    columns: [field('vhost'), col('NAME', i => (i.name === '' ? '(default)' : i.name)), field('type'), field('durable'), col('AUTO_DELETE', i => i.auto_delete)]
  },
  bindings: {
    path: scoped('bindings'),
    columns: [
      field('vhost'),
      col('SOURCE', i => (i.source === '' ? '(default)' : i.source)),
      field('destination'),
      col('TYPE', i => i.destination_type),
      col('ROUTING_KEY', i => i.routing_key)
    ]
  },
  users: { path: () => '/api/users', columns: [field('name'), field('tags')] },
  vhosts: { path: () => '/api/vhosts', columns: [field('name'), field('messages')] },
  permissions: { path: () => '/api/permissions', columns: [field('user'), field('vhost'), field('configure'), field('write'), field('read')] },
  'vhost-limits': { path: scoped('vhost-limits'), columns: [field('vhost'), col('LIMITS', i => JSON.stringify(i.value))] },
  'user-limits': { path: () => '/api/user-limits', columns: [field('user'), col('LIMITS', i => JSON.stringify(i.value))] }
}

export const list: CtlCommand = async ctx => {
  const what = ctx.args[0]
  const listing = what === undefined ? undefined : listings[what]
  if (listing === undefined || ctx.args.length !== 1) throw usageError(`list what? one of ${Object.keys(listings).join(', ')}`)
  const items = (await ctx.client.get(listing.path(ctx))) as Item[]
  ctx.io.stdout.write(ctx.json ? JSON.stringify(items) + '\n' : formatTable(items, listing.columns))
}
