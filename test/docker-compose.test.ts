// No Docker engine runs here: docker-compose.yml and the Dockerfile are checked by parsing them against
// what they must agree with: Wharf's defaults and config validation, the object store's own settings,
// the bucket the creation job makes, and the files in this repository.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { spawn } from 'node:child_process'
import { startTestBroker } from './support/test-broker.ts'
import { defaultConfig } from '../edge-config/defaults.ts'
import { loadConfig } from '../edge-config/load-config.ts'
import { envOverrides } from '../edge-config/env-overrides.ts'
import { s3Region, tieringUrl } from '../edge-config/tiering-target.ts'
import { parseTieringUrl } from '../core/tiering/tiering-url.ts'

interface ComposeService {
  image?: string
  build?: unknown
  ports?: string[]
  volumes?: string[]
  environment?: Record<string, unknown>
  depends_on?: Record<string, { condition: string }>
  entrypoint?: string[]
  command?: string | string[]
  healthcheck?: { test: string[] }
}
interface Compose {
  services: Record<string, ComposeService>
  volumes: Record<string, unknown>
}

const repoFile = (path: string): URL => new URL(`../${path}`, import.meta.url)
const compose = parse(readFileSync(repoFile('docker-compose.yml'), 'utf8')) as Compose
const dockerfile = readFileSync(repoFile('Dockerfile'), 'utf8')
const packageVersion = (JSON.parse(readFileSync(repoFile('package.json'), 'utf8')) as { version: string }).version

const names = { wharf: 'wharf', store: 'versitygw', bucketJob: 'create-bucket' } as const

function service(name: string): ComposeService {
  const s = compose.services[name]
  assert.ok(s, `docker-compose.yml has a service ${name}`)
  return s
}

/** Environment of a service as strings (compose refuses YAML booleans there, so each must be a string already). */
function env(name: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(service(name).environment ?? {})) {
    assert.equal(typeof value, 'string', `${name}: ${key} must be a quoted string in compose (got ${JSON.stringify(value)})`)
    out[key] = value as string
  }
  return out
}

function envValue(name: string, key: string): string {
  const value = env(name)[key]
  assert.ok(value !== undefined && value !== '', `${name} sets ${key}`)
  return value
}

/** The shell script of a service (compose's $$ is a literal $ in the container). */
function script(name: string): string {
  const command = service(name).command
  return (Array.isArray(command) ? command.join(' ') : (command ?? '')).replaceAll('$$', '$')
}

/** An exact version tag: not latest, not a moving major tag such as 20 or v1. */
function assertPinned(image: string, where: string): void {
  const m = /^([a-z0-9][a-z0-9._/-]*):([A-Za-z0-9_][A-Za-z0-9_.-]*)$/.exec(image)
  assert.ok(m, `${where}: image ${image} has a tag`)
  assert.match(m[2]!, /^v?\d+\.\d+\.\d+/, `${where}: image ${image} is pinned to an exact version`)
}

describe('docker-compose.yml', () => {
  test('the three services exist, started in order: store, bucket job, wharf', () => {
    service(names.store)
    assert.equal(service(names.bucketJob).depends_on?.[names.store]?.condition, 'service_started')
    assert.equal(service(names.wharf).depends_on?.[names.bucketJob]?.condition, 'service_completed_successfully')
  })

  test('every image is pinned by an exact version; wharf is built from the Dockerfile and tagged with the package version', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      assert.ok(s.image, `${name} names its image`)
      assertPinned(s.image, name)
    }
    const wharf = service(names.wharf)
    assert.equal(wharf.build, '.', 'built from the repository Dockerfile')
    assert.equal(wharf.image, `wharf:${packageVersion}`)
  })

  test('wharf publishes exactly the listeners Wharf enables by default, on their own port numbers', () => {
    const d = defaultConfig()
    const published = (service(names.wharf).ports ?? []).map(p => p.split('#')[0]!.trim()).sort()
    // The admin API is published on the host's loopback only, as Wharf binds it to loopback by default.
    const expected = [...[d.mqtt.port, d.mqtt.ws.port, d.amqp.port].map(p => `${p}:${p}`), `${d.admin.host}:${d.admin.port}:${d.admin.port}`].sort()
    assert.deepEqual(published, expected)
    assert.equal(envValue(names.wharf, 'WHARF_ADMIN_HOST'), '0.0.0.0', 'inside the container the admin API listens on the container interface')
    assert.match(service(names.wharf).healthcheck?.test.join(' ') ?? '', new RegExp(`127\\.0\\.0\\.1:${d.admin.port}/readyz`))
  })

  test('the data directory of wharf and of the store are named volumes', () => {
    const dataDir = envValue(names.wharf, 'WHARF_DATA_DIR')
    const storeDir = envValue(names.store, 'VGW_BACKEND_ARG')
    for (const [name, dir] of [
      [names.wharf, dataDir],
      [names.store, storeDir]
    ] as const) {
      const mount = (service(name).volumes ?? []).find(v => v.split(':')[1] === dir)
      assert.ok(mount, `${name}: ${dir} is a volume`)
      assert.ok(mount.split(':')[0]! in compose.volumes, `${name}: volume ${mount.split(':')[0]} declared`)
    }
  })

  test('WHARF_TIERING_URL names the bucket the creation job creates', () => {
    const target = parseTieringUrl(envValue(names.wharf, 'WHARF_TIERING_URL'))
    assert.equal(target.kind, 's3')
    assert.ok(target.kind === 's3')
    const job = script(names.bucketJob)
    const created = [...job.matchAll(/\bs3 mb s3:\/\/([a-z0-9.-]+)/g)].map(m => m[1])
    assert.deepEqual(created, [target.bucket], 'the job makes exactly the bucket of WHARF_TIERING_URL')
    for (const m of job.matchAll(/--bucket ([a-z0-9.-]+)/g)) assert.equal(m[1], target.bucket)
    assert.notEqual(target.prefix, '', 'objects under a prefix')
  })

  test("WHARF_S3_ENDPOINT is the store's service name and container port, and the job uses the same endpoint", () => {
    const endpoint = new URL(envValue(names.wharf, 'WHARF_S3_ENDPOINT'))
    const storePort = /^(?:[\d.]*):(\d+)$/.exec(envValue(names.store, 'VGW_PORT'))
    assert.ok(storePort, 'VGW_PORT is [address]:port')
    assert.equal(endpoint.hostname, names.store)
    assert.equal(endpoint.port, storePort[1])
    const jobEndpoints = [...script(names.bucketJob).matchAll(/--endpoint-url (\S+)/g)].map(m => m[1])
    assert.ok(jobEndpoints.length > 0, 'the job names the endpoint')
    for (const e of jobEndpoints) assert.equal(e, endpoint.origin)
    assert.equal(envValue(names.wharf, 'WHARF_S3_FORCE_PATH_STYLE'), 'true', 'service-name hosts need path-style requests')
  })

  test('credentials and region agree between the store, the bucket job and wharf', () => {
    const store = {
      access: envValue(names.store, 'ROOT_ACCESS_KEY'),
      secret: envValue(names.store, 'ROOT_SECRET_KEY'),
      region: envValue(names.store, 'VGW_REGION')
    }
    for (const name of [names.bucketJob, names.wharf]) {
      assert.equal(envValue(name, 'AWS_ACCESS_KEY_ID'), store.access, `${name}: AWS_ACCESS_KEY_ID`)
      assert.equal(envValue(name, 'AWS_SECRET_ACCESS_KEY'), store.secret, `${name}: AWS_SECRET_ACCESS_KEY`)
      assert.equal(envValue(name, 'AWS_REGION'), store.region, `${name}: AWS_REGION`)
    }
  })

  test("wharf's environment passes Wharf's own config validation and says what it means", () => {
    const wharfEnv = env(names.wharf)
    const known = new Set(envOverrides.map(o => o.name))
    for (const key of Object.keys(wharfEnv).filter(k => k.startsWith('WHARF_'))) assert.ok(known.has(key), `${key} is a variable Wharf reads`)
    const config = loadConfig({ env: wharfEnv })
    assert.equal(config.dataDir, wharfEnv.WHARF_DATA_DIR)
    assert.equal(tieringUrl(config), wharfEnv.WHARF_TIERING_URL)
    assert.equal(config.tiering.s3.endpoint, wharfEnv.WHARF_S3_ENDPOINT)
    assert.equal(config.tiering.s3.forcePathStyle, true)
    assert.equal(s3Region(config, wharfEnv), envValue(names.store, 'VGW_REGION'))
    assert.equal(JSON.stringify(config).includes(envValue(names.wharf, 'AWS_SECRET_ACCESS_KEY')), false, 'the secret never enters the config')
  })
})

describe('Dockerfile', () => {
  const instructions = dockerfile
    .split('\n')
    .map(l => l.trim())
    .filter(l => l !== '' && !l.startsWith('#'))
  const lastStage = instructions.map(l => l.startsWith('FROM ')).lastIndexOf(true)
  const args = (keyword: string): string[] => instructions.filter(l => l.startsWith(`${keyword} `)).map(l => l.slice(keyword.length + 1).trim())

  test('every base image is pinned to an exact version of node 20 on bookworm-slim', () => {
    const bases = args('FROM').map(a => a.split(/\s+/)[0]!)
    assert.ok(bases.length > 0)
    for (const image of bases) {
      assertPinned(image, 'Dockerfile')
      assert.match(image, /^node:20\.\d+\.\d+-bookworm-slim$/)
    }
  })

  test('CMD runs the wharf bin with source maps; the runtime stage has the bin, dist/ from the build stage and the files the compiled code reads', () => {
    const cmd = JSON.parse(args('CMD').at(-1) ?? '[]') as string[]
    assert.equal(cmd[0], 'node')
    assert.ok(cmd.includes('--enable-source-maps'), 'stack traces map to the .ts sources')
    const file = cmd.find((a, i) => i > 0 && !a.startsWith('-'))
    assert.ok(file !== undefined && existsSync(repoFile(file)), `${file} exists`)
    assert.equal(cmd.at(-1), 'start')
    const runtime = instructions.slice(lastStage)
    const copied = runtime.filter(l => l.startsWith('COPY ') && !l.includes('--from')).map(l => l.split(/\s+/)[1]!)
    assert.ok(
      copied.some(c => file.startsWith(c)),
      `${file} is copied`
    )
    for (const path of ['package.json', 'gateway/live-page']) assert.ok(copied.includes(path), `${path} is copied (read at run time)`)
    const fromBuild = runtime.filter(l => l.startsWith('COPY --from=')).map(l => l.split(/\s+/)[2])
    assert.deepEqual(fromBuild.sort(), ['/opt/wharf/dist', '/opt/wharf/node_modules'])
  })

  test('the build stage compiles what tsconfig.build.json includes: npm ci runs the prepare script, then the dev dependencies go', () => {
    const build = JSON.parse(readFileSync(repoFile('tsconfig.build.json'), 'utf8')) as { include: string[] }
    const stage = instructions.slice(0, lastStage)
    const copied = stage.filter(l => l.startsWith('COPY ')).flatMap(l => l.split(/\s+/).slice(1, -1))
    for (const path of [...build.include, 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'])
      assert.ok(copied.includes(path), `${path} is copied into the build stage`)
    const scripts = (JSON.parse(readFileSync(repoFile('package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts
    assert.match(scripts.prepare ?? '', /tsconfig\.build\.json/)
    assert.match(stage.join('\n'), /npm ci\b((?!--omit|--ignore-scripts|&&).)*&& npm prune --omit=dev/)
  })

  test('HEALTHCHECK asks /readyz with node (no curl in slim images), on the admin port, with bounds', () => {
    const healthcheck = args('HEALTHCHECK').at(-1)
    assert.ok(healthcheck !== undefined, 'the Dockerfile has a HEALTHCHECK')
    const [options, command] = healthcheck.split(/\s+CMD\s+/)
    for (const option of ['interval', 'timeout', 'start-period', 'retries']) assert.match(options ?? '', new RegExp(`--${option}=\\d+s?\\b`), `--${option}`)
    const cmd = JSON.parse(command ?? '[]') as string[]
    assert.deepEqual(cmd.slice(0, 2), ['node', '-e'])
    assert.match(cmd[2] ?? '', /127\.0\.0\.1:.*WHARF_ADMIN_PORT\|\|(\d+).*\/readyz/)
    assert.equal(Number(/WHARF_ADMIN_PORT\|\|(\d+)/.exec(cmd[2] ?? '')?.[1]), defaultConfig().admin.port)
  })

  test('the HEALTHCHECK command exits 0 against a ready broker and 1 when nothing answers', async () => {
    const cmd = JSON.parse(
      args('HEALTHCHECK')
        .at(-1)!
        .split(/\s+CMD\s+/)[1]!
    ) as string[]
    // Not spawnSync: the broker runs in this process and must answer meanwhile.
    const run = (adminPort: number): Promise<number | null> =>
      new Promise(resolve => {
        spawn(process.execPath, cmd.slice(1), { env: { ...process.env, WHARF_ADMIN_PORT: String(adminPort) }, stdio: 'ignore', timeout: 10_000 }).once(
          'exit',
          resolve
        )
      })
    const broker = await startTestBroker()
    try {
      assert.equal(await run(broker.node.ports.admin), 0)
    } finally {
      await broker.close()
    }
    assert.equal(await run(broker.node.ports.admin), 1)
  })

  test('data directory, volume and ports agree with the compose file and the defaults; not run as root', () => {
    assert.ok(args('ENV').includes(`WHARF_DATA_DIR=${envValue(names.wharf, 'WHARF_DATA_DIR')}`))
    assert.deepEqual(args('VOLUME'), [envValue(names.wharf, 'WHARF_DATA_DIR')])
    const exposed = args('EXPOSE')
      .flatMap(a => a.split(/\s+/))
      .map(Number)
    const d = defaultConfig()
    for (const port of [d.mqtt.port, d.mqtt.tls.port, d.mqtt.ws.port, d.mqtt.ws.tls.port, d.amqp.port, d.amqp.tls.port, d.admin.port, d.admin.tls.port])
      assert.ok(exposed.includes(port), `EXPOSE ${port}`)
    const user = args('USER').at(-1)
    assert.ok(user !== undefined && user !== 'root' && user !== '0', 'runs as an unprivileged user')
    assert.match(dockerfile, /apt-get install[^\n]*python3[^\n]*make[^\n]*g\+\+/, 'build tools for better-sqlite3')
  })
})
