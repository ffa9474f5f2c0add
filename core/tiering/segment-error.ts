// The one error a segment reader throws for bytes that are not a valid segment (corrupt, truncated,
// another format or version). Callers tell it apart from an object store failure by its code.

export class SegmentFormatError extends Error {
  readonly code = 'SEGMENT_FORMAT'
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'SegmentFormatError'
  }
}

export function isSegmentFormatError(err: unknown): err is SegmentFormatError {
  return err instanceof SegmentFormatError
}

/** The cause of an error, for messages: its message when it is an Error. */
export function causeText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
