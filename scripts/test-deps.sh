#!/usr/bin/env bash
# What the tests need besides the build: Debian's Chromium, Node.js and npm's
# playwright-core (installed into tests/browser/node_modules from its lock file),
# real photographs for the image tests (lomiri-wallpapers-16.04: 15 JPEG
# photos, 1 to 14 megapixels, in /usr/share/backgrounds), and aiosmtpd as the
# SMTP server of the mail tests.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

extra=(chromium lomiri-wallpapers-16.04 python3-aiosmtpd libvips-tools)
command -v node >/dev/null && command -v npm >/dev/null || extra+=(nodejs npm)
"$root/scripts/deps.sh" "${extra[@]}"

if [[ ! -f $root/tests/browser/node_modules/playwright-core/package.json ]]; then
	echo "test-deps: installing playwright-core from npm"
	(cd "$root/tests/browser" && npm ci --no-audit --no-fund --loglevel=error)
fi
