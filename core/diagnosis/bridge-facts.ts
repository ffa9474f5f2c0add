// What diagnosis needs to know of a bridge (DESIGN §8), as plain data so core does not depend on the
// bridge adapter: where its backlog queue is, whether its link is up, and how its backlog stands
// against its bound.
export interface BridgeFacts {
  readonly name: string
  /** The remote URL without its password. */
  readonly url: string
  /** connecting, connected, backing-off, error, stopped. */
  readonly state: string
  readonly lastError: string | null
  readonly vhost: string
  readonly queue: string
  readonly backlogMessages: number
  readonly backlogBytes: number
  /** bridges[].backlogBytesMax (0: unbounded). */
  readonly backlogBytesMax: number
  readonly policy: string
  /** Sent and not confirmed by the remote yet, against the link's window. */
  readonly inflightMessages: number
  readonly windowMax: number
  readonly confirmedPerSecond: number
  /** policy block: the backlog is over its bound and publishers are held. */
  readonly blockingPublishers: boolean
}
