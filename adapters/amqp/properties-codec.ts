// The model's message properties are AMQP basic properties; on disk they are kept in the AMQP
// encoding (property flags + list). The gateway hands this codec to the model's SQLite store.
import type { MessageProperties } from '../../core/model/message.ts'
import type { PropertiesCodec } from '../../core/model/sqlite/sqlite-durable-store.ts'
import { BASIC_CLASS_ID, decodeProperties, encodeProperties, type BasicProperties } from './codec/amqp-defs.ts'
import { PropertyInterner } from './property-interner.ts'

/** The repeated lists of messages loaded from disk (a table of its own: publishes use the adapter's). */
const loaded = new PropertyInterner()

export const amqpPropertiesCodec: PropertiesCodec = {
  encode: (p: MessageProperties) => encodeProperties(BASIC_CLASS_ID, p as BasicProperties),
  decode: (b: Buffer) => decodeProperties(BASIC_CLASS_ID, b) as MessageProperties,
  keep: (b: Buffer) => loaded.lookup(b)
}
