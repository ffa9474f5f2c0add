// defaults → YAML file → WHARF_* environment → validate, as litestream loads its config.
import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import type { WharfConfig } from './config-types.ts'
import { ConfigError } from './config-error.ts'
import { applyEnvOverrides } from './env-overrides.ts'
import { validateConfig } from './validate-config.ts'

export interface LoadConfigOptions {
  /** YAML config file; absent: defaults and environment only. */
  file?: string | undefined
  /** Usually process.env; absent: no environment overrides. */
  env?: Record<string, string | undefined>
}

/**
 * Loads the configuration or throws a ConfigError. Paths in it (dataDir, TLS files) are used as written:
 * a relative path is relative to the process's working directory, not to the config file.
 */
export function loadConfig(opts: LoadConfigOptions = {}): WharfConfig {
  const fromFile = opts.file === undefined ? {} : readYaml(opts.file)
  const { raw, fieldSources } = applyEnvOverrides(fromFile, opts.env ?? {})
  return validateConfig(raw, opts.file, { fieldSources })
}

function readYaml(file: string): unknown {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw ConfigError.file(file, 'cannot read config file', err)
  }
  try {
    // An empty file (or one holding only comments) parses to null: all defaults.
    return parseYaml(text) ?? {}
  } catch (err) {
    throw ConfigError.file(file, 'bad YAML', err)
  }
}
