import { loadConfig } from '../edge-config/load-config.ts'
import { ConfigError } from '../edge-config/config-error.ts'
import { createLogger } from '../core/logger.ts'
import { startWharf } from './wharf-node.ts'
import { segmentsCommand } from './segments-command.ts'
import { passwdCommand } from './passwd-command.ts'
import { wharfVersion } from './version.ts'

const usage = `wharf ${wharfVersion} — multi-protocol edge message broker

Usage:
  wharf start [--config FILE]          start the broker (defaults, then FILE, then WHARF_* env)
  wharf check-config [--config FILE]   validate the configuration and exit (0 = valid)
  wharf passwd                         read a password on stdin, print its scrypt hash for auth.users
  wharf passwd --scram [--iterations N]   also print its SCRAM-SHA-256 credentials (wharf passwd --help)
  wharf segments list|dump KEY         segments in the cold tier (wharf segments --help)
  wharf --version                      print the version
  wharf --help                         this text
`

interface ParsedArgs { command: string | undefined, configFile: string | undefined, error?: string }

function parseArgs (argv: string[]): ParsedArgs {
  let command: string | undefined
  let configFile: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--config' || arg === '-c') {
      configFile = argv[++i]
      if (configFile === undefined) return { command, configFile, error: '--config needs a file path' }
    } else if (arg.startsWith('--config=')) {
      configFile = arg.slice('--config='.length)
    } else if (arg === '--version' || arg === '-v') {
      command = 'version'
    } else if (arg === '--help' || arg === '-h') {
      command = 'help'
    } else if (command === undefined && !arg.startsWith('-')) {
      command = arg
    } else {
      return { command, configFile, error: `unknown argument "${arg}"` }
    }
  }
  return { command, configFile }
}

export async function main (argv: string[]): Promise<number> {
  // Commands with their own arguments (a key, --url, --scram) parse them themselves.
  if (argv[0] === 'segments') return await segmentsCommand(argv.slice(1))
  if (argv[0] === 'passwd') return await passwdCommand(argv.slice(1))
  const args = parseArgs(argv)
  if (args.error) { process.stderr.write(`wharf: ${args.error}\n\n${usage}`); return 2 }
  switch (args.command) {
    case 'version': process.stdout.write(`wharf ${wharfVersion}\n`); return 0
    case 'help': case undefined: process.stdout.write(usage); return args.command === 'help' ? 0 : 2
    case 'check-config': return checkConfig(args.configFile)
    case 'start': return start(args.configFile)
    case 'passwd': return await passwdCommand([])
    default: process.stderr.write(`wharf: unknown command "${args.command}"\n\n${usage}`); return 2
  }
}

function configOrExit (file: string | undefined): ReturnType<typeof loadConfig> | null {
  try {
    return loadConfig({ file, env: process.env })
  } catch (err) {
    if (err instanceof ConfigError) { process.stderr.write(`wharf: ${err.message}\n`); return null }
    throw err
  }
}

function checkConfig (file: string | undefined): number {
  const config = configOrExit(file)
  if (!config) return 1
  process.stdout.write(`wharf: configuration ${file ?? '(defaults and environment)'} is valid\n`)
  return 0
}

async function start (file: string | undefined): Promise<number> {
  const config = configOrExit(file)
  if (!config) return 1
  const logger = createLogger(config.log.level)
  let node
  try {
    node = await startWharf(config, logger)
  } catch (err) {
    logger.error('start-up failed', { error: (err as Error).message })
    return 1
  }
  const running = node
  return await new Promise<number>(resolve => {
    let stopping = false
    const stop = (signal: string): void => {
      if (stopping) return
      stopping = true
      logger.info('signal received, shutting down', { signal })
      running.close().then(() => resolve(0), err => {
        logger.error('shutdown failed', { error: (err as Error).message })
        resolve(1)
      })
    }
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
  })
}
