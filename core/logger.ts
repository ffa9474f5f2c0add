// Structured JSON-lines logger. One line per event, fields first-class, level filtered at the call.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

const levelRank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
  child(fields: Record<string, unknown>): Logger
}

export function createLogger (level: LogLevel, sink: (line: string) => void = line => process.stdout.write(line + '\n'), base: Record<string, unknown> = {}): Logger {
  const min = levelRank[level]
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (levelRank[lvl] < min) return
    sink(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...base, ...fields }, errorReplacer))
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: fields => createLogger(level, sink, { ...base, ...fields })
  }
}

function errorReplacer (_key: string, value: unknown): unknown {
  if (value instanceof Error) return { message: value.message, name: value.name }
  return value
}

export const silentLogger: Logger = createLogger('error', () => {})
