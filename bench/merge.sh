#!/bin/sh
# --merge against jq: putting shard parts back together by index.
#
#   bench/merge.sh [RECORDS] [PARTS]    (defaults 400000, 4)
#
# Writes RECORDS records as gather writes them with --body none (about 450
# bytes a line), split into PARTS parts as --shard K/PARTS splits them,
# then merges the parts with `gather --merge` and with jq's in-memory
# `jq -s -c 'sort_by(.index) | .[]'`, each under /usr/bin/time, best of
# three: wall seconds, records per second, peak RSS.  Checks that both
# wrote the same indexes in the same order.  Not part of the test suite.
set -eu

n=${1:-400000}
parts=${2:-4}
gather=${GATHER:-./gather}
dir=$(mktemp -d "${TMPDIR:-/tmp}/merge.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM

k=0
while [ "$k" -lt "$parts" ]; do
	awk -v n="$n" -v s="$parts" -v k="$k" 'BEGIN {
		for (i = k; i < n; i += s)
			printf "{\"index\":%d,\"url\":\"https://host%d.example.org/" \
			    "items/%d.json\",\"id\":null,\"ok\":true,\"status\":200," \
			    "\"not_modified\":false,\"http_version\":\"2\"," \
			    "\"effective_url\":\"https://host%d.example.org/items/" \
			    "%d.json\",\"redirects\":0,\"content_type\":" \
			    "\"application/json\",\"etag\":null,\"last_modified\":null," \
			    "\"size\":%d,\"remote_ip\":\"192.0.2.%d\",\"remote_port\":443," \
			    "\"connection_reused\":true,\"time\":{\"queue\":0.000012," \
			    "\"dns\":0,\"connect\":0,\"tls\":0,\"ttfb\":0.021337," \
			    "\"total\":0.023011},\"attempts\":1,\"error\":null}\n",
			    i, i % 50, i, i % 50, i, i * 7 + 100, i % 250
	}' >"$dir/part-$k.jsonl"
	k=$((k + 1))
done
bytes=$(cat "$dir"/part-*.jsonl | wc -c)

# Best of three of "$@" >$out: prints "wall_s rss_kib".
measure() {
	out=$1
	shift
	best_t= best_m=
	for _ in 1 2 3; do
		/usr/bin/time -f '%e %M' -o "$dir/time" sh -c '"$@" >"$0"' \
		    "$out" "$@" </dev/null
		read -r t m <"$dir/time"
		if [ -z "$best_t" ] || awk -v a="$t" -v b="$best_t" \
		    'BEGIN { exit !(a < b) }'; then
			best_t=$t
			best_m=$m
		fi
	done
	echo "$best_t $best_m"
}

row() {
	awk -v name="$1" -v t="$2" -v m="$3" -v n="$n" 'BEGIN {
		printf "| %s | %.2f | %.0f | %.1f |\n", name, t,
		    (t > 0 ? n / t : 0), m / 1024 }'
}

set -- "$dir"/part-*.jsonl
g=$(measure "$dir/g.out" "$gather" --merge "$@")
j=$(measure "$dir/j.out" sh -c 'cat "$@" | jq -s -c "sort_by(.index) | .[]"' \
    sh "$@")
if [ "$(cut -d, -f1 "$dir/g.out" | md5sum)" != \
    "$(cut -d, -f1 "$dir/j.out" | md5sum)" ]; then
	echo "merge.sh: gather and jq disagree on the order" >&2
	exit 1
fi
echo "$n records in $parts parts, $bytes bytes"
echo
echo "| merge | wall s | records/s | peak RSS MiB |"
echo "| --- | --- | --- | --- |"
# shellcheck disable=SC2086
row "gather --merge" $g
# shellcheck disable=SC2086
row "jq -s -c 'sort_by(.index) \\| .[]'" $j
