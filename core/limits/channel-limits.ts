// Channels per user over all their connections (RabbitMQ's user limit max-channels). Only AMQP has
// channels; an MQTT connection opens none. The refusal text is RabbitMQ's (rabbit_reader).
import type { Admission } from './connection-limits.ts'

export class ChannelLimits {
  private readonly perUser = new Map<string, number>()

  /** @param userLimit the user's max-channels, undefined or negative for none. */
  constructor(private readonly userLimit: (username: string) => number | undefined) {}

  /** Counts one more channel of `username`, or refuses it. */
  acquire(username: string): Admission {
    const max = this.userLimit(username)
    const open = this.perUser.get(username) ?? 0
    if (max !== undefined && max >= 0 && open >= max) {
      return { ok: false, limit: 'user', reason: `number of channels opened for user '${username}' has reached the maximum allowed user limit of (${max})` }
    }
    this.perUser.set(username, open + 1)
    let released = false
    return {
      ok: true,
      release: () => {
        if (released) return
        released = true
        const n = (this.perUser.get(username) ?? 0) - 1
        if (n <= 0) this.perUser.delete(username)
        else this.perUser.set(username, n)
      }
    }
  }

  channelsOfUser(username: string): number {
    return this.perUser.get(username) ?? 0
  }
}
