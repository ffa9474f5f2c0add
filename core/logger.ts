// The log: one line per event, fields first-class, level filtered at the call. Two formats of the
// same event: JSON lines (log.format json, for collectors) and text (log.format text, for people):
//   2024-05-01T10:00:00.000Z WARN  amqp: connection closed by the server replyCode=320 reason="broker shutdown"
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type LogFormat = 'json' | 'text'

const levelRank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
  child(fields: Record<string, unknown>): Logger
}

export type LogSink = (line: string) => void

const stdoutSink: LogSink = line => process.stdout.write(line + '\n')

export function createLogger(level: LogLevel, sink: LogSink = stdoutSink, base: Record<string, unknown> = {}, format: LogFormat = 'json'): Logger {
  const min = levelRank[level]
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (levelRank[lvl] < min) return
    const time = new Date().toISOString()
    sink(format === 'json' ? JSON.stringify({ time, level: lvl, msg, ...base, ...fields }, errorReplacer) : textLine(time, lvl, msg, { ...base, ...fields }))
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: fields => createLogger(level, sink, { ...base, ...fields }, format)
  }
}

/** `<time> <LEVEL> <component>: <msg> key=value ...`; values with spaces, quotes or '=' are quoted. */
export function textLine(time: string, level: LogLevel, msg: string, fields: Record<string, unknown>): string {
  const { component, ...rest } = fields
  const head = `${time} ${level.toUpperCase().padEnd(5)} ${component === undefined ? '' : `${String(component)}: `}${msg}`
  const pairs: string[] = []
  for (const [k, v] of Object.entries(rest)) {
    if (v === undefined) continue
    pairs.push(`${k}=${textValue(v)}`)
  }
  return pairs.length === 0 ? head : `${head} ${pairs.join(' ')}`
}

function textValue(v: unknown): string {
  if (v instanceof Error) return textValue(v.message)
  if (typeof v === 'string') return v === '' || /[\s"=\\]/.test(v) ? JSON.stringify(v) : v
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v)
  return JSON.stringify(v, errorReplacer) ?? String(v)
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { message: value.message, name: value.name }
  return value
}

export const silentLogger: Logger = createLogger('error', () => {})
