#!/bin/sh
# cloudcal.sh: CloudCal from the shell: submits the numbers given as arguments,
# waits for the result with ?wait= (no polling loop), and prints it.
#   scripts/cloudcal.sh 1 2 3 4        GALLERY_URL defaults to http://localhost:5000
set -eu
url=${GALLERY_URL:-http://localhost:5000}
if [ $# -eq 0 ]; then
	echo "usage: $0 NUMBER..." >&2
	exit 2
fi
submitted=$(curl -sS -X POST --data-urlencode "numbers=$*" "$url/api/calc")
id=$(printf '%s' "$submitted" | sed -n 's/.*"job":{"id":\([0-9][0-9]*\).*/\1/p')
if [ -z "$id" ]; then
	echo "$submitted" >&2
	exit 1
fi
echo "job $id queued"
# Each wait answers as soon as the job is done or dead, or after 20 s.
while :; do
	job=$(curl -sS "$url/api/jobs/$id?wait=20")
	case $job in
	*'"state":"done"'* | *'"state":"dead"'*) break ;;
	*'"state":"queued"'* | *'"state":"running"'*) ;;
	*) echo "$job" >&2; exit 1 ;;
	esac
done
echo "$job"
case $job in
*'"state":"done"'*) echo "log: $url/api/jobs/$id/log" ;;
*) exit 1 ;;
esac
