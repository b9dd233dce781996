#!/usr/bin/env bats
# Politeness that adapts: a 429 or 503 with Retry-After pauses its host
# (and only it), --per-host-rate spaces each host's starts, --adaptive
# finds how much concurrency a host takes, and a wait for a host never
# counts against a record's timeout.
#
# Two host names (a.test, b.test) reach the one test server through
# --resolve; the server stamps each request with its Host header and a
# monotonic time (/host-arrivals), and counts what /shed sheds.  Timing
# bounds are lower bounds where a wait is fixed (a Retry-After, a rate)
# and generous upper bounds otherwise: the suite also runs under ASan.
# The AIMD arithmetic is checked in tests/unit/policy_unit.c.

bats_require_minimum_version 1.5.0
load helper

setup_file() { start_server; }
teardown_file() { stop_server; }

# The --resolve options that send a.test and b.test to the server.
resolve_ab() {
	RESOLVE=(--resolve "a.test:$PORT:127.0.0.1"
		--resolve "b.test:$PORT:127.0.0.1")
}

# jq over the server's arrivals: host_jq [JQ-ARGS...] FILTER prints the
# result; FILTER sees an array of [host, path, t].
host_jq() {
	curl -q -s --max-time 5 "$BASE/host-arrivals" | jq -r "$@"
}

# The shedding endpoint's counters for KEY: shed_stat KEY FIELD.
shed_stat() {
	curl -q -s --max-time 5 "$BASE/shed-stats?key=$1" | jq -r ".$2"
}

# ---- a Retry-After pauses its host ------------------------------------------

@test "429 with Retry-After: 2 pauses its host; another host starts at once" {
	reset_stats
	resolve_ab
	{
		echo "http://a.test:$PORT/pause/p1/2"
		for i in 1 2 3; do
			echo "http://a.test:$PORT/p/a$i"
			echo "http://b.test:$PORT/p/b$i"
		done
	} >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -c 1 --retries 1 -v --stats=json \
		"${RESOLVE[@]}" -i "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_jsonl -n 7 --ordered
	assert_jq 'all(.ok and .status == 200) and .[0].attempts == 2'
	# Server side: every later a.test request (the retry included) came
	# at least 2 s after the 429; every b.test one before any of those.
	host_jq --arg a "a.test:$PORT" --arg b "b.test:$PORT" '
		(map(select(.[1] == "/pause/p1/2"))[0][2]) as $t429
		| (map(select(.[0] == $a))[1:] | map(.[2])) as $later
		| (map(select(.[0] == $b)) | map(.[2])) as $bs
		| [($later | length), ($bs | length),
		   (($later | min) - $t429),
		   (($bs | max) - $t429),
		   (($later | min) > ($bs | max))] | @tsv' >"$BATS_TEST_TMPDIR/t"
	read -r na nb gap bspan order <"$BATS_TEST_TMPDIR/t"
	assert_equal "$na" 4
	assert_equal "$nb" 3
	fcmp "$gap" '>=' 1.95 || fail "a.test resumed $gap s after its 429"
	fcmp "$bspan" '<' 1.5 || fail "b.test waited $bspan s for a.test's pause"
	assert_equal "$order" true
	# -v says which host and until when; --stats counts the pause.
	[[ "$stderr" =~ "[0] 429 with Retry-After: host a.test:$PORT paused for 2.000 s, until "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z ]] ||
		fail "no pause line in: $stderr"
	printf '%s\n' "$stderr" | tail -n 1 | jq -e '.pauses == 1' >/dev/null ||
		fail "--stats=json does not count one pause: $stderr"
}

@test "a paused host's records wait without a slot and without their timeout" {
	reset_stats
	resolve_ab
	{
		echo "http://a.test:$PORT/pause/p2/2"
		for i in 1 2 3 4; do echo "http://a.test:$PORT/p/a$i"; done
		for i in 1 2 3 4; do echo "http://b.test:$PORT/p/b$i"; done
	} >"$BATS_TEST_TMPDIR/in"
	# -t 1 is less than the pause: waiting for the host is not the
	# transfer.  --retries 0: the 429 itself is the record, and still
	# pauses the host.  -c 1: the four a.test records waiting do not
	# keep b.test's from the one slot.
	run --separate-stderr "$GATHER" -c 1 -t 1 --stats "${RESOLVE[@]}" \
		-i "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_jsonl -n 9 --ordered
	assert_jq '.[0].status == 429 and .[0].attempts == 1 and
		(.[1:] | all(.ok and .status == 200 and .attempts == 1)) and
		(.[1:5] | all(.time.queue >= 1.9 and .time.total < 1))'
	host_jq --arg a "a.test:$PORT" --arg b "b.test:$PORT" '
		(.[0][2]) as $t0
		| [(map(select(.[0] == $a))[1:] | map(.[2]) | min) - $t0,
		   (map(select(.[0] == $b)) | map(.[2]) | max) - $t0] | @tsv' \
		>"$BATS_TEST_TMPDIR/t"
	read -r gap bspan <"$BATS_TEST_TMPDIR/t"
	fcmp "$gap" '>=' 1.95 || fail "a.test resumed $gap s after its 429"
	fcmp "$bspan" '<' 1.5 || fail "b.test's records waited $bspan s"
	grep -qx 'pauses:   1' <<<"$stderr" || fail "no pause counted: $stderr"
}

@test "a pause is capped by --retry-max-delay, and an HTTP date works" {
	reset_stats
	resolve_ab
	# Retry-After: 30 with a cap of 1 s: the host waits about 1 s.
	run --separate-stderr "$GATHER" -c 1 --retry-max-delay 1 \
		"${RESOLVE[@]}" "http://a.test:$PORT/pause/p3/30" \
		"http://a.test:$PORT/p/c1"
	assert_success
	host_jq '(.[1][2] - .[0][2]) | tostring' >"$BATS_TEST_TMPDIR/t"
	read -r gap <"$BATS_TEST_TMPDIR/t"
	fcmp "$gap" '>=' 0.95 || fail "capped pause of $gap s"
	fcmp "$gap" '<' 10 || fail "the cap did not hold: $gap s"
	# A 503 with an HTTP date 2 s ahead: whole seconds, so at least 1 s.
	reset_stats
	run --separate-stderr "$GATHER" -c 1 "${RESOLVE[@]}" \
		"http://a.test:$PORT/retry-after-date/2" \
		"http://a.test:$PORT/p/c2"
	assert_success
	assert_jq '.[0].status == 503 and .[1].status == 200'
	host_jq '(.[1][2] - .[0][2]) | tostring' >"$BATS_TEST_TMPDIR/t"
	read -r gap <"$BATS_TEST_TMPDIR/t"
	fcmp "$gap" '>=' 0.95 || fail "an HTTP-date pause of $gap s"
}

@test "a burst of 429s while the host is paused is one pause, as long as the longest" {
	reset_stats
	# -c 4: all four start before the first answer comes back.
	run --separate-stderr "$GATHER" -c 4 --retries 1 --stats=json \
		"$BASE/pause/q1/1" "$BASE/pause/q2/1" "$BASE/pause/q3/2" \
		"$BASE/pause/q4/1"
	assert_success
	assert_jq 'all(.status == 200 and .attempts == 2)'
	printf '%s\n' "$stderr" | tail -n 1 | jq -e '.pauses == 1' >/dev/null ||
		fail "--stats=json: $stderr"
	# The retries waited for the longest Retry-After of the burst.
	arrivals | jq -r '(map(select(.[0] | startswith("/pause/"))) |
		(.[4:] | map(.[1]) | min) -
		(map(select(.[0] == "/pause/q3/2"))[0][1])) |
		tostring' >"$BATS_TEST_TMPDIR/t"
	fcmp "$(<"$BATS_TEST_TMPDIR/t")" '>=' 1.95 ||
		fail "retries $(<"$BATS_TEST_TMPDIR/t") s after the 2 s answer"
}

# ---- --per-host-rate ----------------------------------------------------------

@test "--per-host-rate 5/s: each host's 10 starts span 1.6 s, side by side" {
	reset_stats
	resolve_ab
	{
		for i in $(seq 10); do
			echo "http://a.test:$PORT/p/r$i"
			echo "http://b.test:$PORT/p/r$i"
		done
	} >"$BATS_TEST_TMPDIR/in"
	t=$(now)
	run --separate-stderr "$GATHER" --per-host-rate 5/s "${RESOLVE[@]}" \
		-i "$BATS_TEST_TMPDIR/in"
	took=$(since "$t")
	assert_success
	assert_jsonl -n 20 --ordered
	host_jq 'group_by(.[0]) | map([.[0][0], length,
		(map(.[2]) | max - min)] | @tsv)[]' >"$BATS_TEST_TMPDIR/t"
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/t")" 2
	while read -r host n span; do
		assert_equal "$n" 10
		fcmp "$span" '>=' 1.6 || fail "$host: 10 starts in $span s"
	done <"$BATS_TEST_TMPDIR/t"
	# Side by side: far less than the 3.6 s of one host after the other.
	assert_took "$took" '<' 3.2 "two hosts at 5/s each"
}

@test "--per-host-rate beside --rate: the global rate still holds" {
	reset_stats
	resolve_ab
	t=$(now)
	run --separate-stderr "$GATHER" --rate 5/s --per-host-rate 100/s \
		"${RESOLVE[@]}" "http://a.test:$PORT/p/g1" \
		"http://b.test:$PORT/p/g2" "http://a.test:$PORT/p/g3" \
		"http://b.test:$PORT/p/g4" "http://a.test:$PORT/p/g5"
	assert_success
	host_jq '(map(.[2]) | max - min) | tostring' >"$BATS_TEST_TMPDIR/t"
	fcmp "$(<"$BATS_TEST_TMPDIR/t")" '>=' 0.75 ||
		fail "5 starts at --rate 5/s in $(<"$BATS_TEST_TMPDIR/t") s"
}

@test "--per-host-rate: a bad value is a usage error" {
	gather_usage_error --per-host-rate 0 "$BASE/"
	gather_usage_error --per-host-rate 5/d "$BASE/"
	gather_usage_error --per-host-rate x "$BASE/"
	run --separate-stderr "$GATHER" --per-host-rate 5/x "$BASE/"
	assert_usage_error 'per-host-rate.*600/m'
}

# ---- --adaptive -------------------------------------------------------------

@test "--adaptive: a shedding server sheds a small part of what it sheds at -c 32" {
	# /shed/KEY/4: 503 at once past 4 in flight, else 200 after 100 ms.
	reset_stats
	urls 120 /shed/s1/4 >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -c 32 --retries 40 --retry-delay 0.05 \
		--retry-max-delay 0.5 --body none -i "$BATS_TEST_TMPDIR/in"
	fixed=$(shed_stat s1 shed)
	reset_stats
	urls 120 /shed/s2/4 >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -c 32 --retries 40 --retry-delay 0.05 \
		--retry-max-delay 0.5 --body none --adaptive --stats=json -v \
		-i "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_jsonl -n 120 --ordered
	assert_jq 'all(.ok and .status == 200)'
	adaptive=$(shed_stat s2 shed)
	assert_equal "$(shed_stat s2 served)" 120
	echo "# shed at -c 32: $fixed; with --adaptive: $adaptive" >&3
	((fixed >= 100)) || fail "the fixed run shed only $fixed"
	((adaptive * 5 <= fixed)) ||
		fail "--adaptive shed $adaptive, -c 32 alone $fixed"
	# The limit came down: -v says so, --stats=json lists the host.
	[[ "$stderr" == *"503: host 127.0.0.1:$PORT limit down to "* ]] ||
		fail "no limit line: $stderr"
	printf '%s\n' "$stderr" | tail -n 1 | jq -e --arg h "127.0.0.1:$PORT" '
		.pauses == 0 and (.slowed | length) == 1 and
		.slowed[0].host == $h and .slowed[0].lowest >= 1 and
		.slowed[0].lowest <= 4 and .slowed[0].final >= .slowed[0].lowest
		and .slowed[0].final <= 32' >/dev/null ||
		fail "--stats=json: $(tail -n 1 <<<"$stderr")"
}

@test "--adaptive: starts at 2 and grows by rounds; --per-host caps it" {
	# No shedding (K = 1000): 40 records of 100 ms.  From 2, one more
	# after each round as large as the limit: about 8 at the end, far
	# from -c 32.
	reset_stats
	urls 40 /shed/g1/1000 >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -c 32 --adaptive --body none --stats \
		-i "$BATS_TEST_TMPDIR/in"
	assert_success
	max=$(shed_stat g1 max_inflight)
	((max >= 4 && max <= 10)) || fail "$max in flight at once"
	# Nothing came down: no slowed line.
	[[ "$stderr" != *slowed:* ]] || fail "a host listed as slowed: $stderr"
	reset_stats
	urls 40 /shed/g2/1000 >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -c 32 --per-host 3 --adaptive \
		--body none -i "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$(shed_stat g2 max_inflight)" 3
	# A cap below 2 is where it starts.
	reset_stats
	urls 6 /shed/g3/1000 >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -c 1 --adaptive --body none \
		-i "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$(shed_stat g3 max_inflight)" 1
}

@test "--adaptive is per host: one host's overload leaves another's limit" {
	reset_stats
	resolve_ab
	{
		for i in $(seq 30); do
			echo "http://a.test:$PORT/shed/h1/1?i=$i"
			echo "http://b.test:$PORT/shed/h2/1000?i=$i"
		done
	} >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -c 32 --adaptive --retries 40 \
		--retry-delay 0.05 --retry-max-delay 0.3 --body none \
		--stats=json "${RESOLVE[@]}" -i "$BATS_TEST_TMPDIR/in"
	assert_success
	printf '%s\n' "$stderr" | tail -n 1 | jq -e --arg a "a.test:$PORT" '
		(.slowed | length) == 1 and .slowed[0].host == $a and
		.slowed[0].lowest == 1' >/dev/null ||
		fail "--stats=json: $(tail -n 1 <<<"$stderr")"
	(($(shed_stat h2 max_inflight) >= 4)) ||
		fail "b.test was held back to $(shed_stat h2 max_inflight)"
}

@test "--stats text lists the hosts whose limit came down" {
	reset_stats
	urls 30 /shed/t1/1 >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -c 8 --adaptive --retries 40 \
		--retry-delay 0.05 --retry-max-delay 0.3 --body none --stats \
		-i "$BATS_TEST_TMPDIR/in"
	assert_success
	[[ "$stderr" =~ $'\n'"slowed:   127.0.0.1:$PORT lowest 1, final "[0-9]+($'\n'|$) ]] ||
		fail "no slowed line: $stderr"
	grep -qx 'pauses:   0' <<<"$stderr" || fail "no pauses line: $stderr"
}

# ---- how a run ends while a host is paused ----------------------------------

@test "--deadline ends the records waiting for a paused host as deadline" {
	reset_stats
	resolve_ab
	t=$(now)
	run --separate-stderr "$GATHER" -c 1 --deadline 1 --retries 3 \
		"${RESOLVE[@]}" "http://a.test:$PORT/pause/d1/30" \
		"http://a.test:$PORT/p/d2" "http://b.test:$PORT/p/d3"
	took=$(since "$t")
	assert_failure 1
	assert_jsonl -n 3 --ordered
	# Record 0's 30 s wait would pass the deadline: it is its 429.
	assert_jq '.[0].status == 429 and .[0].attempts == 1 and
		.[1].error.kind == "deadline" and .[1].attempts == 0 and
		.[2].ok'
	assert_took "$took" '<' 10 "a run with a paused host and --deadline 1"
}

@test "SIGINT while records wait for a paused host: they are cancelled" {
	reset_stats
	resolve_ab
	start_bg "$GATHER" -c 1 "${RESOLVE[@]}" \
		"http://a.test:$PORT/pause/s1/30" "http://a.test:$PORT/p/s2" \
		"http://a.test:$PORT/p/s3" "http://b.test:$PORT/p/s4"
	wait_until 10 hits_at_least /p/s4 1 ||
		fail "b.test's record did not reach the server"
	wait_until 10 hits_at_least /pause/s1/30 1 ||
		fail "the 429 was not asked for"
	kill -INT "$BG_PID"
	wait_bg 10
	assert_equal "$BG_STATUS" 130
	load_bg_output
	assert_jsonl -n 4 --ordered
	assert_jq '.[0].status == 429 and .[3].ok and (.[1:3] |
		all(.error.kind == "cancelled" and .attempts == 0))'
	[[ "$stderr" != *Sanitizer* ]] || fail "sanitizer report: $stderr"
}
