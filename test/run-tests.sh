#!/usr/bin/env bash
# Runs every *.test.ts in the repo with Node's test runner (Node 20 does not expand globs itself).
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find core adapters edge-config gateway test bench -name '*.test.ts' -not -path '*/node_modules/*' | sort)
if [ "${#files[@]}" -eq 0 ]; then echo "no test files found" >&2; exit 1; fi
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
exec node --import tsx --test --test-concurrency="${WHARF_TEST_CONCURRENCY:-2}" --test-timeout="${WHARF_TEST_TIMEOUT_MS:-120000}" "${files[@]}" "$@"
