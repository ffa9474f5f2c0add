// SASL responses of connection.start-ok: PLAIN (RFC 4616: authzid NUL authcid NUL passwd) and
// RabbitMQ's AMQPLAIN (a field table's contents with LOGIN and PASSWORD).
import { decodeTableFields } from './codec/field-table.ts'

export const MECHANISMS = ['PLAIN', 'AMQPLAIN'] as const

export interface Credentials {
  readonly username: string
  readonly password: string
}

/** The credentials in a response, or undefined when it is malformed or the mechanism unknown. */
export function parseSaslResponse(mechanism: string, response: Buffer): Credentials | undefined {
  if (mechanism === 'PLAIN') {
    const parts = response.toString('utf8').split('\0')
    if (parts.length !== 3) return undefined
    const [, username, password] = parts as [string, string, string]
    return username === '' ? undefined : { username, password }
  }
  if (mechanism === 'AMQPLAIN') {
    try {
      const table = decodeTableFields(response)
      const login = asText(table.LOGIN)
      const password = asText(table.PASSWORD)
      return login === undefined || password === undefined || login === '' ? undefined : { username: login, password }
    } catch {
      return undefined
    }
  }
  return undefined
}

function asText(v: unknown): string | undefined {
  if (typeof v === 'string') return v
  if (Buffer.isBuffer(v)) return v.toString('utf8')
  return undefined
}
