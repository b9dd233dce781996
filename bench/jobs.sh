#!/bin/sh
# -j 1 against -j 2: many tiny responses from a fast local server, where
# one event loop is CPU-bound.
#
#   bench/jobs.sh [URLS] [RUNS] [o]    (defaults 100000, 3)
#
# With "o" the bodies go to files (-o, a fresh directory for each run)
# instead of --body none.
#
# Starts a private nginx (two workers, `return 200`, 3-byte bodies) on a
# free port of 127.0.0.1 ... 127.0.0.8, lists URLS URLs spread over those
# eight hosts (-j sends records to workers by host), and times
# `gather -c 32 --body none` at -j 1 and -j 2, unpinned, best of RUNS:
# wall seconds, records per second, user+system CPU.  Not part of the test
# suite.
set -eu

n=${1:-100000}
runs=${2:-3}
files=${3:-}
gather=${GATHER:-./gather}
dir=$(mktemp -d "${TMPDIR:-/tmp}/jobs.XXXXXX")
cleanup() {
	[ -s "$dir/nginx.pid" ] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

port=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
listen=""
for h in 1 2 3 4 5 6 7 8; do
	listen="$listen listen 127.0.0.$h:$port;"
done
cat >"$dir/nginx.conf" <<CONF
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $dir/body;
	proxy_temp_path $dir/proxy;
	fastcgi_temp_path $dir/fastcgi;
	uwsgi_temp_path $dir/uwsgi;
	scgi_temp_path $dir/scgi;
	keepalive_requests 1000000;
	server { $listen location / { return 200 "ok\n"; } }
}
CONF
PATH=$PATH:/usr/sbin nginx -c "$dir/nginx.conf" -p "$dir"
for _ in 1 2 3 4 5 6 7 8 9 10; do
	[ -s "$dir/nginx.pid" ] && break
	sleep 0.2
done
awk -v n="$n" -v p="$port" 'BEGIN { for (k = 0; k < n; k++)
	printf "http://127.0.0.%d:%d/f%d\n", k % 8 + 1, p, k }' >"$dir/urls"

if [ "$files" = o ]; then
	what="-o DIR"
else
	what="--body none"
fi
echo "$n URLs over 8 hosts, -c 32 $what, best of $runs"
echo
echo "| run | wall s | records/s | CPU s |"
echo "| --- | --- | --- | --- |"
for j in 1 2; do
	best=
	for _ in $(seq "$runs"); do
		rm -rf "$dir/files"
		if [ "$files" = o ]; then
			set -- -o "$dir/files"
		else
			set -- --body none
		fi
		/usr/bin/time -f '%e %U %S' -o "$dir/time" "$gather" -j "$j" \
		    -c 32 "$@" -i "$dir/urls" >"$dir/out"
		[ "$(wc -l <"$dir/out")" -eq "$n" ] ||
			{ echo "jobs.sh: -j $j wrote too few records" >&2; exit 1; }
		read -r t u s <"$dir/time"
		if [ -z "$best" ] || awk -v a="$t" -v b="$best" \
		    'BEGIN { exit !(a < b) }'; then
			best=$t
			cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')
		fi
	done
	awk -v j="$j" -v t="$best" -v c="$cpu" -v n="$n" 'BEGIN {
		printf "| -j %d | %.2f | %.0f | %.2f |\n", j, t, n / t, c }'
done
