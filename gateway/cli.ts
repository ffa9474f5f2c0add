// The `wharf` command. Only what --version and --help need is imported up front: each command loads its
// modules when it runs, so a CLI call does not pay for the broker (the AWS SDK alone takes ~100 ms).
import type { WharfConfig } from '../edge-config/config-types.ts'
import type { Logger } from '../core/logger.ts'
import type { WharfNode } from './wharf-node.ts'
import { quietSdkNotices, logProcessEvents } from './process-setup.ts'
import { wharfVersion } from './version.ts'

const usage = `wharf ${wharfVersion} — multi-protocol edge message broker

Usage:
  wharf start [--config FILE]          start the broker (defaults, then FILE, then WHARF_* env)
  wharf check-config [--config FILE]   validate the configuration and exit (0 = valid)
  wharf passwd                         read a password on stdin, print its scrypt hash for auth.users
  wharf passwd --scram [--iterations N]   also print its SCRAM-SHA-256 credentials (wharf passwd --help)
  wharf segments list|dump KEY         segments in the cold tier (wharf segments --help)
  wharf ctl COMMAND                    operate a running broker over its admin API (wharf ctl --help)
  wharf --version                      print the version
  wharf --help                         this text
`

interface ParsedArgs {
  command: string | undefined
  configFile: string | undefined
  error?: string
}

function parseArgs(argv: string[]): ParsedArgs {
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

export async function main(argv: string[]): Promise<number> {
  quietSdkNotices()
  // Commands with their own arguments (a key, --url, --scram) parse them themselves.
  if (argv[0] === 'segments') return await (await import('./segments-command.ts')).segmentsCommand(argv.slice(1))
  if (argv[0] === 'ctl') return await (await import('./ctl/ctl-command.ts')).ctlCommand(argv.slice(1))
  if (argv[0] === 'passwd') return await (await import('./passwd-command.ts')).passwdCommand(argv.slice(1))
  const args = parseArgs(argv)
  if (args.error) {
    process.stderr.write(`wharf: ${args.error}\n\n${usage}`)
    return 2
  }
  switch (args.command) {
    case 'version':
      process.stdout.write(`wharf ${wharfVersion}\n`)
      return 0
    case 'help':
    case undefined:
      process.stdout.write(usage)
      return args.command === 'help' ? 0 : 2
    case 'check-config':
      return await checkConfig(args.configFile)
    case 'start':
      return start(args.configFile)
    case 'passwd':
      return await (await import('./passwd-command.ts')).passwdCommand([])
    default:
      process.stderr.write(`wharf: unknown command "${args.command}"\n\n${usage}`)
      return 2
  }
}

/** The configuration, or null after writing why it is refused (report: stderr text, or the start-up log line). */
async function configOrReport(file: string | undefined, report: (message: string) => void): Promise<WharfConfig | null> {
  const { loadConfig } = await import('../edge-config/load-config.ts')
  const { ConfigError } = await import('../edge-config/config-error.ts')
  try {
    return loadConfig({ file, env: process.env })
  } catch (err) {
    if (err instanceof ConfigError) {
      report(err.message)
      return null
    }
    throw err
  }
}

async function checkConfig(file: string | undefined): Promise<number> {
  const config = await configOrReport(file, message => process.stderr.write(`wharf: ${message}\n`))
  if (!config) return 1
  // Files the running broker reads later (a bridge's TLS files): checked here, not at start.
  const { bridgeFileProblems } = await import('../edge-config/bridge-files.ts')
  const unreadable = bridgeFileProblems(config, file)
  for (const problem of unreadable) process.stderr.write(`wharf: ${problem.message}\n`)
  if (unreadable.length > 0) return 1
  process.stdout.write(`wharf: configuration ${file ?? '(defaults and environment)'} is valid\n`)
  return 0
}

// A start-up that fails still writes one JSON line (the log format of a running broker), then the
// process ends: whatever start-up left behind (a socket, a timer) may not keep it alive past this.
const exitAfterStartFailureMs = 1000

async function start(file: string | undefined): Promise<number> {
  // Listening for signals from the first moment: a SIGTERM during start-up drains once started
  // instead of killing the process half-way (Node's default for a signal nobody listens to).
  let signalled: string | undefined
  let onSignal = (signal: string): void => {
    signalled ??= signal
  }
  process.once('SIGTERM', () => onSignal('SIGTERM'))
  process.once('SIGINT', () => onSignal('SIGINT'))
  // SIGHUP reloads TLS certificates (Node's default would end the process); before the start, none are loaded yet.
  let onHangup = (): void => {}
  process.on('SIGHUP', () => onHangup())

  const { createLogger } = await import('../core/logger.ts')
  let logger: Logger = createLogger('info')
  logProcessEvents(logger)
  const failed = (cause: string): number => {
    logger.error('start-up failed', { error: cause })
    setTimeout(() => process.exit(1), exitAfterStartFailureMs).unref()
    return 1
  }
  const config = await configOrReport(file, message => failed(message))
  if (!config) return 1
  logger = createLogger(config.log.level, undefined, {}, config.log.format)
  logProcessEvents(logger)
  let running: WharfNode
  try {
    const { startWharf } = await import('./wharf-node.ts')
    running = await startWharf(config, logger)
  } catch (err) {
    return failed((err as Error).message)
  }
  const log = logger
  onHangup = () => {
    const outcomes = running.reloadCertificates()
    log.info('SIGHUP: tls certificates read again', { listeners: outcomes.length, failed: outcomes.filter(o => o.error !== undefined).length })
  }
  return await new Promise<number>(resolve => {
    let stopping = false
    onSignal = (signal: string): void => {
      if (stopping) return
      stopping = true
      log.info('signal received, shutting down', { signal })
      running.close().then(
        () => resolve(0),
        err => {
          log.error('shutdown failed', { error: (err as Error).message })
          resolve(1)
        }
      )
    }
    if (signalled !== undefined) onSignal(signalled)
  })
}
