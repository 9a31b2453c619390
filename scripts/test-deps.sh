#!/usr/bin/env bash
# What the browser tests need besides the build: Debian's Chromium, Node.js and
# npm's playwright-core (installed into tests/browser/node_modules from its lock file).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

extra=(chromium)
command -v node >/dev/null && command -v npm >/dev/null || extra+=(nodejs npm)
"$root/scripts/deps.sh" "${extra[@]}"

if [[ ! -f $root/tests/browser/node_modules/playwright-core/package.json ]]; then
	echo "test-deps: installing playwright-core from npm"
	(cd "$root/tests/browser" && npm ci --no-audit --no-fund --loglevel=error)
fi
