// No Docker engine runs here: the compose file is checked by parsing it against the config it must agree with.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, existsSync } from 'node:fs'
import { parse } from 'yaml'
import { defaultConfig } from '../edge-config/defaults.ts'

interface ComposeService { build?: unknown, ports?: string[], volumes?: string[], environment?: Record<string, string>, healthcheck?: { test: string[] } }

test('docker-compose.yml publishes the default ports, keeps data in a volume and checks readiness', () => {
  const compose = parse(readFileSync(new URL('../docker-compose.yml', import.meta.url), 'utf8')) as { services: Record<string, ComposeService>, volumes: Record<string, unknown> }
  const wharf = compose.services.wharf
  assert.ok(wharf, 'a wharf service')
  assert.ok(wharf.build, 'built from the repository Dockerfile')
  assert.ok(existsSync(new URL('../Dockerfile', import.meta.url)))
  const d = defaultConfig()
  const published = (wharf.ports ?? []).map(p => p.split('#')[0]!.trim())
  for (const port of [d.mqtt.port, d.mqtt.ws.port, d.amqp.port, d.admin.port]) {
    assert.ok(published.includes(`${port}:${port}`), `port ${port} published`)
  }
  const dataDir = wharf.environment?.WHARF_DATA_DIR
  assert.ok(dataDir, 'WHARF_DATA_DIR set')
  const volume = (wharf.volumes ?? []).find(v => v.endsWith(`:${dataDir}`))
  assert.ok(volume, 'the data directory is a volume')
  assert.ok(volume.split(':')[0]! in compose.volumes, 'named volume declared')
  assert.match(wharf.healthcheck?.test.join(' ') ?? '', new RegExp(`${d.admin.port}/readyz`))
})
