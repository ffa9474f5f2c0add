// The permission model, RabbitMQ's: vhosts; users with tags; per-vhost configure/write/read regexes
// on exchanges and queues; topic permissions (write/read regexes over routing keys) per exchange.
// Protocol-free: adapters say which operation needs which permission (adapters/*/access.ts).

/** configure: create, delete or alter a resource; write: put messages into it; read: take messages from it. */
export type Access = 'configure' | 'write' | 'read'
export type TopicAccess = 'write' | 'read'
export type ResourceKind = 'exchange' | 'queue'

/** Management tags: what a user may do through the admin API (RabbitMQ's set). */
export const userTags = ['administrator', 'monitoring', 'policymaker', 'management'] as const
export type UserTag = (typeof userTags)[number]

export interface StoredUser {
  readonly name: string
  /** scrypt hash (core/auth/password-hash.ts). */
  readonly passwordHash: string
  /** RFC 5803 SCRAM-SHA-256 credentials, for MQTT 5 enhanced authentication. */
  readonly scramSha256: string | null
  readonly tags: readonly UserTag[]
}

/** Three regexes, matched (unanchored, as RabbitMQ's re:run) against resource names; '' matches nothing. */
export interface VhostPermissions {
  readonly configure: string
  readonly write: string
  readonly read: string
}

/** Regexes over routing keys of one exchange; {username}, {vhost} and {client_id} are substituted. */
export interface TopicPermission {
  readonly exchange: string
  readonly write: string
  readonly read: string
}

/** Values of the topic permission variables; an absent one makes a regex that names it match nothing. */
export interface TopicVariables {
  readonly username?: string
  readonly vhost?: string
  readonly client_id?: string
}

/** Who acts: a stored user, the built-in guest, or an adapter's anonymous client. */
export interface Principal {
  /** null: an anonymous client. */
  readonly username: string | null
  readonly tags: readonly UserTag[]
  /** The user's permissions in the vhost; undefined: no access to it at all. */
  permissions(vhost: string): VhostPermissions | undefined
  /** The topic permission for the exchange; undefined: the exchange's routing keys are not restricted. */
  topicPermission(vhost: string, exchange: string): TopicPermission | undefined
}

/** Full access, as RabbitMQ's `set_permissions ".*" ".*" ".*"`. */
export const fullPermissions: VhostPermissions = Object.freeze({ configure: '.*', write: '.*', read: '.*' })
