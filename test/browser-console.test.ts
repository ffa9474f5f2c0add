// The operator console (/console) in a real headless Chromium (Debian's, through playwright-core): it
// loads without script errors, logs in with the admin API's auth, its charts move under MQTT load, and
// its actions (close a connection, purge a queue, end an MQTT session) work end to end. Screenshots go
// to a temporary directory (its path is printed) to be looked at.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { launchChromium, pageRecordingErrors, pageWaitMs } from './support/browser.ts'
import type { MqttClient } from 'mqtt'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { connect as mqttConnect, closed as mqttClosed } from './support/mqtt-helpers.ts'
import { adminFetch } from './support/admin-http.ts'

describe('console in headless Chromium', { timeout: 120_000 }, () => {
  let broker: TestBroker
  let browser: Browser
  let page: Page
  const pageErrors: string[] = []
  const shots = mkdtempSync(join(tmpdir(), 'wharf-console-shots-'))
  const dialogs: string[] = []

  before(async () => {
    broker = await startTestBroker()
    browser = await launchChromium()
    page = await pageRecordingErrors(browser, pageErrors, { viewport: { width: 1360, height: 1000 } })
    page.on('dialog', d => {
      dialogs.push(d.message())
      void d.dismiss()
    })
    process.stdout.write(`# console screenshots: ${shots}\n`)
  })

  after(async () => {
    try {
      await browser?.close()
    } finally {
      await broker?.close()
    }
  })

  test('the page and uPlot (from its npm package) are served without credentials; the API is not', async () => {
    const html = await fetch(`${broker.adminUrl}/console`)
    assert.equal(html.status, 200)
    assert.match(html.headers.get('content-security-policy') ?? '', /default-src 'self'/)
    const bundle = await fetch(`${broker.adminUrl}/console/uplot.iife.min.js`)
    const installed = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist', 'uPlot.iife.min.js')
    assert.equal(await bundle.text(), readFileSync(installed, 'utf8'))
    const scripted = await fetch(`${broker.adminUrl}/api/overview`, { headers: { 'x-requested-with': 'XMLHttpRequest' } })
    assert.equal(scripted.status, 401)
    assert.equal(scripted.headers.get('www-authenticate'), null, "no browser dialog for the console's requests")
  })

  test('a wrong password is refused on the form; the right one opens the console without script errors', async () => {
    await page.goto(`${broker.adminUrl}/console?interval=300`)
    await page.getByLabel('User').fill('guest')
    await page.getByLabel('Password').fill('wrong')
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByText('wrong user name or password').waitFor()
    await page.screenshot({ path: join(shots, '1-login.png') })
    // Chromium logs the refused request itself; nothing else may have gone wrong.
    assert.deepEqual(
      pageErrors.filter(e => !/status of 401/.test(e)),
      []
    )
    pageErrors.length = 0
    await page.getByLabel('Password').fill('guest')
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.locator('#app:not([hidden])').waitFor()
    await page.locator('#who-name', { hasText: 'guest (administrator)' }).waitFor()
    await page.waitForFunction(() => Number(document.getElementById('chart-rates')?.dataset.points ?? 0) >= 2)
    assert.deepEqual(pageErrors, [])
    assert.deepEqual(dialogs, [])
  })

  test('the charts move under load', async () => {
    const publisher = await mqttConnect(broker.mqttUrl, { clientId: 'console-load' })
    const subscriber = await mqttConnect(broker.mqttUrl, { clientId: 'console-reader', clean: false })
    await subscriber.subscribeAsync('load/#', { qos: 1 })
    let running = true
    const load = (async () => {
      while (running) await publisher.publishAsync('load/x', 'payload', { qos: 1 })
    })()
    try {
      const last = async (id: string): Promise<Record<string, number>> =>
        JSON.parse((await page.locator(`#${id}`).getAttribute('data-last')) ?? '{}') as Record<string, number>
      await page.waitForFunction(
        () => {
          const last = JSON.parse(document.getElementById('chart-rates')?.dataset.last ?? '{}') as Record<string, number>
          return (last.publish ?? 0) > 10 && (last.deliver ?? 0) > 10
        },
        undefined,
        { timeout: pageWaitMs }
      )
      assert.ok(((await last('chart-connections')).connections ?? 0) >= 2)
      assert.ok(((await last('chart-storage')).local ?? 0) > 0, 'the store holds bytes')
      const publishKpi = Number(await page.locator('#kpi-publish').textContent())
      assert.ok(publishKpi > 0, `publish /s shown: ${publishKpi}`)
      await page.screenshot({ path: join(shots, '2-under-load.png'), fullPage: true })
    } finally {
      running = false
      await load
      publisher.end(true)
      subscriber.end(true)
    }
    assert.deepEqual(pageErrors, [])
  })

  test('connections: filter, sort, and Close (two clicks) disconnects the client', async () => {
    const victim: MqttClient = await mqttConnect(broker.mqttUrl, { clientId: 'console-victim', reconnectPeriod: 0 })
    const other = await mqttConnect(broker.mqttUrl, { clientId: 'console-bystander', reconnectPeriod: 0 })
    try {
      await page.getByRole('tab', { name: /Connections/ }).click()
      await page.locator('#table tbody tr', { hasText: 'console-victim' }).waitFor()
      await page.getByLabel('Filter').fill('victim')
      await page.waitForFunction(() => document.querySelectorAll('#table tbody tr').length === 1)
      await page.getByLabel('Filter').fill('')
      await page.getByRole('button', { name: 'Client' }).click()
      await page.waitForFunction(() => document.querySelector('#table th[aria-sort]')?.textContent?.trim() === 'Client')
      const clients = await page.locator('#table tbody tr td:nth-child(5)').allTextContents()
      assert.deepEqual(
        clients,
        [...clients].sort((a, b) => a.localeCompare(b)),
        'sorted by client id'
      )
      const row = page.locator('#table tbody tr', { hasText: 'console-victim' })
      const gone = mqttClosed(victim)
      await row.getByRole('button', { name: 'Close' }).click()
      await row.getByRole('button', { name: 'Close?' }).click()
      await gone
      await page.locator('#toast', { hasText: 'closed' }).waitFor()
      await page.locator('#table tbody tr', { hasText: 'console-victim' }).waitFor({ state: 'detached' })
      assert.ok(other.connected, 'only the chosen connection was closed')
    } finally {
      victim.end(true)
      other.end(true)
    }
  })

  test('queues: Purge empties a queue; sessions: Delete ends an MQTT session', async () => {
    await adminFetch(`${broker.adminUrl}/api/queues/%2F/console-jobs`, { method: 'PUT', body: '{}' })
    for (let i = 0; i < 5; i++)
      await adminFetch(`${broker.adminUrl}/api/exchanges/%2F/amq.default/publish`, {
        method: 'POST',
        body: JSON.stringify({ routing_key: 'console-jobs', payload: `job ${i}`, properties: {} })
      })
    await page.getByRole('tab', { name: /^Queues/ }).click()
    const row = page.locator('#table tbody tr', { hasText: 'console-jobs' })
    await row.locator('td:nth-child(4)', { hasText: '5' }).waitFor()
    await page.screenshot({ path: join(shots, '3-queues.png'), fullPage: true })
    await row.getByRole('button', { name: 'Purge' }).click()
    await row.getByRole('button', { name: 'Purge?' }).click()
    await page.locator('#table tbody tr', { hasText: 'console-jobs' }).locator('td:nth-child(4)', { hasText: /^0$/ }).waitFor()
    const q = (await (await adminFetch(`${broker.adminUrl}/api/queues/%2F/console-jobs`)).json()) as { messages: number }
    assert.equal(q.messages, 0)

    const device = await mqttConnect(broker.mqttUrl, { clientId: 'console-device', clean: false, reconnectPeriod: 0 })
    await device.subscribeAsync('cmd/#', { qos: 1 })
    try {
      await page.getByRole('tab', { name: /MQTT sessions/ }).click()
      const session = page.locator('#table tbody tr', { hasText: 'console-device' })
      await session.locator('.badge.online').waitFor()
      await page.screenshot({ path: join(shots, '4-sessions.png'), fullPage: true })
      const gone = mqttClosed(device)
      await session.getByRole('button', { name: 'Delete' }).click()
      await session.getByRole('button', { name: 'Delete?' }).click()
      await gone
      await page.locator('#table tbody tr', { hasText: 'console-device' }).waitFor({ state: 'detached' })
      assert.equal((await adminFetch(`${broker.adminUrl}/api/queues/%2F/${encodeURIComponent('mqtt-session/console-device')}`)).status, 404)
    } finally {
      device.end(true)
    }
    assert.deepEqual(pageErrors, [])
  })

  test('logging out shows the login form again', async () => {
    await page.getByRole('button', { name: 'Log out' }).click()
    await page.locator('#login:not([hidden])').waitFor()
    assert.equal(await page.locator('#app').isHidden(), true)
  })
})
