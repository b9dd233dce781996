#!/usr/bin/env bash
# bench/polite.sh - gather against a server that sheds load: tests/server.py's
# /shed/KEY/K answers 503 at once (no Retry-After) when more than K requests
# of KEY are in flight, else 200 after 100 ms.  Three settings over the same
# URLs: -c 32 alone, -c 32 --adaptive, and --per-host K (the best fixed
# setting, which a user cannot know in advance).  For each: wall time,
# requests the server shed and served (counted by the server), and records
# ok (gather's --stats=json).  A Markdown table on stdout.  Not part of the
# test suite; see bench/RESULTS.md.
set -euo pipefail
export LC_ALL=C

usage() {
	cat <<'EOF'
Usage: bench/polite.sh [-n URLS] [-k K] [-r RETRIES] [-c N]

  -n URLS     URLs, each its own query string on one host (2000)
  -k K        requests in flight the server takes before it sheds (8)
  -r RETRIES  --retries of every run, with --retry-delay 0.05 (50)
  -c N        -c of every run (32)

Environment: GATHER (default: gather at the repository root).
EOF
}

n=2000 k=8 retries=50 conc=32
while getopts n:k:r:c:h opt; do
	case $opt in
	n) n=$OPTARG ;;
	k) k=$OPTARG ;;
	r) retries=$OPTARG ;;
	c) conc=$OPTARG ;;
	*) usage; exit 2 ;;
	esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
gather=${GATHER:-$root/gather}
work=$(mktemp -d)
server_pid=''
cleanup() {
	[[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

python3 "$root/tests/server.py" --port-file "$work/port" >/dev/null 2>&1 &
server_pid=$!
for _ in $(seq 100); do [[ -s "$work/port" ]] && break; sleep 0.1; done
port=$(<"$work/port")
base="http://127.0.0.1:$port"

# One run: its label, then gather's options; prints a table row.
run() {
	local label=$1 key=$2 t0 t1 shed served ok
	shift 2
	awk -v n="$n" -v u="$base/shed/$key/$k" \
		'BEGIN { for (i = 0; i < n; i++) printf "%s?i=%d\n", u, i }' \
		>"$work/urls"
	curl -q -s "$base/reset-stats" >/dev/null
	t0=$(date +%s.%N)
	"$gather" -c "$conc" --retries "$retries" --retry-delay 0.05 \
		--retry-max-delay 1 --body none --stats=json "$@" \
		-i "$work/urls" >/dev/null 2>"$work/stats" || true
	t1=$(date +%s.%N)
	shed=$(curl -q -s "$base/shed-stats?key=$key" | jq .shed)
	served=$(curl -q -s "$base/shed-stats?key=$key" | jq .served)
	ok=$(tail -n 1 "$work/stats" | jq .ok)
	printf '| %s | %.2f s | %s | %s | %s of %s |\n' "$label" \
		"$(echo "$t1 - $t0" | bc -l)" "$shed" "$served" "$ok" "$n"
}

echo "$n URLs of 100 ms on one host that sheds past $k in flight;" \
	"--retries $retries --retry-delay 0.05 --retry-max-delay 1."
echo
echo '| setting | wall | shed (503) | served (200) | records ok |'
echo '| --- | --- | --- | --- | --- |'
run "-c $conc" a
run "-c $conc --adaptive" b --adaptive
run "-c $conc --per-host $k" c --per-host "$k"
echo
echo "Ideal wall at $k in flight: $(echo "$n * 0.1 / $k" | bc -l |
	xargs printf '%.1f') s."
