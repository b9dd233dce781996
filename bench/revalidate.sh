#!/bin/sh
# Loading a large --revalidate FILE: time and extra memory.
#
#   bench/revalidate.sh [RECORDS] [REPORT]    (defaults 1000000, bench/REVALIDATE.md)
#
# Writes RECORDS records as gather writes them with --body none (about 500
# bytes a line, every one ok with an ETag of 14 to 16 bytes and a
# Last-Modified), then runs gather with that FILE and no input, and gather
# with no input alone, under /usr/bin/time: the difference in maximum RSS
# is what the table costs.  Not part of the test suite.
set -eu

n=${1:-1000000}
report=${2:-bench/REVALIDATE.md}
gather=${GATHER:-./gather}
dir=$(mktemp -d "${TMPDIR:-/tmp}/revalidate.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM

awk -v n="$n" 'BEGIN {
	for (k = 0; k < n; k++)
		printf "{\"index\":%d,\"url\":\"https://host%d.example.org/feeds/" \
		    "item-%d.xml\",\"ok\":true,\"status\":200,\"not_modified\":false," \
		    "\"http_version\":\"2\",\"effective_url\":\"https://host%d.example.org" \
		    "/feeds/item-%d.xml\",\"redirects\":0,\"content_type\":" \
		    "\"application/rss+xml\",\"etag\":\"\\\"65f1%x-%x\\\"\"," \
		    "\"last_modified\":\"Sun, 01 Jan 2023 10:00:00 GMT\",\"size\":%d," \
		    "\"remote_ip\":\"192.0.2.%d\",\"remote_port\":443," \
		    "\"connection_reused\":true,\"time\":{\"queue\":0.000012," \
		    "\"dns\":0,\"connect\":0,\"tls\":0,\"ttfb\":0.021337," \
		    "\"total\":0.023011},\"attempts\":1,\"error\":null}\n",
		    k, k % 50, k, k % 50, k, k, k * 7 + 100, k * 7 + 100, k % 250
}' >"$dir/file.jsonl"

# Best of three, in seconds and KiB.
measure() {
	best_t= best_m=
	for _ in 1 2 3; do
		/usr/bin/time -f '%e %M' -o "$dir/time" "$@" </dev/null >/dev/null
		read -r t m <"$dir/time"
		if [ -z "$best_t" ] || awk -v a="$t" -v b="$best_t" 'BEGIN { exit !(a < b) }'; then
			best_t=$t
		fi
		if [ -z "$best_m" ] || [ "$m" -lt "$best_m" ]; then
			best_m=$m
		fi
	done
	echo "$best_t $best_m"
}

set -- $(measure "$gather")
base_t=$1 base_m=$2
set -- $(measure "$gather" --revalidate "$dir/file.jsonl")
load_t=$1 load_m=$2
size=$(wc -c <"$dir/file.jsonl")
extra=$(awk -v a="$load_m" -v b="$base_m" 'BEGIN { printf "%.1f", (a - b) / 1024 }')

{
	echo "# --revalidate: loading a large FILE"
	echo
	echo "Written by \`bench/revalidate.sh $n\` on $(date -u +%Y-%m-%d)," \
	    "$(nproc) cores; best of three runs."
	echo
	echo "| records | FILE | wall (s) | max RSS | extra RSS over no FILE |"
	echo "| --- | --- | --- | --- | --- |"
	echo "| $n | $(awk -v s="$size" 'BEGIN { printf "%.0f MiB", s / 1048576 }') |" \
	    "$load_t | $(awk -v m="$load_m" 'BEGIN { printf "%.1f MiB", m / 1024 }') |" \
	    "$extra MiB |"
	echo
	echo "Without FILE: $base_t s, $(awk -v m="$base_m" 'BEGIN { printf "%.1f MiB", m / 1024 }')."
} >"$report"
cat "$report"
