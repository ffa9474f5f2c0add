// `wharf passwd [--scram [--iterations N]]`: the password from stdin as auth.users credentials. Plain:
// the scrypt hash alone (scripts read one line). With --scram: two lines, `passwordHash: ...` and
// `scramSha256: ...`, to paste into a users entry of the YAML.
import type { Writable } from 'node:stream'
import { hashPassword } from '../core/auth/password-hash.ts'
import { formatScramCredentials, newScramCredentials, scramIterationsDefault, scramIterationsMax, scramIterationsMin } from '../core/auth/scram-credentials.ts'

export const passwdUsage = `Usage:
  wharf passwd                              read a password on stdin, print its scrypt hash for auth.users[].passwordHash
  wharf passwd --scram [--iterations N]     print passwordHash and scramSha256 (SCRAM-SHA-256, RFC 5803) lines
                                            for an auth.users entry; N ${scramIterationsMin}-${scramIterationsMax}, default ${scramIterationsDefault}
`

export interface PasswdCommandIo {
  readonly stdin: AsyncIterable<Buffer | string> | Iterable<Buffer | string>
  readonly stdout: Writable
  readonly stderr: Writable
}

interface PasswdArgs {
  scram: boolean
  iterations: number | undefined
  help: boolean
}

export async function passwdCommand(
  argv: string[],
  io: PasswdCommandIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }
): Promise<number> {
  let args: PasswdArgs
  try {
    args = parsePasswdArgs(argv)
  } catch (err) {
    io.stderr.write(`wharf passwd: ${(err as Error).message}\n\n${passwdUsage}`)
    return 2
  }
  if (args.help) {
    io.stdout.write(passwdUsage)
    return 0
  }
  const chunks: Buffer[] = []
  for await (const chunk of io.stdin) chunks.push(Buffer.from(chunk))
  const password = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '')
  if (password.length === 0) {
    io.stderr.write('wharf passwd: empty password on stdin\n')
    return 1
  }
  if (!args.scram) {
    io.stdout.write(hashPassword(password) + '\n')
    return 0
  }
  // Wharf skips SASLprep (the identity for printable ASCII); a client that applies it may derive another key.
  if (!/^[\x20-\x7e]*$/.test(password)) {
    io.stderr.write('wharf passwd: warning: the password is not printable ASCII; SCRAM clients that apply SASLprep to it may not log in\n')
  }
  const scram = newScramCredentials(password, args.iterations ?? scramIterationsDefault)
  io.stdout.write(`passwordHash: ${hashPassword(password)}\nscramSha256: ${formatScramCredentials(scram)}\n`)
  return 0
}

function parsePasswdArgs(argv: string[]): PasswdArgs {
  const args: PasswdArgs = { scram: false, iterations: undefined, help: false }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--scram') args.scram = true
    else if (arg === '--help' || arg === '-h') args.help = true
    else if (arg === '--iterations') args.iterations = parseIterations(argv[++i])
    else if (arg.startsWith('--iterations=')) args.iterations = parseIterations(arg.slice('--iterations='.length))
    else throw new Error(`unknown argument "${arg}"`)
  }
  if (args.iterations !== undefined && !args.scram) throw new Error('--iterations applies to --scram only')
  return args
}

function parseIterations(text: string | undefined): number {
  const n = text !== undefined && /^[0-9]{1,9}$/.test(text) ? Number(text) : NaN
  if (!(n >= scramIterationsMin && n <= scramIterationsMax)) {
    throw new Error(`--iterations ${text ?? '(missing)'}: must be an integer ${scramIterationsMin}-${scramIterationsMax}`)
  }
  return n
}
