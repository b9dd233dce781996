#!/usr/bin/env bats
# Receive buffers: 16 MiB shared by the -c slots, each within 1 KiB and
# 128 KiB.  What libcurl asks of recv() for one large body shows the size.

bats_require_minimum_version 1.5.0
load helper

setup_file() {
	start_server
}

teardown_file() {
	stop_server
}

# The largest length gather passes to recvfrom() fetching a 300,000-byte
# body at -c $1 (a sanitizer build's leak check cannot run under ptrace).
recv_len() {
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -qq -e trace=recvfrom -o "$BATS_TEST_TMPDIR/trace" \
		"$GATHER" -c "$1" --body none "$BASE/size/300000" \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	jq -e '.ok and .size == 300000' "$BATS_TEST_TMPDIR/out" >/dev/null ||
		{ echo "fetch failed: $(cat "$BATS_TEST_TMPDIR/out")" >&2; return 1; }
	sed -n 's/.*recvfrom([0-9]*, ".*"\.*, \([0-9]*\), .*/\1/p' \
		"$BATS_TEST_TMPDIR/trace" | sort -n | tail -n 1
}

@test "-c 1: a 128 KiB buffer, the most" {
	command -v strace >/dev/null || skip "no strace"
	run recv_len 1
	assert_success
	assert_output 131072
}

@test "-c 1000: 16 MiB over 1000 slots" {
	command -v strace >/dev/null || skip "no strace"
	hard=$(ulimit -Hn)
	[[ $hard == unlimited ]] || ((hard >= 1100)) || skip "hard limit on open files is $hard"
	run recv_len 1000
	assert_success
	assert_output $((16 * 1024 * 1024 / 1000))
}
