#!/usr/bin/env node
// The `wharf` command: runs the JavaScript compiled from the TypeScript sources into dist/ (`npm install`
// builds it through the prepare script; `npm run build` again after a change). Stack traces point into
// the .ts sources through the source maps the build writes beside each file.
import { existsSync } from 'node:fs'

process.setSourceMapsEnabled(true)
const cli = new URL('../../dist/gateway/cli.js', import.meta.url)
if (!existsSync(cli)) {
  process.stderr.write(`wharf: ${cli.pathname} is missing: build it with \`npm run build\` (npm install runs it)\n`)
  process.exit(1)
}
const { main } = await import(cli.href)
process.exitCode = await main(process.argv.slice(2))
