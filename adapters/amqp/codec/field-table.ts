// Field tables outside method frames: the AMQPLAIN SASL response is a table's contents without
// its length prefix. Decoded with amqplib's codec (lib/codec.js), loaded by path as amqp-defs.ts
// loads defs.js; failures are 501 FRAME_ERROR like every other bad peer input.
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { AmqpCodecError } from './codec-error.ts'
import { FRAME_ERROR } from './reply-codes.ts'
import type { FieldTable } from './method-types.ts'

const require = createRequire(import.meta.url)
// amqplib's exports map hides lib/; its main module sits at the package root.
const codec = require(join(dirname(require.resolve('amqplib')), 'lib', 'codec.js')) as {
  decodeFields: (slice: Buffer) => Record<string, unknown>
}

/** Decodes the fields of a table (the bytes after its long length prefix). */
export function decodeTableFields(bytes: Buffer): FieldTable {
  try {
    return codec.decodeFields(bytes) as FieldTable
  } catch (err) {
    throw new AmqpCodecError(`amqp codec: decode field table of ${bytes.length} bytes: ${err instanceof Error ? err.message : String(err)}`, FRAME_ERROR, {
      cause: err
    })
  }
}
