#!/bin/sh
# make demo: start the local test server, fetch a small URL list with
# gather, and pipe the records through jq.  Stops the server it started.
set -eu
cd "$(dirname "$0")/.."

dir=$(mktemp -d)
pid=""
cleanup() {
	st=$?
	trap - EXIT
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$dir"
	exit "$st"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

python3 tests/server.py --port-file "$dir/port" &
pid=$!
i=0
while [ ! -s "$dir/port" ]; do
	i=$((i + 1))
	[ "$i" -gt 100 ] && { echo "demo: the test server did not start" >&2; exit 1; }
	sleep 0.1
done
base="http://127.0.0.1:$(cat "$dir/port")"

cat > "$dir/urls.txt" <<LIST
# a URL list: comments and blank lines are skipped
$base/delay/600
$base/utf8
$base/json

$base/status/404
$base/bytes/16
$base/gzip/2000
$base/hang
127.0.0.1:1/nothing-listens-here
LIST

echo "\$ gather -c 8 --timeout 1 -i urls.txt | jq -c '{index, url, status, size, ms: (.time.total * 1000 | floor), error: .error.kind}'"
./gather -c 8 --timeout 1 -i "$dir/urls.txt" |
    jq -c '{index, url, status, size, ms: (.time.total * 1000 | floor), error: .error.kind}'
echo "(records come back in input order although the first one is the slowest;"
echo " gather exits 1 because some records are not ok)"
