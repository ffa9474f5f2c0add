// What the process sets up before the broker starts, so that its log stays JSON lines whichever way it
// was started (npm start, the wharf bin, docker): nothing else writes to stdout or stderr on its own.
import type { Logger } from '../core/logger.ts'

/**
 * The AWS SDK prints a multi-line notice about Node versions (process.emitWarning) when the first S3
 * client is built. Not for a broker's operator to act on: off unless the environment says otherwise.
 * Set before the SDK is loaded (it reads the variable then, and again when a client is built).
 */
export function quietSdkNotices(env: NodeJS.ProcessEnv = process.env): void {
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
}

let processLogger: Logger | undefined

/**
 * Node's own warnings (printed on stderr over several lines by default) and errors nobody caught become
 * one log line each, through the latest logger given; an uncaught error still ends the process, with status 1.
 */
export function logProcessEvents(logger: Logger): void {
  const installed = processLogger !== undefined
  processLogger = logger
  if (installed) return
  process.removeAllListeners('warning')
  process.on('warning', warning => processLogger?.warn('process warning', { name: warning.name, warning: warning.message }))
  process.on('uncaughtException', err => fatal('fatal: uncaught exception', err))
  process.on('unhandledRejection', reason => fatal('fatal: unhandled rejection', reason))
}

function fatal(msg: string, reason: unknown): never {
  const err = reason instanceof Error ? reason : new Error(String(reason))
  processLogger?.error(msg, { error: err.message, stack: err.stack })
  process.exit(1)
}
