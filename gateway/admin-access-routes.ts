// Changes to the access store over HTTP, as RabbitMQ's management API shapes them (paths, methods, JSON
// fields, 201 created / 204 updated or deleted), so rabbitmqadmin and scripts that manage RabbitMQ users
// work (the reads, with pagination and columns, are management/routes/access-reads.ts):
//   GET /api/whoami
//   PUT|DELETE /api/users/{name}
//   PUT|DELETE /api/vhosts/{name}
//   PUT|DELETE /api/permissions/{vhost}/{user}
//   PUT|DELETE /api/topic-permissions/{vhost}/{user}
// Names are URL-encoded ('/' is %2F). A password is stored as a scrypt hash; password_hash takes one
// (`wharf passwd`), or a RabbitMQ hash with its hashing_algorithm.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AccessStore, Upsert } from '../core/auth/access-store.ts'
import type { Principal, StoredUser, UserTag } from '../core/auth/access-types.ts'
import { hashPassword, isPasswordHash } from '../core/auth/password-hash.ts'
import { isScramCredentials } from '../core/auth/scram-credentials.ts'
import { isRabbitHashingAlgorithm, rabbitStoredHash } from '../core/auth/rabbit-password-hash.ts'
import { isBrokerError } from '../core/errors.ts'
import type { AdminApi } from './admin-http.ts'
import { sendJson } from './admin-http.ts'

const bodyBytesMax = 64 * 1024

type Handler = (ctx: Request) => Promise<void> | void

interface Request {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  /** Decoded path segments after the collection name. */
  readonly names: readonly string[]
  readonly principal: Principal
  readonly store: AccessStore
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message)
  }
}

export function accessRoutes(store: AccessStore): AdminApi {
  return async (req, res, path, principal) => {
    if (path === '/api/whoami') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false
      sendJson(res, 200, { name: principal.username, tags: principal.tags })
      return true
    }
    const match = /^\/api\/(users|vhosts|permissions|topic-permissions)(\/.*)?$/.exec(path)
    if (match === null) return false
    const collection = match[1] as keyof typeof collections
    const handlers = collections[collection]
    const handler = handlers[req.method as keyof typeof handlers]
    if (handler === undefined) {
      sendJson(res, 405, { error: 'method_not_allowed', reason: `${req.method} is not supported on /api/${collection}` })
      return true
    }
    try {
      const names = decodeNames(match[2] ?? '')
      await handler({ req, res, names, principal, store })
    } catch (err) {
      if (err instanceof HttpError) sendJson(res, err.status, { error: err.status === 404 ? 'not_found' : 'bad_request', reason: err.message })
      else if (isBrokerError(err)) sendJson(res, 400, { error: 'bad_request', reason: err.message })
      else throw err
    }
    return true
  }
}

const collections: Record<'users' | 'vhosts' | 'permissions' | 'topic-permissions', Partial<Record<'PUT' | 'DELETE', Handler>>> = {
  users: {
    PUT: async ({ req, res, names, store }) => {
      const name = one(names)
      const body = await readJson(req)
      const existing = store.user(name)
      const user: StoredUser = {
        name,
        passwordHash: passwordHashOf(body) ?? existing?.passwordHash ?? '',
        scramSha256: scramOf(body) ?? existing?.scramSha256 ?? null,
        tags: tagsOf(body.tags) ?? (existing === undefined ? [] : existing.tags)
      }
      upserted(res, await store.putUser(user))
    },
    DELETE: async ({ res, names, store }) => {
      deleted(res, await store.deleteUser(one(names)), `no user '${one(names)}'`)
    }
  },
  vhosts: {
    PUT: async ({ res, names, store }) => {
      upserted(res, (await store.addVhost(one(names))) ? 'created' : 'updated')
    },
    DELETE: async ({ res, names, store }) => {
      deleted(res, await store.deleteVhost(one(names)), `no vhost '${one(names)}'`)
    }
  },
  permissions: {
    PUT: async ({ req, res, names, store }) => {
      const [vhost, user] = two(names)
      const body = await readJson(req)
      upserted(res, await store.setPermissions(user, vhost, { configure: regex(body, 'configure'), write: regex(body, 'write'), read: regex(body, 'read') }))
    },
    DELETE: async ({ res, names, store }) => {
      const [vhost, user] = two(names)
      deleted(res, await store.clearPermissions(user, vhost), `no permissions for user '${user}' in vhost '${vhost}'`)
    }
  },
  'topic-permissions': {
    PUT: async ({ req, res, names, store }) => {
      const [vhost, user] = two(names)
      const body = await readJson(req)
      const exchange = body.exchange
      if (typeof exchange !== 'string' || exchange === '') throw new HttpError(400, 'exchange must be a non-empty string')
      upserted(res, await store.setTopicPermission(user, vhost, { exchange, write: regex(body, 'write'), read: regex(body, 'read') }))
    },
    DELETE: async ({ res, names, store }) => {
      const [vhost, user] = two(names)
      deleted(res, await store.clearTopicPermissions(user, vhost), `no topic permissions for user '${user}' in vhost '${vhost}'`)
    }
  }
}

function passwordHashOf(body: Record<string, unknown>): string | undefined {
  if (typeof body.password === 'string') return hashPassword(body.password)
  if (body.password_hash === undefined) return undefined
  // RabbitMQ's hashes come with their algorithm (rabbitmqadmin declare user ... hashing_algorithm=...).
  if (isRabbitHashingAlgorithm(body.hashing_algorithm) && typeof body.password_hash === 'string') {
    const stored = rabbitStoredHash(body.hashing_algorithm, body.password_hash)
    if (stored === null) throw new HttpError(400, `password_hash is not a ${body.hashing_algorithm} hash`)
    return stored
  }
  if (!isPasswordHash(body.password_hash))
    throw new HttpError(400, 'password_hash must be a scrypt hash as `wharf passwd` prints it, or a RabbitMQ hash with its hashing_algorithm')
  return body.password_hash as string
}

function scramOf(body: Record<string, unknown>): string | undefined {
  if (body.scram_sha256 === undefined) return undefined
  if (!isScramCredentials(body.scram_sha256)) throw new HttpError(400, 'scram_sha256 must be RFC 5803 credentials as `wharf passwd --scram` prints them')
  return body.scram_sha256 as string
}

/** RabbitMQ takes tags as "a,b" or as a list. */
function tagsOf(tags: unknown): UserTag[] | undefined {
  if (tags === undefined) return undefined
  const list =
    typeof tags === 'string'
      ? tags
          .split(',')
          .map(t => t.trim())
          .filter(t => t !== '')
      : tags
  if (!Array.isArray(list) || !list.every(t => typeof t === 'string')) throw new HttpError(400, 'tags must be a comma-separated string or a list of strings')
  return list as UserTag[]
}

function regex(body: Record<string, unknown>, field: string): string {
  const v = body[field]
  if (typeof v !== 'string') throw new HttpError(400, `${field} must be a string (a regular expression)`)
  return v
}

function upserted(res: ServerResponse, outcome: Upsert): void {
  res.writeHead(outcome === 'created' ? 201 : 204)
  res.end()
}

function deleted(res: ServerResponse, existed: boolean, missing: string): void {
  if (!existed) throw new HttpError(404, missing)
  res.writeHead(204)
  res.end()
}

function one(names: readonly string[]): string {
  if (names.length !== 1) throw new HttpError(404, 'expected one name in the path')
  return names[0] as string
}

function two(names: readonly string[]): [string, string] {
  if (names.length !== 2) throw new HttpError(404, 'expected a vhost and a user in the path')
  return [names[0] as string, names[1] as string]
}

function decodeNames(rest: string): string[] {
  try {
    return rest
      .split('/')
      .filter(p => p !== '')
      .map(p => decodeURIComponent(p))
  } catch {
    throw new HttpError(400, `malformed URL encoding in ${rest}`)
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  let bytes = 0
  for await (const chunk of req) {
    bytes += (chunk as Buffer).length
    if (bytes > bodyBytesMax) throw new HttpError(400, `request body over ${bodyBytesMax} bytes`)
    chunks.push(chunk as Buffer)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (text.trim() === '') return {}
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (err) {
    throw new HttpError(400, `request body is not JSON: ${(err as Error).message}`)
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'request body must be a JSON object')
  return body as Record<string, unknown>
}
