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

# Start tests/server.py on a free port of 127.0.0.1 (or of address $1);
# export PORT, BASE and SERVER_PID.
start_server() {
	local port_file="$BATS_FILE_TMPDIR/server.port"
	local host="${1:-127.0.0.1}"
	local i

	rm -f "$port_file"
	python3 "$HELPER_DIR/server.py" --port-file "$port_file" \
		--host "$host" \
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
	BASE="http://$host:$PORT"
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

# Fail unless the time TOOK (seconds) is OP LIMIT, naming WHAT:
# assert_took "$took" '<' 5 "the run".  Bounds are generous: the suite
# also runs under ASan on a shared machine.
assert_took() {
	fcmp "$1" "$2" "$3" || fail "${4:-the run} took $1 s, expected $2 $3 s"
}

# The server's [path, time] arrival list; $1: another server's base URL.
arrivals() {
	curl -q -s --max-time 5 "${1:-$BASE}/arrivals"
}

# Run a command and print "SECONDS-SINCE-START LINE" for each stdout line.
timestamped() {
	local start line
	start=$(now)
	"$@" | while IFS= read -r line; do
		printf '%s %s\n' "$(since "$start")" "$line"
	done
}

# Succeed when the float expression "A OP B" holds, e.g. `fcmp "$t" '<' 5`.
fcmp() {
	awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN {
		if (op == "<") r = a < b; else if (op == "<=") r = a <= b;
		else if (op == ">") r = a > b; else if (op == ">=") r = a >= b;
		else r = 0
		exit !r }'
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

# ---- errors the user causes -------------------------------------------------

# Assert that the last `run --separate-stderr` ended with exit STATUS,
# nothing on stdout and one line "gather: ..." on stderr; with PATTERN (an
# extended regular expression), the line must match it.
assert_one_line_error() {
	local want=$1 pattern=${2-}
	if [[ "$status" != "$want" ]]; then
		fail "exit $status, expected $want; stderr: $stderr"
		return 1
	fi
	assert_equal "$output" ''
	if [[ "$stderr" != "gather: "?* || "$stderr" == *$'\n'* ]]; then
		fail "stderr is not one 'gather: ' line: $stderr"
		return 1
	fi
	if [[ -n "$pattern" && ! "$stderr" =~ $pattern ]]; then
		fail "stderr does not match /$pattern/: $stderr"
		return 1
	fi
}

# Assert a usage error from the last run: exit 2, nothing on stdout, one
# "gather: " line on stderr, matching PATTERN if given.
assert_usage_error() {
	assert_one_line_error 2 "${1-}"
}

# Run gather with ARGS and assert a usage error (any message).
gather_usage_error() {
	run --separate-stderr "$GATHER" "$@"
	assert_usage_error
}

# Assert that the server has had no request since reset_stats.
assert_nothing_fetched() {
	local n
	n=$(stat_field requests)
	[[ "$n" == 0 ]] || fail "$n requests reached the server"
}

# ---- strict JSON Lines ------------------------------------------------------

# Assert that $output (or FILE, with -f FILE) is strict JSON Lines: each
# line valid UTF-8 (jq alone would quietly repair bad bytes), one JSON
# object, no NaN or Infinity; with -n N exactly N lines; with --ordered
# line K is the record of index K.  Empty output is zero lines.
assert_jsonl() {
	local file='' n='' ordered=0 got
	while (($#)); do
		case "$1" in
		-f) file=$2; shift 2 ;;
		-n) n=$2; shift 2 ;;
		--ordered) ordered=1; shift ;;
		*) fail "assert_jsonl: unknown argument $1"; return 1 ;;
		esac
	done
	if [[ -z "$file" ]]; then
		file="$BATS_TEST_TMPDIR/strict.out"
		printf '%s' "$output" >"$file"
		[[ -n "$output" ]] && printf '\n' >>"$file"
	fi
	if ! got=$(python3 -c '
import json, sys
def constant(c):
    raise ValueError("not strict JSON: " + c)
data = open(sys.argv[1], "rb").read()
if data and not data.endswith(b"\n"):
    sys.exit("output does not end with a newline")
lines = data.split(b"\n")[:-1] if data else []
for i, raw in enumerate(lines):
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        sys.exit("line %d is not UTF-8: %s: %r" % (i, e, raw[:300]))
    try:
        doc = json.loads(text, parse_constant=constant)
    except ValueError as e:
        sys.exit("line %d is not JSON: %s: %r" % (i, e, raw[:300]))
    if not isinstance(doc, dict):
        sys.exit("line %d is not an object" % i)
    if sys.argv[2] == "1" and doc.get("index") != i:
        sys.exit("line %d is not record %d: %r" % (i, i, raw[:200]))
print(len(lines))
' "$file" "$ordered" 2>&1); then
		fail "output is not strict JSON Lines: $got"
		return 1
	fi
	if [[ -n "$n" && "$got" != "$n" ]]; then
		fail "expected $n records, got $got"
		return 1
	fi
}

# ---- processes in the background --------------------------------------------

# Start CMD... in the background with SIGINT, SIGQUIT and SIGTERM at their
# defaults (a shell without job control would start it with SIGINT
# ignored).  stdin is /dev/null (--in FILE), stdout $BATS_TEST_TMPDIR/out
# (--out FILE), stderr $BATS_TEST_TMPDIR/err (--err FILE); --in - and
# --err - start it with that descriptor closed.  Sets BG_PID; stop_bg in
# teardown ends a run that a failed test left behind.
start_bg() {
	local in=/dev/null out="$BATS_TEST_TMPDIR/out" err="$BATS_TEST_TMPDIR/err"
	while (($#)); do
		case "$1" in
		--in) in=$2; shift 2 ;;
		--out) out=$2; shift 2 ;;
		--err) err=$2; shift 2 ;;
		*) break ;;
		esac
	done
	(
		trap - INT QUIT TERM
		if [[ "$in" == - ]]; then exec <&-; else exec <"$in"; fi
		if [[ "$err" == - ]]; then exec 2>&-; else exec 2>"$err"; fi
		exec "$@"
	) >"$out" 3>&- &
	BG_PID=$!
}

# Poll every 50 ms, at most LIMIT seconds, until CMD... succeeds.
wait_until() {
	local limit=$1 t
	shift
	t=$(now)
	until "$@"; do
		fcmp "$(since "$t")" '<' "$limit" || return 1
		sleep 0.05
	done
}

# Succeed when the background run has exited.
bg_gone() {
	! kill -0 "$BG_PID" 2>/dev/null
}

# Wait at most LIMIT seconds for the background run to exit; its status in
# BG_STATUS.  A run still there then is killed and the test fails.
wait_bg() {
	local limit=$1
	if ! wait_until "$limit" bg_gone; then
		stop_bg
		fail "the background run did not exit within $limit s"
		return 1
	fi
	BG_STATUS=0
	wait "$BG_PID" || BG_STATUS=$?
	BG_PID=''
}

# Kill the background run, if any, by its PID and reap it.
stop_bg() {
	if [[ -n "${BG_PID:-}" ]]; then
		kill -KILL "$BG_PID" 2>/dev/null || true
		wait "$BG_PID" 2>/dev/null || true
		BG_PID=''
	fi
}

# Load the background run's files as $output, $lines and $stderr.
load_bg_output() {
	output=$(<"$BATS_TEST_TMPDIR/out")
	mapfile -t lines <"$BATS_TEST_TMPDIR/out"
	stderr=$(<"$BATS_TEST_TMPDIR/err")
}

# Succeed when the server has seen at least N requests for PATH.
hits_at_least() {
	local n
	n=$(hits "$1")
	[[ -n "$n" ]] && ((n >= $2))
}

# Succeed when FILE holds at least N bytes.
size_at_least() {
	[[ -e "$1" ]] && (($(wc -c <"$1") >= $2))
}

# Succeed when FILE holds at least N lines.
lines_at_least() {
	[[ -e "$1" ]] && (($(wc -l <"$1") >= $2))
}

# ---- random input -----------------------------------------------------------

# Set SEED for this test's random input and print it, so that a failure
# shows it: GATHER_TEST_SEED=SEED replays the same bytes.
random_seed() {
	SEED=${GATHER_TEST_SEED:-$RANDOM$RANDOM}
	echo "# random input from GATHER_TEST_SEED=$SEED"
}

# Print N random bytes from SEED (see random_seed) and a LABEL that keeps
# two streams of one test apart.
random_bytes() {
	python3 -c 'import random, sys
r = random.Random("%s/%s" % (sys.argv[1], sys.argv[3]))
sys.stdout.buffer.write(r.randbytes(int(sys.argv[2])))' "$SEED" "$1" "${2-}"
}
