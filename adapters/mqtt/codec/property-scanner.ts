// Walks one MQTT 5 property section on the wire, because mqtt-packet turns a repeated single-use
// property into an array (or overwrites it) and accepts any property in any packet.

import { PROPERTY_RULES, PropertyId, sectionName, type PropertyRule } from './property-rules.ts'
import type { WireCursor } from './wire-cursor.ts'
import { MqttCodecError } from './codec-error.ts'
import { ReasonCode } from './reason-codes.ts'

/** User Properties in wire order; names may repeat [MQTT-3.3.2-18]. */
export type UserPropertyList = Array<[string, string]>

function hex(id: number): string {
  return `0x${id.toString(16).padStart(2, '0')}`
}

function label(r: PropertyRule): string {
  return `'${r.name}' (${hex(r.id)})`
}

/**
 * Reads the property section at the cursor (Property Length, then the properties) for `section`
 * (a Section bit), leaving the cursor after it and the identifiers seen in cur.seenLo/seenHi.
 * With decode, the values also go to cur.properties in mqtt-packet's shape (null when none).
 * Returns the User Properties in wire order, or null when there are none.
 */
export function scanProperties(cur: WireCursor, section: number, decode = false): UserPropertyList | null {
  const length = cur.varint('Property Length')
  const end = cur.pos + length
  if (end > cur.end) throw cur.malformed(`Property Length ${length} runs past the end of the packet`)
  const packetEnd = cur.end
  cur.end = end // a property that runs past its section is malformed, not read from the payload
  let lo = 0
  let hi = 0
  let user: UserPropertyList | null = null
  let props: Record<string, unknown> | null = null
  while (cur.pos < end) {
    const id = cur.u8('property identifier')
    const rule = PROPERTY_RULES[id]
    if (rule === undefined) throw cur.malformed(`unknown property identifier ${hex(id)} in ${sectionName(section)}`)
    // §2.2.2.2: an identifier not valid for its packet type is a Malformed Packet.
    if ((rule.sections & section) === 0) throw cur.malformed(`property ${label(rule)} not allowed in ${sectionName(section)}`)
    const bit = 1 << (id & 31)
    const seen = (id < 32 ? lo & bit : hi & bit) !== 0
    // Each packet's section: "It is a Protocol Error to include the <property> more than once".
    if (seen && (rule.repeatable & section) === 0) throw cur.protocolError(`duplicate property ${label(rule)} in ${sectionName(section)}`)
    if (id < 32) lo |= bit
    else hi |= bit
    if (id === PropertyId.UserProperty) {
      const name = cur.utf8Value('User Property name')
      const value = cur.utf8Value('User Property value')
      if (user === null) user = [[name, value]]
      else user.push([name, value])
      if (decode) addUserProperty((props ??= {}), name, value)
      continue
    }
    const value = readValue(cur, rule, section, decode)
    if (!decode) continue
    props ??= {}
    const prev = props[rule.key]
    // A repeatable one (Subscription Identifier in PUBLISH) becomes an array, as mqtt-packet has it.
    props[rule.key] = !seen ? value : Array.isArray(prev) ? [...prev, value] : [prev, value]
  }
  cur.end = packetEnd
  cur.seenLo = lo
  cur.seenHi = hi
  cur.properties = props
  return user
}

/** mqtt-packet's form: an object without prototype, a repeated name holding an array. */
function addUserProperty(props: Record<string, unknown>, name: string, value: string): void {
  const all = (props.userProperties ??= Object.create(null)) as Record<string, string | string[]>
  const prev = all[name]
  if (prev === undefined) all[name] = value
  else if (typeof prev === 'string') all[name] = [prev, value]
  else prev.push(value)
}

function readValue(cur: WireCursor, rule: PropertyRule, section: number, decode: boolean): unknown {
  let value: number
  switch (rule.type) {
    case 'utf8':
      if (decode) return cur.utf8Value(rule.name)
      cur.utf8(rule.name)
      return undefined
    case 'binary':
      if (decode) return cur.binaryValue(rule.name)
      cur.binary(rule.name)
      return undefined
    case 'pair':
      throw new Error('User Property is read by scanProperties')
    case 'bool':
    case 'byte':
      value = cur.u8(rule.name)
      break
    case 'u16':
      value = cur.u16(rule.name)
      break
    case 'u32':
      value = cur.u32(rule.name)
      break
    case 'varint':
      value = cur.varint(rule.name)
      break
  }
  if (value < rule.min || value > rule.max) {
    const what = `property ${label(rule)} in ${sectionName(section)} has value ${value}; allowed ${rule.min}..${rule.max}`
    // Topic Alias 0 [MQTT-3.3.2-8] is 0x94 Topic alias invalid, as an alias above the maximum is (as Mosquitto and EMQX answer).
    if (rule.id === PropertyId.TopicAlias) throw new MqttCodecError(ReasonCode.TopicAliasInvalid, `${cur.packet}: ${what}`)
    throw cur.protocolError(what)
  }
  return rule.type === 'bool' ? value !== 0 : value // mqtt-packet gives the 0/1 Bytes as booleans
}
