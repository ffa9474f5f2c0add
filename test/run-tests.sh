#!/usr/bin/env bash
# `npm test`, the README's test command: works on a fresh machine with only Node.js and npm (Debian 12).
# It gets what the tests need, then runs every *.test.ts with Node's test runner:
#   1. the Debian packages the tests use (test/debian-packages.sh: apt-get as root, else the command to run);
#   2. node_modules, when missing or older than package-lock.json (npm ci; its prepare script builds dist/);
#   3. dist/ built again from the sources (the child-process tests run the wharf bin, which runs dist/);
#   4. the typecheck of everything, tests and bench included.
# Arguments are passed to the test runner after the file list.
set -euo pipefail
cd "$(dirname "$0")/.."

bash test/debian-packages.sh

# better-sqlite3 builds from source where no prebuilt binary can be downloaded: node-gyp then needs the
# headers of the Node that runs it, which it would otherwise try to download too.
if [ -z "${npm_config_nodedir:-}" ]; then
  prefix="$(node -p 'require("node:path").resolve(process.execPath, "..", "..")')"
  if [ -f "$prefix/include/node/node.h" ]; then export npm_config_nodedir="$prefix"; fi
fi
# A node_modules that is a symlink is an install shared with other checkouts (git worktrees): npm ci
# would empty it under all of them (a checkout makes package-lock.json look newer), so it is left alone.
if [ -L node_modules ]; then
  echo "npm test: node_modules is a symlink (a shared install): not reinstalled"
elif [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "npm test: installing node_modules (npm ci)"
  npm ci --no-audit --no-fund
fi
npm run --silent build
npm run --silent typecheck
npm run --silent lint # Biome: one style and lint for the whole repo (biome.json)

# Node 20 does not expand globs itself.
mapfile -t files < <(find core adapters edge-config gateway test bench -name '*.test.ts' -not -path '*/node_modules/*' | sort)
if [ "${#files[@]}" -eq 0 ]; then echo "no test files found" >&2; exit 1; fi
exec node --import tsx --test --test-concurrency="${WHARF_TEST_CONCURRENCY:-2}" --test-timeout="${WHARF_TEST_TIMEOUT_MS:-300000}" "${files[@]}" "$@"
