#!/usr/bin/env bats
# Start-up: what gather finds when it starts.  Standard descriptors that
# are closed (stdin as input is exit 3, a closed stdout ends quietly as a
# reader that left, a closed stderr costs nothing) and the limit on open
# files (raised to the hard limit; a -c that cannot fit is exit 2; running
# out anyway is a record of kind other).

bats_require_minimum_version 1.5.0
load helper

setup_file() { start_server; }
teardown_file() { stop_server; }
teardown() { stop_bg; }

# ---- closed standard descriptors -------------------------------------------

# Run gather with descriptor 0, 1 or 2 ($1) closed.  Not `run ... <&-`: the
# pipe that run reads the output from would take the closed number.
gather_closed() {
	local fd="$1"
	shift
	case "$fd" in
	0) "$GATHER" "$@" <&- ;;
	1) "$GATHER" "$@" >&- ;;
	2) "$GATHER" "$@" 2>&- ;;
	esac
}

@test "a closed stdin as the input: exit 3 and one line" {
	for args in "" "-i -" "-c 4 -i -"; do
		# shellcheck disable=SC2086
		run --separate-stderr gather_closed 0 $args
		assert_one_line_error 3 '^gather: standard input is closed$'
	done
}

@test "a closed stdin with --format json: exit 3, nothing on stdout" {
	run --separate-stderr gather_closed 0 --format json
	assert_one_line_error 3 '^gather: standard input is closed$'
}

@test "a closed stdin does not matter with URL arguments or -i FILE" {
	printf '%s\n' "$BASE/status/201" >"$BATS_TEST_TMPDIR/list"
	run --separate-stderr gather_closed 0 "$BASE/ok" "$BASE/status/202"
	assert_success
	assert_no_stderr
	assert_jq 'map(.status) == [200, 202]'
	run --separate-stderr gather_closed 0 -i "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_no_stderr
	assert_jq 'map(.status) == [201]'
}

@test "a closed stdout: exit 141 at once, quietly, nothing fetched" {
	reset_stats
	run --separate-stderr gather_closed 1 "$BASE/ok"
	assert_equal "$status" 141
	assert_no_stderr
	assert_equal "$(stat_field requests)" 0
	# Even with records to read from stdin.
	run --separate-stderr bash -c 'echo "$1" | "$GATHER" >&-' _ "$BASE/ok"
	assert_equal "$status" 141
	assert_no_stderr
	assert_equal "$(stat_field requests)" 0
}

@test "a closed stderr: the run goes on, -v and --stats included" {
	run --separate-stderr gather_closed 2 -v --stats "$BASE/ok" \
		"$BASE/status/404"
	assert_success
	assert_jq 'map(.status) == [200, 404]'
	run --separate-stderr gather_closed 2 --bogus
	assert_equal "$status" 2
	assert_equal "$output" ''
}

@test "closed stdin and stderr are /dev/null while gather runs" {
	# Else libev's epoll descriptor or a socket would take their numbers,
	# and a -v line could land in it.
	reset_stats
	start_bg --in - --err - "$GATHER" -t 20 "$BASE/hang/startup-fds"
	wait_until 10 hits_at_least /hang/startup-fds 1 ||
		fail "the transfer did not reach the server"
	fd0=$(readlink "/proc/$BG_PID/fd/0")
	fd2=$(readlink "/proc/$BG_PID/fd/2")
	kill -TERM "$BG_PID"
	wait_bg 10
	assert_equal "$BG_STATUS" 143
	assert_equal "$fd0" /dev/null
	assert_equal "$fd2" /dev/null
	run jq -r '.error.kind' "$BATS_TEST_TMPDIR/out"
	assert_output cancelled
}

# ---- the limit on open files -------------------------------------------

@test "-c beyond the open-file limit: exit 2, naming the -c that fits" {
	reset_stats
	run --separate-stderr bash -c \
		'ulimit -n 256 && exec "$GATHER" -c 5000 "$1"' _ "$BASE/ok"
	assert_usage_error
	# A descriptor a slot, 32 of gather's own, 2 for each of the 20
	# multi handles of -c 5000 (and of the one multi handle of -c 222).
	assert_equal "$stderr" "gather: -c 5000 needs about 5072 file \
descriptors but only 256 are allowed; use -c 222 or raise ulimit -n"
	# Under -o each slot may also hold a file open.
	run --separate-stderr bash -c \
		'ulimit -n 256 && exec "$GATHER" -c 200 -o "$2" "$1"' _ \
		"$BASE/ok" "$BATS_TEST_TMPDIR/dl"
	assert_usage_error
	assert_equal "$stderr" "gather: -c 200 needs about 434 file \
descriptors but only 256 are allowed; use -c 111 or raise ulimit -n"
	assert_nothing_fetched
	# What it suggests does fit.
	run --separate-stderr bash -c \
		'ulimit -n 256 && exec "$GATHER" -c 222 "$1"' _ "$BASE/ok"
	assert_success
	assert_no_stderr
}

@test "a soft open-file limit below -c is raised to the hard limit" {
	hard=$(ulimit -Hn)
	if [[ "$hard" != unlimited ]] && ((hard < 1100)); then
		skip "hard limit on open files is $hard"
	fi
	# 300 transfers at once need more than 256 descriptors: with the soft
	# limit left at 256 some would fail to connect.
	urls 300 /delay/500 >"$BATS_TEST_TMPDIR/list"
	run --separate-stderr bash -c \
		'ulimit -Sn 256 && exec "$GATHER" -c 1000 -t 30 -i "$1"' _ \
		"$BATS_TEST_TMPDIR/list"
	assert_success
	assert_no_stderr
	assert_equal "${#lines[@]}" 300
	assert_jq 'all(.ok and .status == 200)'
}

@test "out of file descriptors is other, 'too many open files', never connect" {
	urls 200 /delay/200 >"$BATS_TEST_TMPDIR/in"
	# -c 30 fits the limit of 64 at start (30 + 32), but 40 descriptors
	# the shell opened first are inherited: the run itself runs short.
	run --separate-stderr bash -c 'ulimit -n 64 &&
		for i in $(seq 40); do exec {fd}</dev/null; done &&
		exec timeout 60 "$GATHER" -c 30 -t 20 -i "$1"' _ \
		"$BATS_TEST_TMPDIR/in"
	assert_jsonl --ordered -n 200
	assert_jq 'all(.[]; .ok or (.error.kind == "other" and
		.error.message == "too many open files"))'
	assert_jq 'any(.[]; .ok | not)'
}
