// `wharf ctl COMMAND`: a CLI over the management API (one file per command, loaded when it runs).
// Where the broker is and who asks: --url, --user, --password, or WHARF_URL, WHARF_USER, WHARF_PASSWORD
// (default http://127.0.0.1:8080, guest/guest: the built-in guest works from loopback).
import { AdminClient } from './admin-client.ts'
import { CtlError, exitUsage, type CtlCommand, type CtlIo } from './ctl-io.ts'

export const ctlUsage = `Usage: wharf ctl [--url URL] [--user USER] [--password PASSWORD] [--json] COMMAND ...

Commands:
  list connections|channels|queues|exchanges|bindings|users|vhosts|permissions|vhost-limits|user-limits [--vhost V]
  close-connection NAME [--reason TEXT]      close an AMQP or MQTT connection (names as listed)
  purge-queue NAME [--vhost V]               drop the queue's ready messages
  delete-queue NAME [--vhost V] [--if-empty] [--if-unused]
                                             MQTT sessions too: mqtt-session/<client id>
  add-user NAME [--tags t1,t2]               asks for the password (hidden; a line on stdin when not a terminal)
  set-permissions USER CONFIGURE WRITE READ [--vhost V]
  set-vhost-limits JSON [--vhost V]          e.g. '{"max-connections": 10, "max-queues": 50}'; -1 clears one
  clear-vhost-limits [NAME] [--vhost V]      one limit, or all of the vhost's
  set-user-limits USER JSON                  e.g. '{"max-connections": 10, "max-channels": 20}'
  clear-user-limits USER [NAME]              one limit, or all of the user's
  export-definitions [FILE]                  RabbitMQ's definitions format (stdout without FILE)
  import-definitions FILE                    prints what was imported and what Wharf does not support
  diagnose                                   why queues lag: each cause with its numbers and a suggestion

Options:
  --url URL             the admin API (env WHARF_URL; default http://127.0.0.1:8080)
  --user, --password    HTTP Basic credentials (env WHARF_USER, WHARF_PASSWORD; default guest/guest)
  --vhost V             default /
  --json                JSON output instead of aligned tables
Exit codes: 0 done, 1 the broker refused the request, 2 usage error, 3 the broker could not be reached,
4 diagnose found a cause.
`

const commands: Record<string, () => Promise<CtlCommand>> = {
  list: async () => (await import('./list.ts')).list,
  'close-connection': async () => (await import('./close-connection.ts')).closeConnection,
  'purge-queue': async () => (await import('./purge-queue.ts')).purgeQueue,
  'delete-queue': async () => (await import('./delete-queue.ts')).deleteQueue,
  'add-user': async () => (await import('./add-user.ts')).addUser,
  'set-permissions': async () => (await import('./set-permissions.ts')).setPermissions,
  'set-vhost-limits': async () => (await import('./object-limits-commands.ts')).setVhostLimits,
  'clear-vhost-limits': async () => (await import('./object-limits-commands.ts')).clearVhostLimits,
  'set-user-limits': async () => (await import('./object-limits-commands.ts')).setUserLimits,
  'clear-user-limits': async () => (await import('./object-limits-commands.ts')).clearUserLimits,
  'export-definitions': async () => (await import('./export-definitions.ts')).exportDefinitions,
  'import-definitions': async () => (await import('./import-definitions.ts')).importDefinitions,
  diagnose: async () => (await import('./diagnose-command.ts')).diagnoseCommand
}

/** Options that take no value. */
const flags = new Set(['json', 'if-empty', 'if-unused', 'help'])

export interface ParsedCtlArgs {
  command: string | undefined
  args: string[]
  options: Map<string, string | true>
}

export function parseCtlArgs(argv: readonly string[]): ParsedCtlArgs {
  const options = new Map<string, string | true>()
  const args: string[] = []
  let command: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '-h') {
      options.set('help', true)
      continue
    }
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=')
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq)
      if (eq >= 0) options.set(name, arg.slice(eq + 1))
      else if (flags.has(name)) options.set(name, true)
      else {
        const value = argv[++i]
        if (value === undefined) throw new CtlError(exitUsage, `--${name} needs a value`)
        options.set(name, value)
      }
    } else if (command === undefined) command = arg
    else args.push(arg)
  }
  return { command, args, options }
}

export async function ctlCommand(
  argv: readonly string[],
  io: CtlIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
  env: Readonly<Record<string, string | undefined>> = process.env
): Promise<number> {
  try {
    const parsed = parseCtlArgs(argv)
    if (parsed.options.has('help') || parsed.command === undefined || parsed.command === 'help') {
      io.stdout.write(ctlUsage)
      return parsed.command === undefined && !parsed.options.has('help') ? exitUsage : 0
    }
    const load = commands[parsed.command]
    if (load === undefined) throw new CtlError(exitUsage, `unknown command "${parsed.command}"`)
    const text = (name: string, envName: string, fallback: string): string => {
      const v = parsed.options.get(name)
      if (v === true) throw new CtlError(exitUsage, `--${name} needs a value`)
      return v ?? env[envName] ?? fallback
    }
    const client = new AdminClient(
      text('url', 'WHARF_URL', 'http://127.0.0.1:8080'),
      text('user', 'WHARF_USER', 'guest'),
      text('password', 'WHARF_PASSWORD', 'guest')
    )
    const run = await load()
    await run({ client, args: parsed.args, options: parsed.options, json: parsed.options.get('json') === true, vhost: text('vhost', 'WHARF_VHOST', '/'), io })
    return 0
  } catch (err) {
    if (!(err instanceof CtlError)) throw err
    io.stderr.write(`wharf ctl: ${err.message}\n`)
    if (err.exitCode === exitUsage) io.stderr.write(`\n${ctlUsage}`)
    return err.exitCode
  }
}
