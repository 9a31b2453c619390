#!/usr/bin/env bash
# Prints a loopback TCP port that nobody answers on, below the kernel's range
# for outgoing connections when it can be; the server's own bind is the final check.
set -euo pipefail

lo=20000
hi=60000
read -r ephemeral _ </proc/sys/net/ipv4/ip_local_port_range || ephemeral=0
((ephemeral > lo + 1000)) && hi=$((ephemeral - 1))
for _ in $(seq 1 50); do
	port=$((lo + RANDOM % (hi - lo + 1)))
	if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		echo "$port"
		exit 0
	fi
done
echo "free-port: no free loopback port found" >&2
exit 1
