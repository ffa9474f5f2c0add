// What holds the publishers of a vhost back (the disk watermark, a bridge's backlog bound), asked by
// the protocol adapters for each publisher's vhost: the reasons joined ('; '), or null.
export type PublishHold = (vhost: string) => string | null

/** Nothing holds anyone back. */
export const noPublishHold: PublishHold = () => null
