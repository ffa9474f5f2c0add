// Raw configuration (parsed YAML plus environment, possibly partial) merged over the defaults and checked
// against one schema table: every field has one check, and the message of that check is what users see.
import type { BridgeDirectionConfig, WharfConfig } from './config-types.ts'
import { ConfigError } from './config-error.ts'
import { defaultBridge, defaultConfig } from './defaults.ts'
import { isPasswordHash } from '../core/auth/password-hash.ts'
import { isScramCredentials } from '../core/auth/scram-credentials.ts'
import { permissionRegexProblem } from '../core/auth/permission-regex.ts'
import { userTags } from '../core/auth/access-types.ts'
import { isValidAclPattern } from '../adapters/mqtt/topic-acl.ts'
import { crossChecks, type Fail } from './cross-checks.ts'
import { bindHostProblem, mqttExchangeProblem, s3EndpointProblem, s3RegionProblem, streamNameProblem, topicFilterProblem } from './name-checks.ts'
import { RESERVED_QUEUE_PREFIXES } from '../core/model/names.ts'
import { tieringUrlProblem } from './tiering-target.ts'
import { bridgeNameProblem, bridgeUrlProblem, redactUrl, remoteExchangeProblem, topicPrefixProblem } from './bridge-checks.ts'
import { kibibyte, mebibyte } from './byte-units.ts'

interface Leaf {
  kind: 'leaf'
  allowed: string
  test: (v: unknown) => boolean
  /** For a value that failed `test`: what in particular is wrong, appended to `allowed`. */
  explain?: (v: unknown) => string | null
  optional?: boolean
  redact?: boolean
  /** How a refused value is shown, when not as it is (a URL without its password). */
  display?: (v: unknown) => unknown
}
/** itemDefaults: what an item holds for the fields it does not set (none: every field is required). */
interface ListNode<T> {
  kind: 'list'
  item: Schema<T>
  optional?: boolean
  itemDefaults?: () => unknown
}
interface MapNode<T> {
  kind: 'map'
  fields: { [K in keyof T]-?: Schema<NonNullable<T[K]>> }
}
/** The schema mirrors WharfConfig, so a field added to config-types.ts without a check does not compile. */
type Schema<T> = [T] extends [ReadonlyArray<infer U>] ? ListNode<U> : [T] extends [object] ? MapNode<T> : Leaf
type Node = Leaf | ListNode<unknown> | MapNode<Record<string, unknown>>

export interface ValidateOptions {
  /** Where single fields came from when not from `source`, e.g. { 'mqtt.port': 'WHARF_MQTT_PORT' }. */
  fieldSources?: Readonly<Record<string, string>>
}

// ---- leaf checks -------------------------------------------------------------------------------------

const isInt = (v: unknown, min: number, max: number): boolean => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max

const port: Leaf = { kind: 'leaf', allowed: 'must be an integer port 1-65535, or 0 for any free port', test: v => isInt(v, 0, 65535) }
const text: Leaf = { kind: 'leaf', allowed: 'must be a non-empty string', test: v => typeof v === 'string' && v.length > 0 }
const bool: Leaf = { kind: 'leaf', allowed: 'must be true or false', test: v => typeof v === 'boolean' }
const filePathOrNull: Leaf = { kind: 'leaf', allowed: 'must be a file path, or null', test: v => v === null || (typeof v === 'string' && v.length > 0) }

function int(min: number, max: number, unit: string, why = ''): Leaf {
  const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `${min}-${max}`
  return { kind: 'leaf', allowed: `must be an integer ${range}${unit === '' ? '' : ' ' + unit}${why}`, test: v => isInt(v, min, max) }
}

function oneOf(...values: string[]): Leaf {
  return { kind: 'leaf', allowed: `must be one of ${values.join(', ')}`, test: v => typeof v === 'string' && values.includes(v) }
}

/** A string leaf judged by a problem function (name-checks.ts); null allowed when `orNull`. */
function checked(allowed: string, problem: (s: string) => string | null, orNull = false): Leaf {
  return {
    kind: 'leaf',
    allowed,
    test: v => (orNull && v === null) || (typeof v === 'string' && problem(v) === null),
    explain: v => (typeof v === 'string' ? problem(v) : null)
  }
}

function optional(leaf: Leaf): Leaf {
  return { ...leaf, optional: true }
}

function list<T>(item: Schema<T>): ListNode<T> {
  return { kind: 'list', item, optional: true }
}

const aclPattern: Leaf = {
  kind: 'leaf',
  allowed: "must be an MQTT topic filter ('+' and '#' as whole levels, '#' last; %u and %c substituted)",
  test: v => typeof v === 'string' && isValidAclPattern(v)
}
const passwordHash: Leaf = {
  kind: 'leaf',
  allowed: 'must be a scrypt hash scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>, as printed by `wharf passwd`',
  test: isPasswordHash,
  redact: true
}
const scramSha256: Leaf = {
  kind: 'leaf',
  allowed:
    'must be SCRAM-SHA-256$<iterations 4096-10000000>:<salt base64>$<StoredKey base64>:<ServerKey base64> (RFC 5803; keys of 32 bytes), as printed by `wharf passwd --scram`',
  test: isScramCredentials,
  optional: true,
  redact: true
}
const permissionRegex: Leaf = {
  kind: 'leaf',
  allowed: 'must be a regular expression as RabbitMQ takes them (searched for, not anchored; "" matches nothing)',
  test: v => typeof v === 'string' && permissionRegexProblem(v) === null,
  explain: v => (typeof v === 'string' ? permissionRegexProblem(v) : null)
}
// A node name is one object key component of its usage records.
const nodeName: Leaf = {
  kind: 'leaf',
  allowed: 'must be null (the host name) or 1-64 letters, digits, ".", "_" or "-"',
  test: v => v === null || (typeof v === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(v) && v !== '.' && v !== '..')
}
const wsPath: Leaf = { kind: 'leaf', allowed: "must be a URL path starting with '/'", test: v => typeof v === 'string' && /^\/[^\s?#]*$/.test(v) }

const tieringUrl = checked('must be null (file://<dataDir>/cold), file:///<absolute dir> or s3://<bucket>[/<prefix>]', tieringUrlProblem, true)
const s3Endpoint = checked('must be null (AWS) or an http(s)://host[:port] URL', s3EndpointProblem, true)
const s3Region = checked('must be null (AWS_REGION, else us-east-1) or a region name', s3RegionProblem, true)
const mqttExchange = checked('must be a topic exchange name, 1-255 bytes (default amq.topic)', mqttExchangeProblem)
const topicFilter = checked("must be an MQTT topic filter ('+' and '#' as whole levels, '#' last)", topicFilterProblem)
const streamName = checked(
  `must be a stream queue name, 1-255 bytes, not starting with ${RESERVED_QUEUE_PREFIXES.map(p => `'${p}'`).join(', ')}`,
  streamNameProblem
)
const heapRatio: Leaf = {
  kind: 'leaf',
  allowed: "must be a number 0-0.95 (a fraction of V8's heap limit; 0 = no memory watermark)",
  test: v => typeof v === 'number' && v >= 0 && v <= 0.95
}
const fraction: Leaf = {
  kind: 'leaf',
  allowed: 'must be a number greater than 0 and less than 1 (a fraction of a block)',
  test: v => typeof v === 'number' && v > 0 && v < 1
}
const bindHost = checked('must be an IP address (0.0.0.0 = every IPv4 interface, :: = every interface) or a host name', bindHostProblem)
const bindHostOrNull = checked('must be null (the default bind address) or an IP address or host name', bindHostProblem, true)
const tlsVersion = oneOf('TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3')
// 0 turns a limit off; otherwise a positive rate or count.
const limit = (unit: string): Leaf => int(0, Number.MAX_SAFE_INTEGER, unit, ' (0 = no limit)')
const bridgeUrl: Leaf = { ...checked('must be an amqp://, amqps://, mqtt://, mqtts://, ws:// or wss:// URL', bridgeUrlProblem), display: redactUrl }
const bridgeName = checked('must be a bridge name', bridgeNameProblem)
const topicPrefix = checked("must be '' or the start of an MQTT topic (no '+' or '#')", topicPrefixProblem)
const textOrNull: Leaf = { kind: 'leaf', allowed: 'must be a non-empty string, or null', test: v => v === null || (typeof v === 'string' && v.length > 0) }
const bridgeDirection = (side: string): Schema<BridgeDirectionConfig> => ({
  kind: 'map',
  fields: {
    topics: { kind: 'list', item: checked(`must be an MQTT topic filter${side} ('+' and '#' as whole levels, '#' last)`, topicFilterProblem) },
    localPrefix: topicPrefix,
    remotePrefix: topicPrefix
  }
})

const tlsFields = { host: bindHostOrNull, port, certFile: filePathOrNull, keyFile: filePathOrNull, caFile: filePathOrNull, minVersion: tlsVersion }
const adminTls: Schema<WharfConfig['admin']['tls']> = { kind: 'map', fields: tlsFields }
const identityAsUsername: Leaf = {
  ...oneOf('commonName', 'subjectAltName'),
  allowed: 'must be null (off), commonName or subjectAltName',
  test: v => v === null || v === 'commonName' || v === 'subjectAltName'
}
const tls: Schema<WharfConfig['amqp']['tls']> = { kind: 'map', fields: { ...tlsFields, identityAsUsername } }
const vhostOrNull: Leaf = {
  kind: 'leaf',
  allowed: 'must be null (mqtt.vhost) or a vhost name',
  test: v => v === null || (typeof v === 'string' && v.length > 0)
}
const mqttTls: Schema<WharfConfig['mqtt']['tls']> = { kind: 'map', fields: { ...tlsFields, identityAsUsername, vhost: vhostOrNull } }
const acl: Schema<WharfConfig['auth']['defaultAcl']> = { kind: 'map', fields: { publish: list(aclPattern), subscribe: list(aclPattern) } }

// ---- the schema --------------------------------------------------------------------------------------

const schema: Schema<WharfConfig> = {
  kind: 'map',
  fields: {
    dataDir: text,
    host: bindHost,
    log: {
      kind: 'map',
      fields: { level: oneOf('debug', 'info', 'warn', 'error'), format: oneOf('json', 'text'), repeatIntervalSeconds: int(1, 86_400, 'seconds') }
    },
    storage: {
      kind: 'map',
      fields: {
        durability: oneOf('process', 'power'),
        commitWindowMs: int(0, 1000, 'ms'),
        commitBatchMax: int(1, 1_000_000, 'writes'),
        deferredCommitMs: int(0, 1000, 'ms', ' (0 = in its own turn, as every other write)'),
        localBytesMax: int(0, Number.MAX_SAFE_INTEGER, 'bytes', ' (0 = no limit)'),
        diskCheckIntervalMs: int(10, 3_600_000, 'ms'),
        checkpointIntervalMs: int(0, 60_000, 'ms', ' (0 = in the commit, as SQLite does by default)'),
        walBytesMax: int(1_048_576, Number.MAX_SAFE_INTEGER, 'bytes'),
        queueMemoryMessagesMax: int(0, 100_000_000, 'messages', ' (0 = every message in memory)'),
        idleQueueMemoryMessagesMax: int(1, 100_000_000, 'messages'),
        flowStartMessages: int(1, 100_000_000, 'messages'),
        flowHoldMaxMs: int(0, 60_000, 'ms', ' (0 = publishers are never held)')
      }
    },
    mqtt: {
      kind: 'map',
      fields: {
        host: bindHostOrNull,
        port,
        tls: mqttTls,
        ws: { kind: 'map', fields: { host: bindHostOrNull, port, path: wsPath, vhost: vhostOrNull, tls: mqttTls } },
        // MQTT's largest packet: 256 MiB of remaining length plus a 5-byte fixed header.
        maxPacketBytes: int(64, 268_435_460, 'bytes'),
        maxConnections: int(1, 10_000_000, 'connections'),
        // A QoS 1/2 delivery holds a 16-bit packet identifier (§2.2.1; 3.1.1: [MQTT-2.3.1-1]).
        maxInflightMessages: int(1, 65_535, 'messages', ' (MQTT packet identifiers are 16-bit)'),
        maxQueuedMessages: int(0, 1_000_000_000, 'messages'),
        maxQueuedBytes: int(0, Number.MAX_SAFE_INTEGER, 'bytes'),
        queueOverflow: oneOf('drop-oldest', 'drop-newest'),
        // Servers must accept 1-23 character client ids [MQTT-3.1.3-5]; strings are 16-bit length prefixed.
        maxClientIdLength: int(23, 65_535, 'characters', ' (MQTT requires at least 23)'),
        connectTimeoutSeconds: int(1, 3600, 'seconds'),
        partialPacketTimeoutSeconds: int(1, 3600, 'seconds'),
        exchange: mqttExchange,
        vhost: text,
        receiveMaximum: int(1, 65_535, 'messages'),
        topicAliasMaximum: int(0, 65_535, 'aliases'),
        serverKeepAliveSeconds: int(0, 65_535, 'seconds'),
        maximumQos: int(0, 2, 'QoS level'),
        sysIntervalSeconds: int(0, 86_400, 'seconds'),
        warnIntervalSeconds: int(1, 86_400, 'seconds')
      }
    },
    amqp: {
      kind: 'map',
      fields: {
        host: bindHostOrNull,
        port,
        tls,
        vhosts: { kind: 'list', item: text },
        // The spec's minimum frame-max is 4096; frame-max is a 32-bit field.
        frameMaxBytes: int(4096, 0xffffffff, 'bytes', ' (AMQP requires at least 4096)'),
        // channel-max is a 16-bit field; channel 0 is the connection.
        channelMax: int(1, 65_535, 'channels'),
        heartbeatSeconds: int(0, 65_535, 'seconds', ' (0 offers no heartbeat)'),
        maxConnections: int(1, 10_000_000, 'connections'),
        // RabbitMQ's own ceiling for max_message_size is 512 MiB.
        maxMessageBytes: int(1, 536_870_912, 'bytes'),
        handshakeTimeoutSeconds: int(1, 3600, 'seconds'),
        partialFrameTimeoutSeconds: int(1, 3600, 'seconds'),
        writeBufferBytesMax: int(kibibyte, 1024 * mebibyte, 'bytes')
      }
    },
    streams: {
      kind: 'map',
      fields: {
        segmentBytes: int(kibibyte, Number.MAX_SAFE_INTEGER, 'bytes'),
        segmentAgeSeconds: int(1, Number.MAX_SAFE_INTEGER, 'seconds'),
        blockBytes: int(kibibyte, Number.MAX_SAFE_INTEGER, 'bytes')
      }
    },
    tiering: {
      kind: 'map',
      fields: {
        url: tieringUrl,
        s3: { kind: 'map', fields: { endpoint: s3Endpoint, region: s3Region, forcePathStyle: bool } },
        localAgeSeconds: int(0, Number.MAX_SAFE_INTEGER, 'seconds'),
        localBytesMax: int(0, Number.MAX_SAFE_INTEGER, 'bytes'),
        cacheBytesMax: int(64 * kibibyte, Number.MAX_SAFE_INTEGER, 'bytes'),
        prefetchWatermark: fraction,
        uploadRetryInitialMs: int(1, Number.MAX_SAFE_INTEGER, 'ms'),
        uploadRetryMaxMs: int(1, Number.MAX_SAFE_INTEGER, 'ms'),
        checkIntervalMs: int(10, Number.MAX_SAFE_INTEGER, 'ms'),
        requiredAtStart: bool,
        // Start-up, this check included, must fail within seconds for an orchestrator to restart it.
        startCheckTimeoutMs: int(100, 60_000, 'ms')
      }
    },
    archive: {
      kind: 'list',
      item: {
        kind: 'map',
        fields: {
          filter: topicFilter,
          stream: streamName,
          vhost: optional({ kind: 'leaf', allowed: 'must be a vhost name (absent: mqtt.vhost)', test: v => typeof v === 'string' && v.length > 0 }),
          maxAgeSeconds: optional(int(1, Number.MAX_SAFE_INTEGER, 'seconds')),
          maxLengthBytes: optional(int(1, Number.MAX_SAFE_INTEGER, 'bytes'))
        }
      }
    },
    bridges: {
      kind: 'list',
      itemDefaults: defaultBridge,
      item: {
        kind: 'map',
        fields: {
          name: bridgeName,
          url: bridgeUrl,
          vhost: vhostOrNull,
          tls: {
            kind: 'map',
            fields: { caFile: filePathOrNull, certFile: filePathOrNull, keyFile: filePathOrNull, serverName: textOrNull, rejectUnauthorized: bool }
          },
          out: bridgeDirection(' (local)'),
          in: bridgeDirection(' (at the remote)'),
          amqp: {
            kind: 'map',
            fields: {
              exchange: checked('must be an exchange name on the remote, 1-255 bytes', remoteExchangeProblem),
              queue: textOrNull,
              prefetchMessages: int(1, 65_535, 'messages')
            }
          },
          mqtt: {
            kind: 'map',
            fields: {
              qos: int(0, 2, 'QoS level'),
              clientId: textOrNull,
              cleanSession: bool,
              sessionExpirySeconds: int(0, 0xffffffff, 'seconds'),
              protocolVersion: { kind: 'leaf', allowed: 'must be 4 (MQTT 3.1.1) or 5 (MQTT 5.0)', test: v => v === 4 || v === 5 }
            }
          },
          keepAliveSeconds: int(0, 65_535, 'seconds', ' (0 = none)'),
          // MQTT packet identifiers are 16-bit: no more can be in flight on one connection.
          inflightMessagesMax: int(1, 65_535, 'messages'),
          hopsMax: int(1, 255, 'hops'),
          uplinkMessagesPerSecondMax: int(0, 10_000_000, 'messages per second', ' (0 = no cap)'),
          backlogBytesMax: int(0, Number.MAX_SAFE_INTEGER, 'bytes', ' (0 = no bound)'),
          backlogPolicy: oneOf('block', 'drop-oldest'),
          reconnectInitialMs: int(10, 3_600_000, 'ms'),
          reconnectMaxMs: int(10, 3_600_000, 'ms'),
          connectTimeoutMs: int(100, 600_000, 'ms'),
          logIntervalSeconds: int(1, 86_400, 'seconds')
        }
      }
    },
    limits: {
      kind: 'map',
      fields: {
        perConnection: { kind: 'map', fields: { publishMessagesPerSecond: limit('messages/s'), publishBytesPerSecond: limit('bytes/s') } },
        perUser: {
          kind: 'map',
          fields: { publishMessagesPerSecond: limit('messages/s'), publishBytesPerSecond: limit('bytes/s'), connectionsMax: limit('connections') }
        },
        perVhost: { kind: 'map', fields: { connectionsMax: limit('connections') } },
        perSourceIp: { kind: 'map', fields: { connectionsPerSecond: limit('connections/s'), addressesMax: int(1, 100_000_000, 'addresses') } },
        publishBurstMs: int(1, 60_000, 'ms'),
        verifierCacheEntriesMax: int(0, 10_000_000, 'entries', ' (0 = every login runs scrypt)')
      }
    },
    admin: { kind: 'map', fields: { host: bindHost, port, tls: adminTls } },
    metrics: { kind: 'map', fields: { queueLabelsMax: int(0, 100_000, 'queues'), rateSampleIntervalSeconds: int(1, 3600, 'seconds') } },
    metering: { kind: 'map', fields: { recordIntervalSeconds: int(0, 86_400 * 31, 'seconds', ' (0 = no usage records)'), node: nodeName } },
    diagnose: {
      kind: 'map',
      fields: {
        sampleIntervalSeconds: int(1, 3600, 'seconds'),
        samplesMax: int(2, 1000, 'samples'),
        redeliveriesMin: int(2, 1_000_000, 'deliveries')
      }
    },
    runtime: {
      kind: 'map',
      fields: {
        backgroundThreadsNice: int(0, 19, 'nice steps', " (0 = at the event loop's priority)"),
        heapWatermarkRatio: heapRatio,
        heapCheckIntervalMs: int(100, 60_000, 'ms')
      }
    },
    auth: {
      kind: 'map',
      fields: {
        allowAnonymous: bool,
        users: {
          kind: 'list',
          item: {
            kind: 'map',
            fields: {
              username: text,
              passwordHash,
              scramSha256,
              publish: list(aclPattern),
              subscribe: list(aclPattern),
              vhosts: list(text),
              tags: list(oneOf(...userTags))
            }
          }
        },
        guest: { kind: 'map', fields: { enabled: bool } },
        permissions: {
          kind: 'list',
          item: { kind: 'map', fields: { user: text, vhost: text, configure: permissionRegex, write: permissionRegex, read: permissionRegex } }
        },
        topicPermissions: {
          kind: 'list',
          item: { kind: 'map', fields: { user: text, vhost: text, exchange: text, write: permissionRegex, read: permissionRegex } }
        },
        defaultAcl: acl
      }
    }
  }
}

// Credentials are not echoed: a plaintext password pasted by mistake must not reach logs, nor keys.
const secretFields = ['.passwordHash', '.scramSha256']

// ---- the walk ----------------------------------------------------------------------------------------

/**
 * Merges `raw` over the defaults and validates the result. A missing or null section takes its defaults;
 * unknown keys, wrong types and out-of-range values throw a ConfigError naming the field.
 */
export function validateConfig(raw: unknown, source?: string, options: ValidateOptions = {}): WharfConfig {
  const fail: Fail = (field, value, allowed) => {
    const redact = secretFields.some(f => field.endsWith(f)) && value !== undefined
    throw new ConfigError({ field, value, allowed, source: sourceOf(options.fieldSources, field) ?? source, redact })
  }
  // The typed schema guarantees the walk returns the WharfConfig shape; the walk itself is untyped.
  const config = walk(schema as unknown as Node, raw, defaultConfig(), '', fail) as WharfConfig
  for (const check of crossChecks) check(config, fail)
  return config
}

function walk(node: Node, raw: unknown, fallback: unknown, path: string, fail: Fail): unknown {
  if (node.kind === 'map') return walkMap(node, raw, fallback, path, fail)
  // A list written as an empty YAML key (`users:`) is null and means the default, as for sections.
  const value = raw === undefined || (raw === null && node.kind === 'list') ? fallback : raw
  if (node.kind === 'list') {
    if (!Array.isArray(value)) return fail(path, value, 'must be a list')
    return value.map((item: unknown, i) => walk(node.item as Node, item, node.itemDefaults?.(), `${path}[${i}]`, fail))
  }
  if (!node.test(value)) {
    const detail = node.explain?.(value) ?? null
    fail(path, node.display === undefined ? value : node.display(value), detail === null ? node.allowed : `${node.allowed}; this one ${detail}`)
  }
  return value
}

function walkMap(node: MapNode<Record<string, unknown>>, raw: unknown, fallback: unknown, path: string, fail: Fail): Record<string, unknown> {
  const keys = Object.keys(node.fields)
  const given = raw === undefined || raw === null ? {} : raw
  if (!isPlainObject(given)) return fail(path || '(top level)', raw, `must be a mapping with keys ${keys.join(', ')}`)
  for (const key of Object.keys(given)) {
    if (!keys.includes(key)) fail(join(path, key), given[key], `unknown key; allowed keys${path === '' ? '' : ' under ' + path}: ${keys.join(', ')}`)
  }
  const defaults = isPlainObject(fallback) ? fallback : {}
  const out: Record<string, unknown> = {}
  for (const key of keys) {
    const child = node.fields[key] as Node
    const value = given[key]
    const optional = child.kind !== 'map' && child.optional === true
    if (optional && (value === undefined || value === null) && defaults[key] === undefined) continue
    if (child.kind !== 'map' && value === undefined && defaults[key] === undefined) fail(join(path, key), undefined, 'is required')
    out[key] = walk(child, value, defaults[key], join(path, key), fail)
  }
  return out
}

/** The variable a field came from: its own, or the one that set a list it is an item of (WHARF_BRIDGE_OUT_TOPICS). */
function sourceOf(sources: Readonly<Record<string, string>> | undefined, field: string): string | undefined {
  if (sources === undefined) return undefined
  const own = sources[field]
  if (own !== undefined) return own
  const list = /^(.*)\[\d+\]$/.exec(field)?.[1]
  return list === undefined ? undefined : sources[list]
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
