// The configuration file's access definitions in the store's terms (core/auth/seed-definitions.ts):
//   amqp.vhosts                  -> vhosts
//   auth.users                   -> users (password hash, SCRAM credentials, tags)
//   auth.permissions             -> permissions; a user named nowhere there gets ".*" ".*" ".*" in each
//                                   vhost of its legacy `vhosts` list (absent = ["/"]), as before
//   auth.topicPermissions        -> topic permissions
//   users[].publish / subscribe  -> a topic permission on mqtt.exchange in each vhost the user has
//   and auth.defaultAcl             permissions in (adapters/mqtt/topic-acl.ts), unless
//                                   auth.topicPermissions gives that exchange for that user and vhost
import type { WharfConfig } from '../edge-config/config-types.ts'
import type { Definitions } from '../core/auth/seed-definitions.ts'
import type { UserPermissions, UserTopicPermission } from '../core/auth/access-store.ts'
import { fullPermissions } from '../core/auth/access-types.ts'
import { aclTopicPermission } from '../adapters/mqtt/topic-acl.ts'

export function definitionsFromConfig(config: WharfConfig): Definitions {
  const { auth } = config
  const permissions: UserPermissions[] = []
  const topicPermissions: UserTopicPermission[] = auth.topicPermissions.map(t => ({ ...t }))
  for (const u of auth.users) {
    const explicit = auth.permissions.filter(p => p.user === u.username)
    const mine =
      explicit.length > 0
        ? explicit.map(p => ({ ...p }))
        : (u.vhosts ?? ['/']).filter(v => config.amqp.vhosts.includes(v)).map(vhost => ({ user: u.username, vhost, ...fullPermissions }))
    permissions.push(...mine)
    const topic = aclTopicPermission(u, auth.defaultAcl, config.mqtt.exchange)
    if (topic === undefined) continue
    for (const { vhost } of mine) {
      const given = auth.topicPermissions.some(t => t.user === u.username && t.vhost === vhost && t.exchange === topic.exchange)
      if (!given) topicPermissions.push({ user: u.username, vhost, ...topic })
    }
  }
  return {
    vhosts: config.amqp.vhosts,
    users: auth.users.map(u => ({ name: u.username, passwordHash: u.passwordHash, scramSha256: u.scramSha256 ?? null, tags: u.tags ?? [] })),
    permissions,
    topicPermissions
  }
}
