// The package root (package.json, gateway/live-page/): the same directory whether this module runs from
// its source (gateway/) or compiled (dist/gateway/), so files that are not TypeScript are found either way.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir
    if (dirname(dir) === dir) throw new Error(`package root: no package.json in ${from} or above`)
  }
}

export const packageRoot: string = findPackageRoot(dirname(fileURLToPath(import.meta.url)))
