#!/usr/bin/env bash
# Installs the Debian packages the gallery needs to build, run and test, when missing.
# usage: scripts/deps.sh [extra-package ...]
set -euo pipefail

packages=(
	build-essential pkg-config curl
	libmicrohttpd-dev libcurl4-openssl-dev default-libmysqlclient-dev
	libcjson-dev libb64-dev uthash-dev libcmocka-dev nettle-dev libsodium-dev libzxcvbn-dev libvips-dev
	libutf8proc-dev
	mariadb-server mariadb-client libjs-chart.js
	libutf8proc-dev
	"$@"
)

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ $status == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "deps: installing ${missing[*]}"
sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
