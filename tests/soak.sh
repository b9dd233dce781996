#!/usr/bin/env bash
# Soak test: one long run of gather against tests/server.py, meant for the
# ASan+UBSan build (make check runs it so).
#
#   tests/soak.sh [path/to/gather]        (default: ./gather)
#
# SOAK_N records (default 20000): one in ten /reset, one in ten /hang (a
# request object with "timeout": 0.5; the rest have -t 20, so that a loaded
# machine does not turn slow answers into timeouts), one in ten /status/503 (with --retries 2 --retry-delay 0.05), the
# rest /ok?i=N, all distinct, -c SOAK_C (default 64).  Checks: exactly one
# output line per record, every index once and in order, each record of
# the kind its URL deserves, exit status 1, no sanitizer report on stderr.
# Bounded: gather gets SOAK_TIMEOUT seconds (default 600).  The server is
# started here and stopped by its PID, whatever happens.
#
# SOAK_NGINX=1 (make soak-big): the /ok records go to an nginx started
# here (tests/nginx.bash; plain HTTP, one worker, room for thousands of
# connections), the resets, hangs and 503s still to the test server, whose
# thread per connection cannot take a thousand at once within short
# timeouts.

set -u

GATHER=${1:-${GATHER:-./gather}}
N=${SOAK_N:-20000}
C=${SOAK_C:-64}
LIMIT=${SOAK_TIMEOUT:-600}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Everything goes to 127.0.0.1: no proxy from the environment.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy='*' NO_PROXY='*'
# Sanitizer settings as in make bats-asan, unless the caller chose others.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

say() { printf 'soak: %s\n' "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }

[[ -x "$GATHER" ]] || die "no gather at '$GATHER'"
for tool in python3 jq timeout; do
	command -v "$tool" >/dev/null || die "$tool is needed"
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/gather-soak.XXXXXX") || die "mktemp"
SERVER_PID=
NGINX_PID=
cleanup() {
	if [[ -n "$SERVER_PID" ]]; then
		kill "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
	fi
	if [[ -n "$NGINX_PID" ]]; then
		kill -TERM "$NGINX_PID" 2>/dev/null
		wait "$NGINX_PID" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- the server -------------------------------------------------------------

python3 "$HERE/server.py" --port-file "$TMP/port" </dev/null \
	>"$TMP/server.log" 2>&1 &
SERVER_PID=$!
for ((i = 0; i < 100; i++)); do
	[[ -s "$TMP/port" ]] && break
	kill -0 "$SERVER_PID" 2>/dev/null || {
		cat "$TMP/server.log" >&2
		die "the test server died while starting"
	}
	sleep 0.1
done
[[ -s "$TMP/port" ]] || die "the test server wrote no port within 10 s"
BASE="http://127.0.0.1:$(<"$TMP/port")"
OK_BASE=$BASE

# ---- nginx for the ordinary answers (SOAK_NGINX=1) --------------------------

# Write $NGINX_DIR/nginx.conf: "ok" for every URL on 127.0.0.1:$1.
soak_nginx_conf() {
	{
		nginx_conf_main 1
		echo 'worker_rlimit_nofile 8192;'
		echo 'events { worker_connections 8192; }'
		echo 'http {'
		nginx_conf_temp_paths
		cat <<CONF
	access_log off;
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:$1 backlog=4096;
		location / { default_type text/plain; return 200 "ok"; }
	}
}
CONF
	} >"$NGINX_DIR/nginx.conf"
}

# Succeed when that nginx answers on port $1.
soak_nginx_ready() {
	[[ "$(curl -q -s --max-time 1 "http://127.0.0.1:$1/ok")" == ok ]]
}

if [[ "${SOAK_NGINX:-0}" == 1 ]]; then
	command -v nginx >/dev/null || die "nginx is needed for SOAK_NGINX=1"
	command -v curl >/dev/null || die "curl is needed for SOAK_NGINX=1"
	. "$HERE/nginx.bash"
	NGINX_DIR="$TMP/nginx"
	mkdir -p "$NGINX_DIR/tmp"
	nginx_launch soak_nginx_conf soak_nginx_ready ||
		die "nginx did not start"
	OK_BASE="http://127.0.0.1:$NGINX_PORT"
	say "ordinary answers from nginx at $OK_BASE, faults from $BASE"
fi

# ---- the input --------------------------------------------------------------

awk -v n="$N" -v b="$BASE" -v ok="$OK_BASE" 'BEGIN {
	for (i = 0; i < n; i++) {
		k = i % 10
		if (k == 1) printf "%s/reset?i=%d\n", b, i
		else if (k == 2)
			printf "{\"url\": \"%s/hang?i=%d\", \"timeout\": 0.5}\n", b, i
		else if (k == 3) printf "%s/status/503?i=%d\n", b, i
		else printf "%s/ok?i=%d\n", ok, i
	}
}' >"$TMP/in"

# ---- the run ----------------------------------------------------------------

say "$N records, -c $C, gather: $GATHER"
start=$(date +%s.%N)
rss_opt=()
if [[ -x /usr/bin/time ]]; then
	rss_opt=(/usr/bin/time -f '%M' -o "$TMP/rss")
fi
"${rss_opt[@]}" timeout "$LIMIT" "$GATHER" -c "$C" -t 20 --retries 2 \
	--retry-delay 0.05 -i "$TMP/in" >"$TMP/out" 2>"$TMP/err"
status=$?
took=$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN { printf "%.1f", a - b }')
rss=$(tail -n 1 "$TMP/rss" 2>/dev/null || echo '?')
say "gather exited $status after $took s, max RSS ${rss} kB"

# ---- the checks -------------------------------------------------------------

errors=0
check() {
	say "FAILED: $*"
	errors=$((errors + 1))
}

((status == 124)) && die "gather did not finish within $LIMIT s"
((status == 1)) || check "exit status $status, expected 1"

if grep -q -E 'Sanitizer|runtime error:|LeakSanitizer' "$TMP/err"; then
	head -n 60 "$TMP/err" >&2
	check "sanitizer report on stderr"
elif [[ -s "$TMP/err" ]]; then
	head -n 20 "$TMP/err" >&2
	check "unexpected output on stderr"
fi

lines=$(wc -l <"$TMP/out")
((lines == N)) || check "$lines output lines, expected $N"

# One jq pass: every line an object, indexes 0..N-1 in order, and per kind
# of URL the outcome it deserves; prints what does not fit.
if ! jq -n -r --argjson n "$N" '
	def expect:
		(.index % 10) as $k |
		if .url | test("/reset\\?") then
			$k == 1 and .ok == false and .error.kind == "reset" and
			.attempts == 3 and .status == null
		elif .url | test("/hang\\?") then
			$k == 2 and .ok == false and .error.kind == "timeout" and
			.error.curl_code == 28 and .attempts == 3
		elif .url | test("/status/503\\?") then
			$k == 3 and .ok == true and .status == 503 and
			.attempts == 3 and .error == null
		else
			($k | IN(1, 2, 3) | not) and .ok == true and
			.status == 200 and .body == "ok" and .attempts == 1 and
			.error == null
		end;
	reduce inputs as $r ({next: 0, bad: [], count: 0};
		.count += 1 |
		if ($r | type) != "object" then
			.bad += ["record \(.count) is not an object"]
		elif $r.index != .next then
			.bad += ["index \($r.index) where \(.next) was due"] |
			.next = $r.index + 1
		elif ($r | expect | not) then
			.bad += ["index \($r.index): \($r | tojson | .[:300])"] |
			.next += 1
		else .next += 1 end)
	| (if .count != $n then .bad += ["\(.count) records, expected \($n)"]
	   else . end)
	| .bad[:20][], (if (.bad | length) > 20 then
		"... \(.bad | length) problems in all" else empty end)' "$TMP/out" >"$TMP/bad" 2>&1; then
	check "the output is not valid JSON Lines"
fi
if [[ -s "$TMP/bad" ]]; then
	head -n 25 "$TMP/bad" >&2
	check "records of the wrong kind or order"
fi

if ((errors > 0)); then
	say "$errors check(s) failed"
	exit 1
fi
say "OK: $N records in $took s"
exit 0
