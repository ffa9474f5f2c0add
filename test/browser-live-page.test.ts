// The admin live page in a real headless Chromium: it subscribes and publishes over MQTT/WebSocket, and
// meets mqtt.js (TCP) and amqplib clients on the same broker. Debian's chromium, driven by playwright-core
// (which never downloads a browser of its own); .ci/run installs the package.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { launchChromium, pageRecordingErrors, pageWaitMs } from './support/browser.ts'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { connect as mqttConnect, collector, end } from './support/mqtt-helpers.ts'
import { connect as amqpConnect, consume, closeQuietly } from './support/amqp-helpers.ts'
import type { ChannelModel } from 'amqplib'
import { adminFetch } from './support/admin-http.ts'

describe('live page in headless Chromium', { timeout: 120_000 }, () => {
  let broker: TestBroker | undefined
  let browser: Browser | undefined
  let page: Page
  const pageErrors: string[] = []

  before(async () => {
    broker = await startTestBroker()
    browser = await launchChromium()
    // The live page is an admin resource: the browser answers the Basic challenge as guest (loopback).
    page = await pageRecordingErrors(browser, pageErrors, { httpCredentials: { username: 'guest', password: 'guest' } })
    await page.goto(`${broker.adminUrl}/live`)
    await page.waitForSelector('#status[data-state="connected"]')
    await page.getByLabel('Topic filter').fill('sensors/#')
    await page.getByRole('button', { name: 'Subscribe' }).click()
    await page.waitForSelector('li.subscription[data-filter="sensors/#"]')
  })

  after(async () => {
    try {
      await browser?.close()
    } finally {
      await broker?.close()
    }
  })

  test('the admin server serves the page, its script, the mqtt.js bundle and where the WebSocket listener is', async () => {
    assert.ok(broker)
    const anonymous = await fetch(`${broker.adminUrl}/live`)
    assert.equal(anonymous.status, 401, 'the live page needs the same credentials as the rest of the admin API')
    assert.equal(anonymous.headers.get('www-authenticate'), 'Basic realm="Wharf"')
    const html = await adminFetch(`${broker.adminUrl}/live`)
    assert.equal(html.status, 200)
    assert.match(html.headers.get('content-type') ?? '', /^text\/html/)
    assert.match(await html.text(), /<script src="\/live\/mqtt\.min\.js"><\/script>/)

    const bundle = await adminFetch(`${broker.adminUrl}/live/mqtt.min.js`)
    assert.equal(bundle.status, 200)
    assert.match(bundle.headers.get('content-type') ?? '', /^application\/javascript/)
    const installed = join(dirname(createRequire(import.meta.url).resolve('mqtt/package.json')), 'dist', 'mqtt.min.js')
    assert.equal(await bundle.text(), readFileSync(installed, 'utf8'))

    const script = await adminFetch(`${broker.adminUrl}/live/live.js`)
    assert.equal(script.status, 200)
    assert.match(script.headers.get('content-type') ?? '', /^application\/javascript/)

    const config = await adminFetch(`${broker.adminUrl}/live/config.json`)
    assert.deepEqual(await config.json(), { wsPort: broker.node.ports.ws, wsPath: '/mqtt', messagesShownMax: 200 })
  })

  test('the page connected over WebSocket and subscribed without script errors', async () => {
    assert.match((await page.locator('#status').textContent()) ?? '', new RegExp(`ws://127\\.0\\.0\\.1:${broker?.node.ports.ws}/mqtt`))
    assert.deepEqual(pageErrors, [])
  })

  test('an mqtt.js publish over TCP shows on the page', async () => {
    assert.ok(broker)
    const publisher = await mqttConnect(broker.mqttUrl, { clientId: 'live-mqtt-publisher' })
    try {
      await publisher.publishAsync('sensors/a/temp', 'from-mqtt', { qos: 1 })
      const shown = page.locator('li.message[data-topic="sensors/a/temp"]')
      await shown.waitFor()
      assert.equal(await shown.locator('.payload').textContent(), 'from-mqtt')
      assert.equal(await shown.getAttribute('data-qos'), '1')
    } finally {
      await end(publisher)
    }
  })

  test('an amqplib publish to amq.topic shows on the page under the MQTT topic', async () => {
    assert.ok(broker)
    let conn: ChannelModel | undefined
    try {
      conn = await amqpConnect(broker.amqpUrl)
      const ch = await conn.createConfirmChannel()
      ch.publish('amq.topic', 'sensors.b.temp', Buffer.from('from-amqp'), { deliveryMode: 2 })
      await ch.waitForConfirms()
      // '.' in the routing key is '/' in the MQTT topic.
      const shown = page.locator('li.message[data-topic="sensors/b/temp"]')
      await shown.waitFor()
      assert.equal(await shown.locator('.payload').textContent(), 'from-amqp')
      assert.equal(await page.locator('li.message[data-topic="sensors/a/temp"] .payload').textContent(), 'from-mqtt')
    } finally {
      await closeQuietly(conn)
    }
  })

  test('a publish from the page reaches an mqtt.js subscriber', async () => {
    assert.ok(broker)
    const subscriber = await mqttConnect(broker.mqttUrl, { clientId: 'live-mqtt-subscriber' })
    try {
      const got = collector(subscriber)
      await subscriber.subscribeAsync('cmd/#', { qos: 1 })
      await publishFromPage('cmd/fan', 'off', '1')
      const [message] = await got.waitFor(1, pageWaitMs)
      assert.deepEqual(message && { topic: message.topic, payload: message.payload }, { topic: 'cmd/fan', payload: 'off' })
    } finally {
      await end(subscriber)
    }
  })

  test('a publish from the page reaches an AMQP queue bound to amq.topic', async () => {
    assert.ok(broker)
    let conn: ChannelModel | undefined
    try {
      conn = await amqpConnect(broker.amqpUrl)
      const ch = await conn.createChannel()
      const { queue } = await ch.assertQueue('', { exclusive: true })
      await ch.bindQueue(queue, 'amq.topic', 'cmd.#')
      const inbox = await consume(ch, queue, { noAck: true })
      await publishFromPage('cmd/led', 'on', '1')
      const [delivery] = await inbox.waitFor(1, pageWaitMs)
      assert.ok(delivery)
      assert.equal(delivery.fields.exchange, 'amq.topic')
      assert.equal(delivery.fields.routingKey, 'cmd.led')
      assert.equal(delivery.content.toString(), 'on')
    } finally {
      await closeQuietly(conn)
    }
  })

  /** Fills the page's publish form and waits for the page to report the broker's acknowledgement. */
  async function publishFromPage(topic: string, payload: string, qos: string): Promise<void> {
    await page.getByLabel('Topic', { exact: true }).fill(topic)
    await page.getByLabel('Payload').fill(payload)
    await page.getByLabel('QoS').selectOption(qos)
    await page.getByRole('button', { name: 'Publish' }).click()
    await page.waitForSelector(`#publish-result[data-state="ok"]:has-text("published to ${topic}")`)
  }
})
