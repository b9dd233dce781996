#!/usr/bin/env bats
# Ordering, streaming and the concurrency bound: records come back in input
# order while transfers finish in any order, output starts before input
# ends, and -c N really bounds what the server sees in flight.

bats_require_minimum_version 1.5.0
load helper

setup_file() { start_server; }
teardown_file() { stop_server; }

@test "records that finish out of order are written in input order" {
	reset_stats
	run --separate-stderr "$GATHER" -c 3 \
		"$BASE/delay/600" "$BASE/delay/10" "$BASE/delay/300"
	assert_success
	assert_equal "${#lines[@]}" 3
	assert_jq 'map(.index) == [0, 1, 2]'
	assert_jq --arg b "$BASE" \
		'map(.url) == [$b + "/delay/600", $b + "/delay/10", $b + "/delay/300"]'
	assert_jq 'map(.body) == ["delay 600", "delay 10", "delay 300"]'
	# They really ran side by side and finished 1, 2, 0.
	assert_jq '.[1].time.total < .[2].time.total and
		.[2].time.total < .[0].time.total'
	assert_equal "$(stat_field max_inflight)" 3
}

# The two timestamped lines of $BATS_TEST_TMPDIR/out: the first written
# well before the second, which cannot come before SLOW s (the slow part
# behind it).  A gap, not a bound on the first: a loaded machine delays
# both.  Sets r0 and r1 to the records.
assert_streamed() {
	local slow=$1 t0 t1
	run cat "$BATS_TEST_TMPDIR/out"
	assert_equal "${#lines[@]}" 2
	read -r t0 r0 <<<"${lines[0]}"
	read -r t1 r1 <<<"${lines[1]}"
	fcmp "$t1" '>=' "$slow" || fail "second record came at $t1 s"
	fcmp "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" '>=' \
		"$(awk -v s="$slow" 'BEGIN { print s / 2 }')" ||
		fail "first record at $t0 s was held for the second at $t1 s"
}

@test "a finished record is written before a slower one behind it" {
	timestamped "$GATHER" "$BASE/ok" "$BASE/delay/3000" \
		>"$BATS_TEST_TMPDIR/out"
	assert_streamed 2.9
}

@test "the first record appears before a slow producer ends" {
	timestamped bash -c \
		'{ echo "$BASE/ok?i=0"; sleep 3; echo "$BASE/ok?i=1"; } | "$GATHER"' \
		>"$BATS_TEST_TMPDIR/out"
	assert_streamed 2.9
	assert_equal "$(jq -r '"\(.index) \(.url) \(.ok)"' <<<"$r0")" \
		"0 $BASE/ok?i=0 true"
	assert_equal "$(jq -r '"\(.index) \(.url) \(.ok)"' <<<"$r1")" \
		"1 $BASE/ok?i=1 true"
}

@test "5000 URLs: each fetched once, each written once, in order" {
	reset_stats
	urls 5000 /ok >"$BATS_TEST_TMPDIR/in"
	# Straight to a file: bats' `run` is slow at splitting 2 MB into lines.
	"$GATHER" -i "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out" ||
		fail "exit status $?"
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/out")" 5000
	jq -s -e --arg b "$BASE" '
		length == 5000 and
		(to_entries | all(
			.value.index == .key and
			.value.url == ($b + "/ok?i=" + (.key | tostring)) and
			.value.ok and .value.status == 200 and .value.body == "ok"))
		' "$BATS_TEST_TMPDIR/out" >/dev/null ||
		fail "records out of order, missing or not ok: $(head -c 2000 "$BATS_TEST_TMPDIR/out")"
	assert_equal "$(hits /ok)" 5000
	assert_equal "$(stat_field requests)" 5000
	max=$(stat_field max_inflight)
	((max <= 32)) || fail "default concurrency is 32, server saw $max"
}

@test "-c 4 keeps at most 4 transfers in flight" {
	reset_stats
	urls 40 /delay/50 >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -c 4 -i "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "${#lines[@]}" 40
	max=$(stat_field max_inflight)
	((max <= 4)) || fail "max_inflight $max > 4"
	((max >= 2)) || fail "max_inflight $max: transfers did not overlap"
	assert_equal "$(stat_field requests)" 40
}

@test "-c 1 runs one transfer at a time" {
	reset_stats
	urls 6 /delay/30 >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -c 1 -i "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "${#lines[@]}" 6
	assert_equal "$(stat_field max_inflight)" 1
}

@test "the default concurrency is 32" {
	reset_stats
	urls 64 /delay/300 >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -i "$BATS_TEST_TMPDIR/in"
	assert_success
	max=$(stat_field max_inflight)
	((max <= 32)) || fail "max_inflight $max > 32"
	((max >= 16)) || fail "max_inflight $max: far below 32"
}

@test "a larger -c is faster on slow URLs" {
	urls 20 /delay/200 >"$BATS_TEST_TMPDIR/in"
	t=$(now)
	run --separate-stderr "$GATHER" -c 2 -i "$BATS_TEST_TMPDIR/in"
	slow=$(since "$t")
	assert_success
	t=$(now)
	run --separate-stderr "$GATHER" -c 20 -i "$BATS_TEST_TMPDIR/in"
	fast=$(since "$t")
	assert_success
	# 10 rounds of 200 ms against one round: at least twice as fast.
	fcmp "$slow" '>=' 1.9 || fail "-c 2 took only $slow s"
	fcmp "$fast" '<' "$(awk -v s="$slow" 'BEGIN { print s / 2 }')" ||
		fail "-c 20 took $fast s, -c 2 took $slow s"
}

@test "an endless producer and a reader that stops: gather ends at once" {
	run --separate-stderr timeout 10 bash -c \
		'yes "$BASE/ok" | "$GATHER" -c 4 | head -n 5'
	[[ $status -ne 124 ]] || fail "gather still running after 10 s"
	assert_equal "${#lines[@]}" 5
	assert_jq --arg u "$BASE/ok" \
		'map(.index) == [0, 1, 2, 3, 4] and all(.url == $u and .ok)'
	assert_no_stderr
}
