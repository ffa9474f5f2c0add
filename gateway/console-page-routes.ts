// The operator console at /console: plain files (no build step) and uPlot, the chart library, served
// from its installed npm package (no CDN). The files hold no data and are served without credentials,
// so the page can show its login form; everything it shows comes from the management API, asked with
// the credentials given there.
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { AdminRoute } from './admin-http.ts'
import { packageRoot } from './package-root.ts'
import { contentTypes, serveOnce } from './static-asset.ts'

const pageDir = join(packageRoot, 'gateway', 'console-page')
const page = (name: string) => () => join(pageDir, name)
const uplot = (name: string) => () => join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist', name)

// Scripts, styles and data only from this server; uPlot styles its elements from script (CSSOM, not inline attributes).
const csp = "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

const assets: Record<string, { file: () => string; contentType: string }> = {
  '/console': { file: page('console.html'), contentType: contentTypes.html },
  '/console/console.js': { file: page('console.js'), contentType: contentTypes.js },
  '/console/console-api.js': { file: page('console-api.js'), contentType: contentTypes.js },
  '/console/console-charts.js': { file: page('console-charts.js'), contentType: contentTypes.js },
  '/console/console-tables.js': { file: page('console-tables.js'), contentType: contentTypes.js },
  '/console/console.css': { file: page('console.css'), contentType: contentTypes.css },
  '/console/uplot.iife.min.js': { file: uplot('uPlot.iife.min.js'), contentType: contentTypes.js },
  '/console/uplot.min.css': { file: uplot('uPlot.min.css'), contentType: contentTypes.css }
}

/** GET routes of the console, public (the admin server serves them without credentials). */
export function consoleRoutes(): Record<string, AdminRoute> {
  const routes: Record<string, AdminRoute> = {
    '/console/': (_req, res) => {
      res.writeHead(301, { location: '/console' })
      res.end()
    }
  }
  for (const [path, asset] of Object.entries(assets)) routes[path] = serveOnce(path, asset.file, asset.contentType, csp)
  return routes
}
