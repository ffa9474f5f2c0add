// The model's message properties are AMQP basic properties; on disk they are kept in the AMQP
// encoding (property flags + list). The gateway hands this codec to the model's SQLite store.
import type { MessageProperties } from '../../core/model/message.ts'
import { bytesOfHex, type PropertiesCodec } from '../../core/model/sqlite/sqlite-durable-store.ts'
import { BASIC_CLASS_ID, decodeProperties, encodeProperties, type BasicProperties } from './codec/amqp-defs.ts'
import { PropertyInterner } from './property-interner.ts'

/**
 * The repeated lists of messages read back from disk, keyed by the hex the store reads them as (a
 * table of its own: publishes use the adapter's, keyed by their bytes).
 */
const loaded = new PropertyInterner()

const decode = (b: Buffer): MessageProperties => decodeProperties(BASIC_CLASS_ID, b) as MessageProperties

export const amqpPropertiesCodec: PropertiesCodec = {
  encode: (p: MessageProperties) => encodeProperties(BASIC_CLASS_ID, p as BasicProperties),
  decode,
  readStored: (hex: string) => {
    const kept = loaded.get(hex)
    if (kept !== undefined) return kept
    const bytes = bytesOfHex(hex)
    return loaded.lookup(bytes, hex) ?? { bytes, properties: decode(bytes) }
  }
}
