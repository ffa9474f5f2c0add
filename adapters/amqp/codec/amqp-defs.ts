// The one typed wrapper around amqplib's generated AMQP 0-9-1 codec (lib/defs.js).
// defs.js decodes argument bytes into plain objects and encodes whole frames; this
// module adds what a server needs on top: strict length checks on peer input (defs.js
// silently truncates short strings and ignores trailing bytes), errors that carry the
// reply code, and types.
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { AmqpCodecError, hexMethodId } from './codec-error.ts'
import { FRAME_ERROR, INTERNAL_ERROR, NOT_IMPLEMENTED } from './reply-codes.ts'
import type { BasicProperties, MethodFieldsByName, MethodName } from './method-types.ts'

export type * from './method-types.ts'

export const Methods = {
  ConnectionStart: 0x000a000a,
  ConnectionStartOk: 0x000a000b,
  ConnectionSecure: 0x000a0014,
  ConnectionSecureOk: 0x000a0015,
  ConnectionTune: 0x000a001e,
  ConnectionTuneOk: 0x000a001f,
  ConnectionOpen: 0x000a0028,
  ConnectionOpenOk: 0x000a0029,
  ConnectionClose: 0x000a0032,
  ConnectionCloseOk: 0x000a0033,
  ConnectionBlocked: 0x000a003c,
  ConnectionUnblocked: 0x000a003d,
  ConnectionUpdateSecret: 0x000a0046,
  ConnectionUpdateSecretOk: 0x000a0047,
  ChannelOpen: 0x0014000a,
  ChannelOpenOk: 0x0014000b,
  ChannelFlow: 0x00140014,
  ChannelFlowOk: 0x00140015,
  ChannelClose: 0x00140028,
  ChannelCloseOk: 0x00140029,
  AccessRequest: 0x001e000a,
  AccessRequestOk: 0x001e000b,
  ExchangeDeclare: 0x0028000a,
  ExchangeDeclareOk: 0x0028000b,
  ExchangeDelete: 0x00280014,
  ExchangeDeleteOk: 0x00280015,
  ExchangeBind: 0x0028001e,
  ExchangeBindOk: 0x0028001f,
  ExchangeUnbind: 0x00280028,
  ExchangeUnbindOk: 0x00280033, // 51, not 41: RabbitMQ's numbering
  QueueDeclare: 0x0032000a,
  QueueDeclareOk: 0x0032000b,
  QueueBind: 0x00320014,
  QueueBindOk: 0x00320015,
  QueuePurge: 0x0032001e,
  QueuePurgeOk: 0x0032001f,
  QueueDelete: 0x00320028,
  QueueDeleteOk: 0x00320029,
  QueueUnbind: 0x00320032,
  QueueUnbindOk: 0x00320033,
  BasicQos: 0x003c000a,
  BasicQosOk: 0x003c000b,
  BasicConsume: 0x003c0014,
  BasicConsumeOk: 0x003c0015,
  BasicCancel: 0x003c001e,
  BasicCancelOk: 0x003c001f,
  BasicPublish: 0x003c0028,
  BasicReturn: 0x003c0032,
  BasicDeliver: 0x003c003c,
  BasicGet: 0x003c0046,
  BasicGetOk: 0x003c0047,
  BasicGetEmpty: 0x003c0048,
  BasicAck: 0x003c0050,
  BasicReject: 0x003c005a,
  BasicRecoverAsync: 0x003c0064,
  BasicRecover: 0x003c006e,
  BasicRecoverOk: 0x003c006f,
  BasicNack: 0x003c0078,
  TxSelect: 0x005a000a,
  TxSelectOk: 0x005a000b,
  TxCommit: 0x005a0014,
  TxCommitOk: 0x005a0015,
  TxRollback: 0x005a001e,
  TxRollbackOk: 0x005a001f,
  ConfirmSelect: 0x0055000a,
  ConfirmSelectOk: 0x0055000b
} as const satisfies { readonly [N in MethodName]: number }

export type MethodId = (typeof Methods)[MethodName]

/** A decoded method, discriminated by `name` (or `id`). */
export type DecodedMethod = {
  [N in MethodName]: { readonly id: (typeof Methods)[N]; readonly name: N; readonly fields: MethodFieldsByName[N] }
}[MethodName]

export type FieldsOf<I extends MethodId> = Extract<DecodedMethod, { readonly id: I }>['fields']

/** Methods followed by a content header and body frames (spec: content="1"). */
export type ContentMethodId = typeof Methods.BasicPublish | typeof Methods.BasicReturn | typeof Methods.BasicDeliver | typeof Methods.BasicGetOk

export const BASIC_CLASS_ID = 60

export interface MethodInfo {
  readonly id: MethodId
  /** amqplib's name, e.g. 'BasicPublish' */
  readonly name: MethodName
  /** the spec's name, e.g. 'basic.publish' */
  readonly specName: string
  readonly classId: number
  readonly methodId: number
  readonly hasContent: boolean
  readonly fieldNames: readonly string[]
}

// ---- loading defs.js ----

type WireType = 'octet' | 'short' | 'long' | 'longlong' | 'timestamp' | 'shortstr' | 'longstr' | 'table' | 'bit'

interface DefsArg {
  readonly type: WireType
  readonly name: string
}
interface DefsInfo {
  readonly id: number
  readonly name: string
  readonly args: readonly DefsArg[]
}
interface AmqplibDefs {
  decode: (id: number, buffer: Buffer) => Record<string, unknown>
  encodeMethod: (id: number, channel: number, fields: object) => Buffer
  encodeProperties: (id: number, channel: number, size: number, fields: object) => Buffer
  info: (id: number) => DefsInfo
  readonly constants: Readonly<Record<string, number>>
}

const require = createRequire(import.meta.url)

/** amqplib's exports map hides lib/, so find the package directory and load by path. */
function amqplibDir(): string {
  try {
    return dirname(require.resolve('amqplib/package.json'))
  } catch {
    let dir = dirname(require.resolve('amqplib'))
    for (let depth = 0; depth < 4; depth++, dir = dirname(dir)) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown }
        if (pkg.name === 'amqplib') return dir
      } catch {}
    }
    throw new Error('amqp codec: cannot find the amqplib package directory')
  }
}

const defs = require(join(amqplibDir(), 'lib', 'defs.js')) as AmqplibDefs

const CONTENT_METHODS: ReadonlySet<number> = new Set<number>([Methods.BasicPublish, Methods.BasicReturn, Methods.BasicDeliver, Methods.BasicGetOk])
const WIRE_TYPES: ReadonlySet<string> = new Set(['octet', 'short', 'long', 'longlong', 'timestamp', 'shortstr', 'longstr', 'table', 'bit'])

interface MethodMeta extends MethodInfo {
  readonly args: readonly DefsArg[]
}

function specNameOf(name: string): string {
  return name
    .replace(/^([A-Z][a-z]+)/, '$1.')
    .replace(/([a-z])([A-Z])/g, '$1-$2')
    .toLowerCase()
}

function checkedArgs(info: DefsInfo, what: string): readonly DefsArg[] {
  for (const arg of info.args) {
    if (!WIRE_TYPES.has(arg.type)) throw new Error(`amqp codec: amqplib defs.js ${what} field ${arg.name} has unknown type ${arg.type}`)
  }
  return info.args
}

// Built once at load; a mismatch with the pinned amqplib fails here, not mid-connection.
const metaById = new Map<number, MethodMeta>()
for (const [name, id] of Object.entries(Methods) as Array<[MethodName, MethodId]>) {
  const info = defs.info(id)
  if (info.name !== name) throw new Error(`amqp codec: amqplib defs.js names ${hexMethodId(id)} ${info.name}, expected ${name}`)
  const args = checkedArgs(info, name)
  metaById.set(id, {
    id,
    name,
    specName: specNameOf(name),
    classId: id >>> 16,
    methodId: id & 0xffff,
    hasContent: CONTENT_METHODS.has(id),
    fieldNames: args.map(arg => arg.name),
    args
  })
}
const basicPropertyArgs = checkedArgs(defs.info(BASIC_CLASS_ID), 'BasicProperties')

// ---- lookups ----

export function info(id: number): MethodInfo | undefined {
  return metaById.get(id)
}

/** 'basic.publish' for a known id, '0x003c00ff' otherwise (for logs and reply texts). */
export function methodName(id: number): string {
  return metaById.get(id)?.specName ?? hexMethodId(id)
}

// ---- decoding (peer input: every failure is an AmqpCodecError with a reply code) ----

/** Decodes method arguments (the method frame payload after its 4-byte id). */
export function decodeMethod(id: number, args: Buffer): DecodedMethod {
  const meta = metaById.get(id)
  const op = `amqp codec: decode method ${hexMethodId(id)}`
  if (meta === undefined) {
    throw new AmqpCodecError(`${op}: unknown class ${id >>> 16} method ${id & 0xffff}`, NOT_IMPLEMENTED, { methodId: id })
  }
  const problem = layoutProblem(meta.args, args, 0)
  if (problem !== undefined) {
    throw new AmqpCodecError(`${op}: ${meta.specName} ${problem}`, FRAME_ERROR, { methodId: id })
  }
  let fields: Record<string, unknown>
  try {
    fields = defs.decode(id, args)
  } catch (err) {
    throw new AmqpCodecError(`${op}: ${meta.specName} ${messageOf(err)}`, FRAME_ERROR, { cause: err, methodId: id })
  }
  return { id: meta.id, name: meta.name, fields } as unknown as DecodedMethod
}

/** Decodes a whole method frame payload: class id, method id, arguments. */
export function decodeMethodFrame(payload: Buffer): DecodedMethod {
  if (payload.length < 4) {
    throw new AmqpCodecError(`amqp codec: decode method frame: payload of ${payload.length} bytes has no class and method id`, FRAME_ERROR)
  }
  return decodeMethod(payload.readUInt32BE(0), payload.subarray(4))
}

export interface ContentHeader {
  readonly classId: number
  readonly weight: number
  readonly bodySize: number
  /** property flags and property list, undecoded: decode lazily or forward as is */
  readonly properties: Buffer
}

/** Splits a content header frame payload; the properties stay raw (a view, not a copy). */
export function decodeContentHeader(payload: Buffer): ContentHeader {
  const op = 'amqp codec: decode content header'
  // class-id short, weight short, body-size longlong, property-flags short
  if (payload.length < 14) throw new AmqpCodecError(`${op}: payload of ${payload.length} bytes, at least 14 expected`, FRAME_ERROR)
  const bodySize = payload.readBigUInt64BE(4)
  if (bodySize > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new AmqpCodecError(`${op}: body size ${bodySize} is not a usable size`, FRAME_ERROR)
  }
  return {
    classId: payload.readUInt16BE(0),
    weight: payload.readUInt16BE(2),
    bodySize: Number(bodySize),
    properties: payload.subarray(12)
  }
}

/** Decodes property flags + property list; absent properties are absent keys. */
export function decodeProperties(classId: number, buffer: Buffer): BasicProperties {
  const op = `amqp codec: decode properties of class ${classId}`
  if (classId !== BASIC_CLASS_ID) throw new AmqpCodecError(`${op}: no content class ${classId} in AMQP 0-9-1`, FRAME_ERROR)
  if (buffer.length < 2) throw new AmqpCodecError(`${op}: ${buffer.length} bytes, no property flags`, FRAME_ERROR)
  const problem = layoutProblem(basicPropertyArgs, buffer, 2, buffer.readUInt16BE(0))
  if (problem !== undefined) throw new AmqpCodecError(`${op}: ${problem}`, FRAME_ERROR)
  let decoded: Record<string, unknown>
  try {
    decoded = defs.decode(BASIC_CLASS_ID, buffer)
  } catch (err) {
    throw new AmqpCodecError(`${op}: ${messageOf(err)}`, FRAME_ERROR, { cause: err })
  }
  // defs.js sets every absent property to undefined; drop them so keys mean presence
  const properties: Record<string, unknown> = {}
  for (const key in decoded) if (decoded[key] !== undefined) properties[key] = decoded[key]
  return properties as BasicProperties
}

// ---- encoding (our output: failures are values the wire cannot carry) ----

/** Encodes a complete method frame (header, payload, frame-end). */
export function encodeMethod<I extends MethodId>(id: I, channel: number, fields: FieldsOf<I>): Buffer {
  try {
    return defs.encodeMethod(id, channel, fields)
  } catch (err) {
    throw new AmqpCodecError(`amqp codec: encode method ${hexMethodId(id)}: ${methodName(id)} ${messageOf(err)}`, INTERNAL_ERROR, { cause: err, methodId: id })
  }
}

/** Encodes a complete content header frame. */
export function encodeContentHeader(channel: number, classId: number, bodySize: number, properties: BasicProperties): Buffer {
  try {
    if (classId !== BASIC_CLASS_ID) throw new Error(`no content class ${classId} in AMQP 0-9-1`)
    if (!Number.isSafeInteger(bodySize) || bodySize < 0) throw new Error(`body size ${bodySize} is not a byte count`)
    return defs.encodeProperties(classId, channel, bodySize, properties)
  } catch (err) {
    throw new AmqpCodecError(`amqp codec: encode content header of class ${classId}: ${messageOf(err)}`, INTERNAL_ERROR, { cause: err })
  }
}

/** Property flags + property list alone, e.g. to store once and forward with each delivery. */
export function encodeProperties(classId: number, properties: BasicProperties): Buffer {
  const frame = encodeContentHeader(0, classId, 0, properties)
  return Buffer.from(frame.subarray(7 + 12, frame.length - 1)) // frame header, class/weight/size, frame-end
}

// ---- helpers ----

const FIXED_BYTES: Readonly<Record<string, number>> = { octet: 1, short: 2, long: 4, longlong: 8, timestamp: 8 }

/**
 * Walks the wire layout of `args` over `buffer` from `start` and says what is wrong
 * (a field running past the end, or bytes after the last field), else undefined.
 * Runs before defs.js, whose decoders would read a truncated shortstr as a shorter one.
 * With `propertyFlags`, only the properties whose flag bit is set are present.
 */
function layoutProblem(args: readonly DefsArg[], buffer: Buffer, start: number, propertyFlags?: number): string | undefined {
  let offset = start
  let bitsInOctet = 0 // consecutive bits share octets, 8 to an octet
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as DefsArg
    if (propertyFlags !== undefined && (propertyFlags & (0x8000 >>> i)) === 0) continue
    if (arg.type === 'bit') {
      if (bitsInOctet === 0) offset += 1
      bitsInOctet = (bitsInOctet + 1) % 8
    } else {
      bitsInOctet = 0
      offset = fieldEnd(arg.type, buffer, offset)
    }
    if (offset > buffer.length) return `field ${arg.name} (${arg.type}) needs ${offset} bytes, frame has ${buffer.length}`
  }
  if (offset !== buffer.length) return `has ${buffer.length - offset} bytes after the last field`
  return undefined
}

function fieldEnd(type: WireType, buffer: Buffer, offset: number): number {
  switch (type) {
    case 'shortstr':
      return offset + 1 > buffer.length ? offset + 1 : offset + 1 + (buffer[offset] ?? 0)
    case 'longstr':
    case 'table':
      return offset + 4 > buffer.length ? offset + 4 : offset + 4 + buffer.readUInt32BE(offset)
    default:
      return offset + (FIXED_BYTES[type] ?? 0)
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
