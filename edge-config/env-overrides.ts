// WHARF_* environment variables, applied over the parsed file before validation (env > file > defaults).
/** list: comma-separated, items trimmed, empty items dropped. */
export type EnvKind = 'string' | 'integer' | 'boolean' | 'list'

export interface EnvOverride {
  name: string
  /** Dotted config path the variable sets. */
  field: string
  kind: EnvKind
  description: string
}

/**
 * Every WHARF_* variable Wharf reads; CONFIG-REFERENCE.md lists the same table. S3 credentials are not
 * among them: the AWS SDK reads AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or its other sources) itself,
 * so they never enter the configuration (nor its logs and error messages).
 */
export const envOverrides: readonly EnvOverride[] = [
  { name: 'WHARF_DATA_DIR', field: 'dataDir', kind: 'string', description: 'directory of the SQLite file and the local cold tier' },
  { name: 'WHARF_HOST', field: 'host', kind: 'string', description: 'default bind address of the protocol listeners' },
  { name: 'WHARF_LOG_LEVEL', field: 'log.level', kind: 'string', description: 'debug, info, warn or error' },
  { name: 'WHARF_LOG_FORMAT', field: 'log.format', kind: 'string', description: 'json or text' },
  { name: 'WHARF_DURABILITY', field: 'storage.durability', kind: 'string', description: 'process or power' },
  {
    name: 'WHARF_LOCAL_BYTES_MAX',
    field: 'storage.localBytesMax',
    kind: 'integer',
    description: 'disk watermark of the SQLite file (db + WAL) above which publishers are refused; 0 = none'
  },
  { name: 'WHARF_MQTT_HOST', field: 'mqtt.host', kind: 'string', description: 'bind address of MQTT over TCP' },
  { name: 'WHARF_MQTT_PORT', field: 'mqtt.port', kind: 'integer', description: 'MQTT over TCP' },
  { name: 'WHARF_MQTT_TLS_PORT', field: 'mqtt.tls.port', kind: 'integer', description: 'MQTT over TLS' },
  { name: 'WHARF_MQTT_TLS_CERT_FILE', field: 'mqtt.tls.certFile', kind: 'string', description: 'PEM certificate chain of the MQTT TLS listener' },
  { name: 'WHARF_MQTT_TLS_KEY_FILE', field: 'mqtt.tls.keyFile', kind: 'string', description: 'PEM private key of the MQTT TLS listener' },
  {
    name: 'WHARF_MQTT_TLS_CA_FILE',
    field: 'mqtt.tls.caFile',
    kind: 'string',
    description: 'PEM CA bundle: MQTT TLS clients must present a certificate it signed'
  },
  { name: 'WHARF_WS_HOST', field: 'mqtt.ws.host', kind: 'string', description: 'bind address of MQTT over WebSocket' },
  { name: 'WHARF_WS_PORT', field: 'mqtt.ws.port', kind: 'integer', description: 'MQTT over WebSocket' },
  { name: 'WHARF_WS_TLS_PORT', field: 'mqtt.ws.tls.port', kind: 'integer', description: 'MQTT over secure WebSocket' },
  { name: 'WHARF_MQTT_MAX_PACKET_BYTES', field: 'mqtt.maxPacketBytes', kind: 'integer', description: 'largest MQTT packet accepted' },
  { name: 'WHARF_MQTT_MAX_CONNECTIONS', field: 'mqtt.maxConnections', kind: 'integer', description: 'MQTT connections (TCP, TLS and WebSocket together)' },
  { name: 'WHARF_MQTT_EXCHANGE', field: 'mqtt.exchange', kind: 'string', description: 'topic exchange of MQTT publishes and subscriptions' },
  { name: 'WHARF_AMQP_HOST', field: 'amqp.host', kind: 'string', description: 'bind address of AMQP over TCP' },
  { name: 'WHARF_AMQP_PORT', field: 'amqp.port', kind: 'integer', description: 'AMQP 0-9-1' },
  { name: 'WHARF_AMQP_TLS_PORT', field: 'amqp.tls.port', kind: 'integer', description: 'AMQPS (AMQP over TLS)' },
  { name: 'WHARF_AMQP_TLS_CERT_FILE', field: 'amqp.tls.certFile', kind: 'string', description: 'PEM certificate chain of the AMQPS listener' },
  { name: 'WHARF_AMQP_TLS_KEY_FILE', field: 'amqp.tls.keyFile', kind: 'string', description: 'PEM private key of the AMQPS listener' },
  {
    name: 'WHARF_AMQP_TLS_CA_FILE',
    field: 'amqp.tls.caFile',
    kind: 'string',
    description: 'PEM CA bundle: AMQPS clients must present a certificate it signed'
  },
  { name: 'WHARF_SEGMENT_BYTES', field: 'streams.segmentBytes', kind: 'integer', description: 'a stream segment is sealed at this many bytes' },
  { name: 'WHARF_SEGMENT_AGE_SECONDS', field: 'streams.segmentAgeSeconds', kind: 'integer', description: 'or when its first record is this old' },
  { name: 'WHARF_TIERING_URL', field: 'tiering.url', kind: 'string', description: 'cold tier: file:///dir or s3://bucket[/prefix]' },
  { name: 'WHARF_S3_ENDPOINT', field: 'tiering.s3.endpoint', kind: 'string', description: 'S3-compatible endpoint URL (unset: AWS)' },
  { name: 'WHARF_S3_REGION', field: 'tiering.s3.region', kind: 'string', description: 'S3 region (unset: AWS_REGION, else us-east-1)' },
  { name: 'WHARF_S3_FORCE_PATH_STYLE', field: 'tiering.s3.forcePathStyle', kind: 'boolean', description: 'path-style S3 requests (most non-AWS stores)' },
  { name: 'WHARF_TIERING_LOCAL_AGE_SECONDS', field: 'tiering.localAgeSeconds', kind: 'integer', description: 'sealed segments older than this are offloaded' },
  {
    name: 'WHARF_TIERING_LOCAL_BYTES_MAX',
    field: 'tiering.localBytesMax',
    kind: 'integer',
    description: 'sealed segments beyond this many local bytes are offloaded'
  },
  { name: 'WHARF_TIERING_REQUIRED_AT_START', field: 'tiering.requiredAtStart', kind: 'boolean', description: 'start-up fails unless the object store answers' },
  { name: 'WHARF_TIERING_CACHE_BYTES_MAX', field: 'tiering.cacheBytesMax', kind: 'integer', description: 'in-memory block cache of cold reads' },
  { name: 'WHARF_ADMIN_HOST', field: 'admin.host', kind: 'string', description: 'bind address of admin HTTP (default 127.0.0.1)' },
  { name: 'WHARF_ADMIN_PORT', field: 'admin.port', kind: 'integer', description: 'admin HTTP (health, metrics, management API)' },
  { name: 'WHARF_ALLOW_ANONYMOUS', field: 'auth.allowAnonymous', kind: 'boolean', description: 'true or false' },
  { name: 'WHARF_GUEST_ENABLED', field: 'auth.guest.enabled', kind: 'boolean', description: 'the built-in guest/guest user (loopback only)' }
]

/**
 * The common single bridge from the environment: these set fields of bridges[0], which is created
 * (named 'cloud') when the file has no bridge. A file with several bridges keeps the others as written.
 */
export const bridgeEnvOverrides: readonly EnvOverride[] = [
  { name: 'WHARF_BRIDGE_URL', field: 'bridges[0].url', kind: 'string', description: 'remote broker of the bridge: amqp(s)://, mqtt(s)://, ws(s)://' },
  { name: 'WHARF_BRIDGE_OUT_TOPICS', field: 'bridges[0].out.topics', kind: 'list', description: 'comma-separated local MQTT filters forwarded up' },
  { name: 'WHARF_BRIDGE_IN_TOPICS', field: 'bridges[0].in.topics', kind: 'list', description: 'comma-separated remote MQTT filters brought down' },
  { name: 'WHARF_BRIDGE_NAME', field: 'bridges[0].name', kind: 'string', description: "the bridge's name (default cloud)" },
  { name: 'WHARF_BRIDGE_VHOST', field: 'bridges[0].vhost', kind: 'string', description: 'the local vhost the bridge works in (default mqtt.vhost)' }
]
const defaultEnvBridgeName = 'cloud'

export interface EnvApplied {
  raw: unknown
  /** Config path → variable name, so a validation error names the variable the value came from. */
  fieldSources: Record<string, string>
}

/**
 * Returns a copy of `raw` with every set WHARF_* variable written at its path. An empty variable counts
 * as unset. Values that do not parse stay strings, so validation reports them (naming the variable).
 */
export function applyEnvOverrides(raw: unknown, env: Readonly<Record<string, string | undefined>>): EnvApplied {
  const out: unknown = raw === undefined || raw === null ? {} : structuredClone(raw)
  const fieldSources: Record<string, string> = {}
  for (const o of envOverrides) {
    const text = env[o.name]
    if (text === undefined || text === '') continue
    if (setPath(out, o.field, convert(o.kind, text))) fieldSources[o.field] = o.name
  }
  applyBridgeEnv(out, env, fieldSources)
  return { raw: out, fieldSources }
}

function applyBridgeEnv(out: unknown, env: Readonly<Record<string, string | undefined>>, fieldSources: Record<string, string>): void {
  const set = bridgeEnvOverrides.filter(o => env[o.name] !== undefined && env[o.name] !== '')
  if (set.length === 0 || !isRecord(out)) return
  if (out.bridges === undefined || out.bridges === null) out.bridges = []
  const list = out.bridges
  if (!Array.isArray(list)) return // validation reports bridges at its own path
  if (list.length === 0) list.push({ name: defaultEnvBridgeName })
  for (const o of set) {
    if (setPath(list[0], o.field.slice('bridges[0].'.length), convert(o.kind, env[o.name] as string))) fieldSources[o.field] = o.name
  }
}

function convert(kind: EnvKind, text: string): unknown {
  const t = text.trim()
  if (kind === 'list')
    return t
      .split(',')
      .map(item => item.trim())
      .filter(item => item !== '')
  if (kind === 'integer') return /^[+-]?\d+$/.test(t) ? Number(t) : text
  if (kind === 'boolean') {
    if (/^(true|yes|on|1)$/i.test(t)) return true
    if (/^(false|no|off|0)$/i.test(t)) return false
    return text
  }
  return text
}

// A section the file set to a non-mapping is left alone: validation reports it at its own path.
function setPath(target: unknown, field: string, value: unknown): boolean {
  const keys = field.split('.')
  const last = keys.pop() as string
  let node = target
  for (const key of keys) {
    if (!isRecord(node)) return false
    if (node[key] === undefined || node[key] === null) node[key] = {}
    node = node[key]
  }
  if (!isRecord(node)) return false
  node[last] = value
  return true
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
