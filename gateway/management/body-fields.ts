// Fields of management API request bodies, read as RabbitMQ reads them: booleans also as the strings
// "true" / "false" (rabbitmqadmin sends them so), arguments as a JSON object.
import { badRequest } from './api-error.ts'

export function boolField(body: Record<string, unknown>, name: string, fallback: boolean): boolean {
  const v = body[name]
  if (v === undefined || v === null) return fallback
  if (v === true || v === 'true') return true
  if (v === false || v === 'false') return false
  throw badRequest(`${name} must be true or false, got ${JSON.stringify(v)}`)
}

export function stringField(body: Record<string, unknown>, name: string, fallback?: string): string {
  const v = body[name]
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback
    throw badRequest(`${name} is required`)
  }
  if (typeof v !== 'string') throw badRequest(`${name} must be a string, got ${JSON.stringify(v)}`)
  return v
}

export function argumentsField(body: Record<string, unknown>, name = 'arguments'): Record<string, unknown> {
  const v = body[name]
  if (v === undefined || v === null || v === '') return {}
  if (typeof v !== 'object' || Array.isArray(v)) throw badRequest(`${name} must be a JSON object, got ${JSON.stringify(v)}`)
  return v as Record<string, unknown>
}

/** Query flags: ?if-unused=true. */
export function queryFlag(query: URLSearchParams, name: string): boolean {
  return query.get(name) === 'true'
}
