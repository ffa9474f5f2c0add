// Debian's Chromium, headless, driven by playwright-core (which never downloads a browser of its own;
// npm test installs the package), and a page that records its script errors for the tests to assert on.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core'

export const chromiumPath = '/usr/bin/chromium'

/** How long a page waits for a selector or an action by default, in ms. */
export const pageWaitMs = 10_000

export async function launchChromium(): Promise<Browser> {
  assert.ok(existsSync(chromiumPath), `${chromiumPath} is missing: install Debian's chromium package (npm test does, through test/debian-packages.sh)`)
  return await chromium.launch({
    executablePath: chromiumPath,
    timeout: 30_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic'
    ]
  })
}

/** A new page whose uncaught exceptions and console errors are pushed to errors. */
export async function pageRecordingErrors(browser: Browser, errors: string[], options: BrowserContextOptions = {}): Promise<Page> {
  const page = await browser.newPage(options)
  page.setDefaultTimeout(pageWaitMs)
  page.on('pageerror', err => errors.push(err.message))
  page.on('console', msg => {
    if (msg.type() === 'error') errors.push(msg.text())
  })
  return page
}
