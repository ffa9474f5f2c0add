// A configuration the broker refuses, named by field, value and what is allowed:
//   config (wharf.yaml): mqtt.port = 70000: must be an integer port 1-65535, or 0 for any free port
export interface ConfigErrorInit {
  /** Dotted path such as `mqtt.port` or `auth.users[0].username`; '' for the file as a whole. */
  field: string
  value: unknown
  /** What is allowed (or, for a file that cannot be used, what went wrong). */
  allowed: string
  /** Where the value came from: a file path or an environment variable name. */
  source?: string | undefined
  /** Print the value as [redacted] (password hashes: a plaintext password pasted by mistake must not reach logs). */
  redact?: boolean
  cause?: unknown
}

export class ConfigError extends Error {
  readonly field: string
  readonly value: unknown
  readonly allowed: string
  readonly source: string | undefined

  constructor(init: ConfigErrorInit) {
    super(formatMessage(init), init.cause === undefined ? undefined : { cause: init.cause })
    this.name = 'ConfigError'
    this.field = init.field
    this.value = init.value
    this.allowed = init.allowed
    this.source = init.source
  }

  /** The file itself cannot be used: unreadable, or not YAML. */
  static file(path: string, problem: string, cause: unknown): ConfigError {
    const detail = (cause instanceof Error ? cause.message : String(cause)).trimEnd()
    return new ConfigError({ field: '', value: path, allowed: `${problem}: ${detail}`, source: path, cause })
  }
}

const valueTextMax = 80

function formatMessage(init: ConfigErrorInit): string {
  const prefix = init.source === undefined ? 'config' : `config (${init.source})`
  if (init.field === '') return `${prefix}: ${init.allowed}`
  const value = init.redact === true ? '[redacted]' : formatValue(init.value)
  return `${prefix}: ${init.field} = ${value}: ${init.allowed}`
}

function formatValue(value: unknown): string {
  if (value === undefined) return '(missing)'
  const text = JSON.stringify(value) ?? String(value)
  return text.length > valueTextMax ? text.slice(0, valueTextMax - 3) + '...' : text
}
