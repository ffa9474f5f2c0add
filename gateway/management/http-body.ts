// Request bodies of the management API: JSON objects, bounded in size.
import type { IncomingMessage } from 'node:http'
import { badRequest } from './api-error.ts'

/** Definitions files are the largest bodies (a RabbitMQ export of a few thousand objects). */
export const bodyBytesMax = 16 * 1024 * 1024

export async function readJsonObject(req: IncomingMessage, what: string, bytesMax = bodyBytesMax): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  let bytes = 0
  for await (const chunk of req) {
    bytes += (chunk as Buffer).length
    if (bytes > bytesMax) throw badRequest(`${what}: request body over ${bytesMax} bytes`)
    chunks.push(chunk as Buffer)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (text.trim() === '') return {}
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (err) {
    throw badRequest(`${what}: request body is not JSON: ${(err as Error).message}`)
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest(`${what}: request body must be a JSON object`)
  return body as Record<string, unknown>
}
