#!/usr/bin/env bats
# What gather says about a run on stderr: the --stats summary (text and
# JSON), -q silencing it, and the --progress line, which is drawn only on a
# terminal (a pseudo-terminal from script(1) here) unless forced.

bats_require_minimum_version 1.5.0
load helper

setup_file() { start_server; }
teardown_file() { stop_server; }

# Run CMD... under a pseudo-terminal with its stdout in $BATS_TEST_TMPDIR/out;
# $output is what the terminal saw (stderr, with \n turned into \r\n).
# With --stderr FILE first, stderr goes to FILE instead of the terminal.
pty_run() {
	local cmd redir
	redir=">$(printf %q "$BATS_TEST_TMPDIR/out")"
	if [[ $1 == --stderr ]]; then
		redir+=" 2>$(printf %q "$2")"
		shift 2
	fi
	printf -v cmd '%q ' "$@"
	run script -qfec "$cmd $redir" /dev/null </dev/null
}

# Assert that some line of $stderr matches the extended regex RE entirely.
assert_stderr_line() {
	if ! printf '%s\n' "$stderr" | grep -Eqx -- "$1"; then
		fail "no line of stderr matches /$1/" <<<"$stderr"
		return 1
	fi
}

# Assert that jq FILTER holds on $stderr, which must be one JSON line.
assert_stderr_json() {
	local filter="$1"
	# Checked first: jq 1.6 -e succeeds on empty input.
	if [[ -z "${stderr-}" ]]; then
		fail "nothing on stderr"
		return 1
	fi
	if [[ "$stderr" == *$'\n'* ]]; then
		fail "stderr is not one line" <<<"$stderr"
		return 1
	fi
	if ! printf '%s\n' "$stderr" | jq -e "$filter" >/dev/null 2>&1; then
		fail "jq filter is not true on stderr: $filter" <<<"$stderr"
		return 1
	fi
}

# Assert that every drawing of the progress line in $output fits 79 columns.
assert_lines_fit() {
	if ! printf '%s' "$output" | awk 'BEGIN { RS = "\r" }
		{ sub(/\033\[K\n?$/, ""); if (length($0) > 79) bad = 1 }
		END { exit bad }'; then
		fail "a progress line is wider than 79 columns" <<<"$output"
		return 1
	fi
}

@test "--stats prints a summary of the run on stderr" {
	run --separate-stderr "$GATHER" --fail --stats $(urls 10 /ok) \
		"$BASE/status/500" "$BASE/status/500"
	assert_failure 1
	# The summary goes to stderr only: stdout has the records alone.
	assert_equal "${#lines[@]}" 12
	assert_jsonl
	assert_stderr_line 'records:  12'
	assert_stderr_line 'ok:       10'
	assert_stderr_line 'failed:   2 \(http 2\)'
	assert_stderr_line 'status:   2xx 10, 5xx 2'
	assert_stderr_line 'latency:  p50 [0-9.]+ ms, p90 [0-9.]+ ms, p99 [0-9.]+ ms, max [0-9.]+ ms'
	# Bodies: "ok" ten times, "status 500" twice.
	assert_stderr_line 'bytes:    40'
	assert_stderr_line 'wall:     [0-9]+\.[0-9]{3} s'
	assert_stderr_line 'rate:     [0-9]+\.[0-9] records/s'
}

@test "--stats=json prints one JSON line on stderr with the same counts" {
	run --separate-stderr "$GATHER" --fail --stats=json $(urls 10 /ok) \
		"$BASE/status/500" "$BASE/status/500"
	assert_failure 1
	assert_equal "${#lines[@]}" 12
	assert_stderr_json '
		.records == 12 and .ok == 10 and .failed == 2 and
		.errors == {"http": 2} and
		.status == {"2xx": 10, "5xx": 2} and
		.bytes == 40 and
		(.wall_s | type == "number" and . > 0 and . < 10) and
		(.rps | type == "number" and . > 0)'
	assert_stderr_json '.latency_ms |
		(keys | sort) == ["max", "p50", "p90", "p99"] and
		all(.[]; type == "number" and . >= 0) and
		.p50 <= .p90 and .p90 <= .p99 and .p99 <= .max'
}

@test "--stats=json latency percentiles see a slow response" {
	run --separate-stderr "$GATHER" --stats=json "$BASE/ok" "$BASE/ok" \
		"$BASE/ok" "$BASE/delay/300"
	assert_success
	# Nearest rank of four: p50 is a fast one, p99 and max the slow one.
	assert_stderr_json '.latency_ms |
		.p50 < 300 and .p99 >= 300 and .max >= 300 and .max < 5000 and
		.p50 <= .p90 and .p90 <= .p99 and .p99 <= .max'
}

@test "--stats counts records that never started, but not in latency" {
	run --separate-stderr "$GATHER" --stats=json <<<"{not json
$BASE/ok"
	assert_failure 1
	assert_stderr_json '
		.records == 2 and .ok == 1 and .failed == 1 and
		.errors == {"bad_input": 1} and
		.status == {"2xx": 1, "none": 1}'
	# Had the bad record's zero gone in, p50 (rank 1 of 2) would be 0.
	assert_stderr_json '.latency_ms.p50 > 0'
}

@test "--stats breaks failures down by kind" {
	local port
	port=$(closed_port)
	run --separate-stderr "$GATHER" --fail --stats "$BASE/ok" \
		"http://127.0.0.1:$port/x" "$BASE/status/404" \
		"http://127.0.0.1:$port/y"
	assert_failure 1
	assert_stderr_line 'records:  4'
	assert_stderr_line 'ok:       1'
	assert_stderr_line 'failed:   3 \(connect 2, http 1\)'
	assert_stderr_line 'status:   2xx 1, 4xx 1, none 2'
}

@test "-q leaves an explicit --stats, in text and JSON" {
	run --separate-stderr "$GATHER" -q --stats "$BASE/ok" "$BASE/status/500"
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_stderr_line 'records:  2'
	run --separate-stderr "$GATHER" --stats=json --quiet "$BASE/ok"
	assert_success
	assert_stderr_json '.records == 1'
}

@test "-q silences the progress line on a terminal, not an explicit --stats" {
	pty_run "$GATHER" -q --progress --stats -c 3 "$BASE/delay/300" \
		"$BASE/delay/300" "$BASE/delay/300"
	assert_success
	refute_output --partial 'in flight'
	[[ "$output" == 'records:  3'$'\r\n'* ]] || fail "no summary" <<<"$output"
	run jq -s length "$BATS_TEST_TMPDIR/out"
	assert_output 3
}

@test "the progress line is drawn on a terminal and leaves a final count" {
	pty_run "$GATHER" -c 2 "$BASE/delay/300" "$BASE/delay/300" \
		"$BASE/delay/300" "$BASE/delay/300"
	assert_success
	[[ "$output" == *$'\r'* ]] || fail "no carriage return" <<<"$output"
	[[ "$output" == *$'\033[K'* ]] || fail "no erase to end of line" <<<"$output"
	assert_output --regexp 'done [0-9]+/4 [0-9]+%  ok [0-9]+  failed 0  in flight [0-2]  [0-9.]+/s  ETA [0-9:-]+'
	# At the end the line becomes the final count, the only newline.
	[[ "$output" == *$'\rdone 4  ok 4  failed 0  in '[0-9]*.[0-9]$'s\033[K\r' ]] ||
		fail "no final count" <<<"$output"
	# ($output has lost its last newline.)
	[[ "$output" != *$'\n'* ]] || fail "a newline before the end" <<<"$output"
	assert_lines_fit
	# Records still all went to stdout.
	run jq -s 'map(.ok) == [true, true, true, true]' "$BATS_TEST_TMPDIR/out"
	assert_output true
}

@test "the progress line shows a bare count when the total is unknown" {
	urls 4 /delay/300 >"$BATS_TEST_TMPDIR/list"
	# From a pipe: a regular file's records are counted up front.
	pty_run sh -c 'cat "$1" | "$2" -c 4' _ "$BATS_TEST_TMPDIR/list" "$GATHER"
	assert_success
	assert_output --regexp 'done [0-9]+  ok [0-9]+  failed 0  in flight [0-4]  [0-9.]+/s'
	refute_output --partial 'ETA'
	refute_output --regexp 'done [0-9]+/'
}

@test "the progress line is cleared before the summary" {
	pty_run "$GATHER" --stats -c 3 "$BASE/delay/300" "$BASE/delay/300" \
		"$BASE/delay/300"
	assert_success
	assert_output --partial 'in flight'
	# Cleared, then the summary from the start of a clean line.
	assert_output --partial $'\r\033[Krecords:  3\r\n'
	assert_output --partial $'\r\nok:       3\r\n'
}

@test "--no-progress draws nothing on a terminal" {
	pty_run "$GATHER" --no-progress -c 3 "$BASE/delay/300" \
		"$BASE/delay/300" "$BASE/delay/300"
	assert_success
	assert_output ''
	run jq -s length "$BATS_TEST_TMPDIR/out"
	assert_output 3
}

@test "no progress line when stderr is not a terminal" {
	pty_run --stderr "$BATS_TEST_TMPDIR/err" "$GATHER" -c 3 \
		"$BASE/delay/300" "$BASE/delay/300" "$BASE/delay/300"
	assert_success
	assert_output ''
	run cat "$BATS_TEST_TMPDIR/err"
	assert_output ''
	# Nor under bats, where stderr is a pipe.
	run --separate-stderr "$GATHER" -c 3 "$BASE/delay/300" \
		"$BASE/delay/300" "$BASE/delay/300"
	assert_success
	assert_no_stderr
}

@test "--progress draws the line even when stderr is not a terminal" {
	run --separate-stderr "$GATHER" --progress -c 3 "$BASE/delay/300" \
		"$BASE/delay/300" "$BASE/delay/300"
	assert_success
	assert_equal "${#lines[@]}" 3
	[[ "$stderr" == $'\r'* ]] || fail "stderr does not start with \\r" <<<"$stderr"
	[[ "$stderr" == *'/3 '*'in flight'* ]] || fail "no progress text" <<<"$stderr"
	[[ "$stderr" == *$'\rdone 3  ok 3  failed 0  in '*$'s\033[K' ]] ||
		fail "no final count" <<<"$stderr"
}
