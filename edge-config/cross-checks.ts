// Checks between fields, run on the merged configuration once every field passed its own check: limits
// against each other (DESIGN.md §4, §5) and references (mqtt.vhost in amqp.vhosts) are settled at startup.
import type { TlsListenerConfig, WharfConfig } from './config-types.ts'
import { tieringUrl } from './tiering-target.ts'
import { bridgeChecks } from './bridge-checks.ts'
import { archiveVhost } from './config-vhosts.ts'

export type Fail = (field: string, value: unknown, allowed: string) => never
export type CrossCheck = (config: WharfConfig, fail: Fail) => void

interface Listener {
  field: string
  port: number
  enabled: boolean
}

const tlsOn = (t: TlsListenerConfig): boolean => t.certFile !== null && t.keyFile !== null

function listeners(c: WharfConfig): Listener[] {
  return [
    { field: 'mqtt.port', port: c.mqtt.port, enabled: true },
    { field: 'mqtt.tls.port', port: c.mqtt.tls.port, enabled: tlsOn(c.mqtt.tls) },
    { field: 'mqtt.ws.port', port: c.mqtt.ws.port, enabled: true },
    { field: 'mqtt.ws.tls.port', port: c.mqtt.ws.tls.port, enabled: tlsOn(c.mqtt.ws.tls) },
    { field: 'amqp.port', port: c.amqp.port, enabled: true },
    { field: 'amqp.tls.port', port: c.amqp.tls.port, enabled: tlsOn(c.amqp.tls) },
    { field: 'admin.port', port: c.admin.port, enabled: true },
    { field: 'admin.tls.port', port: c.admin.tls.port, enabled: tlsOn(c.admin.tls) }
  ]
}

function tlsListeners(c: WharfConfig): Array<[string, TlsListenerConfig & { identityAsUsername?: unknown }]> {
  return [
    ['mqtt.tls', c.mqtt.tls],
    ['mqtt.ws.tls', c.mqtt.ws.tls],
    ['amqp.tls', c.amqp.tls],
    ['admin.tls', c.admin.tls]
  ]
}

const tlsPairs: CrossCheck = (c, fail) => {
  for (const [prefix, t] of tlsListeners(c)) {
    if ((t.certFile === null) !== (t.keyFile === null)) {
      const [missing, given] = t.certFile === null ? ['certFile', 'keyFile'] : ['keyFile', 'certFile']
      fail(`${prefix}.${missing}`, null, `must be set together with ${prefix}.${given} (both enable TLS, neither disables it)`)
    }
    if (t.caFile !== null && t.certFile === null) {
      fail(`${prefix}.caFile`, t.caFile, `needs ${prefix}.certFile and ${prefix}.keyFile (client certificates need a TLS listener)`)
    }
    // A username from a certificate is only as good as the check of that certificate.
    if (t.identityAsUsername !== undefined && t.identityAsUsername !== null && t.caFile === null) {
      fail(`${prefix}.identityAsUsername`, t.identityAsUsername, `needs ${prefix}.caFile (only a certificate verified against it may name the user)`)
    }
  }
}

const distinctPorts: CrossCheck = (c, fail) => {
  const taken = new Map<number, string>()
  for (const l of listeners(c)) {
    if (!l.enabled || l.port === 0) continue
    const other = taken.get(l.port)
    if (other !== undefined) fail(l.field, l.port, `must differ from ${other} (both listeners are enabled; 0 picks any free port)`)
    taken.set(l.port, l.field)
  }
}

const uniqueUsernames: CrossCheck = (c, fail) => {
  const seen = new Map<string, number>()
  c.auth.users.forEach((u, i) => {
    const first = seen.get(u.username)
    if (first !== undefined) fail(`auth.users[${i}].username`, u.username, `must be unique (already used by auth.users[${first}])`)
    seen.set(u.username, i)
  })
}

const amqpVhosts: CrossCheck = (c, fail) => {
  if (c.amqp.vhosts.length === 0) fail('amqp.vhosts', c.amqp.vhosts, 'must list at least one vhost')
  const seen = new Set<string>()
  c.amqp.vhosts.forEach((v, i) => {
    if (seen.has(v)) fail(`amqp.vhosts[${i}]`, v, 'must be unique')
    seen.add(v)
  })
}

// Every vhost the configuration names must exist at start: the MQTT listeners' (mqtt.vhost for TCP
// and the others that set none), and those of bridges and archive streams, whose queues are declared there.
const namedVhosts: CrossCheck = (c, fail) => {
  const known = `must be one of amqp.vhosts (${c.amqp.vhosts.map(v => JSON.stringify(v)).join(', ')})`
  if (!c.amqp.vhosts.includes(c.mqtt.vhost)) fail('mqtt.vhost', c.mqtt.vhost, known)
  for (const [field, vhost] of vhostFields(c)) if (vhost !== null && vhost !== undefined && !c.amqp.vhosts.includes(vhost)) fail(field, vhost, known)
}

function vhostFields(c: WharfConfig): Array<[string, string | null | undefined]> {
  return [
    ['mqtt.tls.vhost', c.mqtt.tls.vhost],
    ['mqtt.ws.vhost', c.mqtt.ws.vhost],
    ['mqtt.ws.tls.vhost', c.mqtt.ws.tls.vhost],
    ...c.bridges.map((b, i): [string, string | null] => [`bridges[${i}].vhost`, b.vhost]),
    ...c.archive.map((a, i): [string, string | undefined] => [`archive[${i}].vhost`, a.vhost])
  ]
}

// Permissions name a user of auth.users (the built-in guest has its own) and a vhost of amqp.vhosts, once each.
const permissionReferences: CrossCheck = (c, fail) => {
  const users = new Set(c.auth.users.map(u => u.username))
  const vhosts = c.amqp.vhosts.map(v => JSON.stringify(v)).join(', ')
  const check = (field: string, list: ReadonlyArray<{ user: string; vhost: string; exchange?: string }>, per: string): void => {
    const seen = new Map<string, number>()
    list.forEach((p, i) => {
      if (!users.has(p.user)) fail(`${field}[${i}].user`, p.user, 'must name a user of auth.users')
      if (!c.amqp.vhosts.includes(p.vhost)) fail(`${field}[${i}].vhost`, p.vhost, `must be one of amqp.vhosts (${vhosts})`)
      const key = JSON.stringify([p.user, p.vhost, p.exchange])
      const first = seen.get(key)
      if (first !== undefined) fail(`${field}[${i}]`, p, `must be unique per ${per} (already given by ${field}[${first}])`)
      seen.set(key, i)
    })
  }
  check('auth.permissions', c.auth.permissions, 'user and vhost')
  check('auth.topicPermissions', c.auth.topicPermissions, 'user, vhost and exchange')
}

const segmentSizes: CrossCheck = (c, fail) => {
  const { blockBytes, segmentBytes } = c.streams
  if (blockBytes > segmentBytes)
    fail('streams.blockBytes', blockBytes, `must be <= streams.segmentBytes (${segmentBytes} bytes): a block is part of one segment`)
  const cacheMin = 2 * blockBytes
  if (c.tiering.cacheBytesMax < cacheMin) {
    fail(
      'tiering.cacheBytesMax',
      c.tiering.cacheBytesMax,
      `must be >= 2 * streams.blockBytes = ${cacheMin} bytes (a block and its prefetched successor must fit)`
    )
  }
}

const uploadBackoff: CrossCheck = (c, fail) => {
  const { uploadRetryInitialMs, uploadRetryMaxMs } = c.tiering
  if (uploadRetryMaxMs < uploadRetryInitialMs)
    fail('tiering.uploadRetryMaxMs', uploadRetryMaxMs, `must be >= tiering.uploadRetryInitialMs (${uploadRetryInitialMs} ms)`)
}

// S3 settings beside a file:// tier are a mistake (a forgotten WHARF_TIERING_URL would keep data on the edge).
const s3SettingsNeedS3: CrossCheck = (c, fail) => {
  const url = tieringUrl(c)
  if (url.startsWith('s3://')) return
  const where = c.tiering.url === null ? `tiering.url is null (${url})` : `tiering.url is ${url}`
  const { endpoint, region, forcePathStyle } = c.tiering.s3
  if (endpoint !== null) fail('tiering.s3.endpoint', endpoint, `is only for s3:// tiering URLs, but ${where}`)
  if (region !== null) fail('tiering.s3.region', region, `is only for s3:// tiering URLs, but ${where}`)
  if (forcePathStyle) fail('tiering.s3.forcePathStyle', forcePathStyle, `is only for s3:// tiering URLs, but ${where}`)
}

// Local stream segments live in the SQLite file: offloading has to start below the disk watermark.
const localBytesBelowWatermark: CrossCheck = (c, fail) => {
  const watermark = c.storage.localBytesMax
  if (watermark > 0 && c.tiering.localBytesMax >= watermark) {
    fail(
      'tiering.localBytesMax',
      c.tiering.localBytesMax,
      `must be below storage.localBytesMax (${watermark} bytes), or publishers are refused before sealed segments are offloaded`
    )
  }
}

// A stream is named once per vhost.
const uniqueArchiveStreams: CrossCheck = (c, fail) => {
  const seen = new Map<string, number>()
  c.archive.forEach((a, i) => {
    const vhost = archiveVhost(a, c.mqtt)
    const key = JSON.stringify([vhost, a.stream])
    const first = seen.get(key)
    if (first !== undefined) fail(`archive[${i}].stream`, a.stream, `must be unique in vhost '${vhost}' (already used by archive[${first}])`)
    seen.set(key, i)
  })
}

export const crossChecks: readonly CrossCheck[] = [
  tlsPairs,
  distinctPorts,
  uniqueUsernames,
  amqpVhosts,
  namedVhosts,
  permissionReferences,
  segmentSizes,
  uploadBackoff,
  s3SettingsNeedS3,
  localBytesBelowWatermark,
  uniqueArchiveStreams,
  bridgeChecks
]
