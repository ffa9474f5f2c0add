// `wharf segments list|dump`: what the cold tier holds, read through the same object store and
// segment decoder as the broker, so an operator can check an offload without starting Wharf.
import type { Writable } from 'node:stream'
import { loadConfig } from '../edge-config/load-config.ts'
import { ConfigError } from '../edge-config/config-error.ts'
import type { WharfConfig } from '../edge-config/config-types.ts'
import type { ObjectStore } from '../core/tiering/object-store.ts'
import { configuredObjectStore } from './tiering-wiring.ts'
import { decodeSegment } from '../core/tiering/segment-format.ts'
import { recordToJson } from '../core/tiering/segment-record-json.ts'
import { parseSegmentKey } from '../core/tiering/segment-name.ts'

export const segmentsUsage = `Usage:
  wharf segments list [--config FILE] [--url URL]         segments in the cold tier: key, vhost, stream, offsets, bytes (tab-separated)
  wharf segments dump KEY [--config FILE] [--url URL]     one segment as JSON lines: its header, then every record

  --url file:///DIR | s3://BUCKET[/PREFIX]   the object store; default: tiering.url of the configuration
                                             (file://<dataDir>/cold when unset). S3 endpoint, region and
                                             path style come from tiering.s3 of the configuration.
`

export interface SegmentsCommandIo {
  readonly stdout: Writable
  readonly stderr: Writable
  readonly env: Record<string, string | undefined>
}

interface SegmentsArgs {
  sub: string | undefined
  key: string | undefined
  configFile: string | undefined
  url: string | undefined
}

export async function segmentsCommand(
  argv: string[],
  io: SegmentsCommandIo = { stdout: process.stdout, stderr: process.stderr, env: process.env }
): Promise<number> {
  let args: SegmentsArgs
  try {
    args = parseSegmentsArgs(argv)
  } catch (err) {
    io.stderr.write(`wharf segments: ${(err as Error).message}\n\n${segmentsUsage}`)
    return 2
  }
  if (args.sub === 'help') {
    io.stdout.write(segmentsUsage)
    return 0
  }
  if (args.sub !== 'list' && args.sub !== 'dump') {
    io.stderr.write(`wharf segments: ${args.sub === undefined ? 'needs list or dump' : `unknown subcommand "${args.sub}"`}\n\n${segmentsUsage}`)
    return 2
  }
  if (args.sub === 'dump' && args.key === undefined) {
    io.stderr.write(`wharf segments dump: needs a KEY (see wharf segments list)\n\n${segmentsUsage}`)
    return 2
  }
  if (args.sub === 'list' && args.key !== undefined) {
    io.stderr.write(`wharf segments list: unexpected argument "${args.key}"\n\n${segmentsUsage}`)
    return 2
  }
  let store: ObjectStore
  try {
    store = storeOf(args, io.env)
  } catch (err) {
    io.stderr.write(`wharf segments: ${(err as Error).message}\n`)
    return 1
  }
  try {
    if (args.sub === 'list') await list(store, io)
    else await dump(store, args.key as string, io)
    return 0
  } catch (err) {
    io.stderr.write(`wharf segments ${args.sub} (${store.description}): ${(err as Error).message}\n`)
    return 1
  }
}

function parseSegmentsArgs(argv: string[]): SegmentsArgs {
  const args: SegmentsArgs = { sub: undefined, key: undefined, configFile: undefined, url: undefined }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    const value = (flag: string): string => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`${flag} needs a value`)
      return v
    }
    if (arg === '--config' || arg === '-c') args.configFile = value(arg)
    else if (arg.startsWith('--config=')) args.configFile = arg.slice('--config='.length)
    else if (arg === '--url') args.url = value(arg)
    else if (arg.startsWith('--url=')) args.url = arg.slice('--url='.length)
    else if (arg === '--help' || arg === '-h') args.sub = 'help'
    else if (arg.startsWith('-') && arg !== '-') throw new Error(`unknown option "${arg}"`)
    else if (args.sub === undefined) args.sub = arg
    else if (args.key === undefined) args.key = arg
    else throw new Error(`unexpected argument "${arg}"`)
  }
  return args
}

/** --url wins over tiering.url; the S3 options always come from the configuration (defaults, file, WHARF_* env). */
function storeOf(args: SegmentsArgs, env: Record<string, string | undefined>): ObjectStore {
  let config: WharfConfig
  try {
    config = loadConfig({ file: args.configFile, env })
  } catch (err) {
    if (err instanceof ConfigError) throw new Error(err.message)
    throw err
  }
  return configuredObjectStore(config, env, args.url ?? undefined)
}

async function list(store: ObjectStore, io: SegmentsCommandIo): Promise<void> {
  const objects = await store.list('')
  const lines = ['key\tvhost\tstream\tfirstOffset\tlastOffset\tbytes']
  let segments = 0
  let bytes = 0
  for (const object of objects) {
    const parsed = parseSegmentKey(object.key)
    if (parsed === null) continue
    segments++
    bytes += object.sizeBytes
    lines.push([object.key, parsed.vhost, parsed.stream, parsed.firstOffset, parsed.lastOffset, object.sizeBytes].join('\t'))
  }
  await writeLines(io.stdout, lines)
  const others = objects.length - segments
  io.stderr.write(
    `${segments} segment${segments === 1 ? '' : 's'}, ${bytes} bytes in ${store.description}${others > 0 ? ` (${others} other object${others === 1 ? '' : 's'} not listed)` : ''}\n`
  )
}

async function dump(store: ObjectStore, key: string, io: SegmentsCommandIo): Promise<void> {
  const bytes = await store.get(key)
  let decoded: ReturnType<typeof decodeSegment>
  try {
    decoded = decodeSegment(bytes)
  } catch (err) {
    throw new Error(`${key}: ${(err as Error).message}`)
  }
  const lines = [JSON.stringify(decoded.index.header)]
  for (const record of decoded.records) lines.push(JSON.stringify(recordToJson(record)))
  await writeLines(io.stdout, lines)
}

/** Writes lines in chunks, waiting for drain; a closed pipe (`| head`) ends the output quietly. */
async function writeLines(out: Writable, lines: readonly string[]): Promise<void> {
  const chunkLines = 1000
  let closed = false
  // Stays attached: an EPIPE can arrive after the last write returned.
  out.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') closed = true
    else throw err
  })
  for (let i = 0; i < lines.length && !closed; i += chunkLines) {
    const text = lines.slice(i, i + chunkLines).join('\n') + '\n'
    if (!out.write(text)) await drained(out)
  }
}

function drained(out: Writable): Promise<void> {
  return new Promise(resolve => {
    const done = (): void => {
      out.off('drain', done)
      out.off('close', done)
      resolve()
    }
    out.on('drain', done)
    out.on('close', done)
  })
}
