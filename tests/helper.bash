# Shared set-up for the gather bats suites: `load helper` in every file.
#
# Each file starts one test server for all its tests:
#     setup_file()    { start_server; }
#     teardown_file() { stop_server; }
#
# GATHER names the binary under test; the sanitizer pass of `make check`
# points it at another build, so tests always run "$GATHER", never ./gather.

load '/usr/lib/bats/bats-support/load.bash'
load '/usr/lib/bats/bats-assert/load.bash'

GATHER="${GATHER:-$BATS_TEST_DIRNAME/../gather}"
export GATHER
HELPER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Everything here talks to 127.0.0.1: no proxy from the environment may get
# in the way of gather (libcurl reads these variables) or of curl.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy='*' NO_PROXY='*'

# Start tests/server.py on a free port; export PORT, BASE and SERVER_PID.
start_server() {
	local port_file="$BATS_FILE_TMPDIR/server.port"
	local i

	rm -f "$port_file"
	python3 "$HELPER_DIR/server.py" --port-file "$port_file" \
		3>&- </dev/null >"$BATS_FILE_TMPDIR/server.log" 2>&1 &
	SERVER_PID=$!
	export SERVER_PID
	for ((i = 0; i < 100; i++)); do
		[[ -s "$port_file" ]] && break
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			cat "$BATS_FILE_TMPDIR/server.log" >&2
			echo "test server died while starting" >&2
			return 1
		fi
		sleep 0.1
	done
	if [[ ! -s "$port_file" ]]; then
		echo "test server did not write its port within 10 s" >&2
		return 1
	fi
	PORT=$(<"$port_file")
	BASE="http://127.0.0.1:$PORT"
	export PORT BASE
}

# Stop the server started by start_server.
stop_server() {
	if [[ -n "${SERVER_PID:-}" ]]; then
		kill "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
		unset SERVER_PID
	fi
}

# Print one field of the server's /stats.
stat_field() {
	curl -q -s --max-time 5 "$BASE/stats" | jq -r ".$1"
}

# Zero the server's counters.
reset_stats() {
	curl -q -s --max-time 5 "$BASE/reset-stats" >/dev/null
}

# How many times the server was asked for PATH (without query).
hits() {
	curl -q -s --max-time 5 -G --data-urlencode "path=$1" "$BASE/hits"
}

# Print N distinct URLs "$BASE$PATH?i=K", K from 0 to N-1, one per line.
urls() {
	# awk, not a shell loop: bats' traps make long shell loops slow.
	awk -v n="$1" -v u="$BASE$2" \
		'BEGIN { for (k = 0; k < n; k++) printf "%s?i=%d\n", u, k }'
}

# Print a TCP port on 127.0.0.1 that nothing listens on (bound, then closed).
closed_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# Current time in seconds with a fraction, for generous timing bounds.
now() {
	date +%s.%N
}

# Seconds since a time from now(), to the millisecond.
since() {
	awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.3f\n", a - b }'
}

# The server's [path, time] arrival list; $1: another server's base URL.
arrivals() {
	curl -q -s --max-time 5 "${1:-$BASE}/arrivals"
}

# Succeed when the float expression "A OP B" holds, e.g. `fcmp "$t" '<' 5`.
fcmp() {
	awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN {
		if (op == "<") r = a < b; else if (op == "<=") r = a <= b;
		else if (op == ">") r = a > b; else if (op == ">=") r = a >= b;
		else r = 0
		exit !r }'
}

# Assert that every line of TEXT (default $output) is one JSON object.
assert_jsonl() {
	local text="${1-$output}"
	[[ -z "$text" ]] && return 0
	if ! printf '%s\n' "$text" | jq -R -s -e '
		split("\n") | map(select(length > 0))
		| all(fromjson | type == "object")' >/dev/null 2>&1; then
		fail "output is not one JSON object per line" <<<"$text"
		return 1
	fi
}

# Print field FILTER (a jq filter) of record INDEX of $output.
rec() {
	printf '%s\n' "$output" | jq -c "select(.index == $1) | $2"
}

# Assert that jq FILTER holds on the records of $output, slurped into an
# array: assert_jq [JQ-ARGS...] FILTER, e.g. assert_jq --arg b "$BASE" '...'.
assert_jq() {
	local filter="${!#}"
	local args=("${@:1:$#-1}")
	if ! printf '%s\n' "$output" |
		jq -s -e "${args[@]}" "$filter" >/dev/null 2>&1; then
		{
			echo "jq filter is not true: $filter"
			echo "-- output (first 4000 bytes) --"
			printf '%s\n' "$output" | head -c 4000
			echo
			echo "-- stderr (first 2000 bytes) --"
			printf '%s\n' "${stderr-}" | head -c 2000
		} | fail
		return 1
	fi
}

# Assert that stderr ($stderr of run --separate-stderr) is empty.
assert_no_stderr() {
	if [[ -n "${stderr-}" ]]; then
		fail "expected nothing on stderr, got: $stderr"
		return 1
	fi
}
