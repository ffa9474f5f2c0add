// The HTTP client of `wharf ctl`: the management API with HTTP Basic credentials. A refusal
// (4xx/5xx) carries the API's reason; a broker that cannot be reached says where it was looked for.
import { CtlError, exitRefused, exitUnreachable } from './ctl-io.ts'

const requestTimeoutMs = 30_000

export class AdminClient {
  private readonly authorization: string

  constructor(
    readonly baseUrl: string,
    user: string,
    password: string
  ) {
    this.authorization = 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64')
  }

  async get(path: string): Promise<unknown> {
    return await this.request('GET', path)
  }
  async put(path: string, body: unknown): Promise<unknown> {
    return await this.request('PUT', path, body)
  }
  async post(path: string, body: unknown): Promise<unknown> {
    return await this.request('POST', path, body)
  }
  async delete(path: string, headers: Record<string, string> = {}): Promise<unknown> {
    return await this.request('DELETE', path, undefined, headers)
  }

  /** The JSON answer (undefined for 201/204); a CtlError for a refusal or an unreachable broker. */
  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<unknown> {
    const url = this.baseUrl.replace(/\/+$/, '') + path
    let res: Response
    try {
      res = await fetch(url, {
        method,
        headers: { authorization: this.authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(requestTimeoutMs)
      })
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause
      throw new CtlError(exitUnreachable, `${method} ${url}: cannot reach the broker's admin API: ${cause?.code ?? cause?.message ?? (err as Error).message}`)
    }
    const text = await res.text()
    let parsed: unknown
    try {
      parsed = text === '' ? undefined : JSON.parse(text)
    } catch {
      parsed = text
    }
    if (res.status >= 400) {
      const reason = typeof parsed === 'object' && parsed !== null && 'reason' in parsed ? String((parsed as { reason: unknown }).reason) : text
      throw new CtlError(exitRefused, `${method} ${path}: ${res.status} ${res.statusText}: ${reason}`)
    }
    return parsed
  }
}

/** A name as one path segment ('/' is %2F, as the API wants vhosts). */
export function seg(name: string): string {
  return encodeURIComponent(name)
}
