#!/usr/bin/env bats
# Retries, backoff, Retry-After, --fail, --fail-fast and --deadline: which
# failures are tried again and how often, how long the waits are, that a
# waiting record holds no slot, and how a run is cut short.
#
# Timing bounds are generous upper bounds (the suite also runs under ASan);
# a lower bound is asserted only where the wait is fixed (a timeout, a
# Retry-After) or where a shorter run has a vanishing probability.  The
# maths of the waits (backoff, caps, Retry-After parsing) is checked in
# tests/unit/policy_unit.c; here only that the waits are wired in.

bats_require_minimum_version 1.5.0
load helper

setup_file() { start_server; }
teardown_file() { stop_server; }

# ---- what is retried ------------------------------------------------------

@test "--retries: a flaky URL is tried until it answers 200" {
	reset_stats
	run --separate-stderr "$GATHER" --retries 3 --retry-delay 0.05 \
		"$BASE/flaky/res-a/2"
	assert_success
	assert_equal "${#lines[@]}" 1
	assert_jq '.[0] | .ok and .status == 200 and .attempts == 3 and
		.body == "ok after 2" and .error == null'
	assert_equal "$(hits /flaky/res-a/2)" 3
}

@test "--retries: a URL that stays flaky ends as its last response" {
	reset_stats
	run --separate-stderr "$GATHER" --retries 2 --retry-delay 0.05 \
		"$BASE/flaky/res-b/5"
	# Retries ran out on an HTTP status: the record is that response, ok.
	assert_success
	assert_jq '.[0] | .ok == true and .status == 503 and .attempts == 3 and
		.body == "flaky" and .error == null'
	assert_equal "$(hits /flaky/res-b/5)" 3
}

@test "--retries 0 (the default) tries once" {
	reset_stats
	run --separate-stderr "$GATHER" "$BASE/flaky/res-c/1"
	assert_success
	assert_jq '.[0] | .status == 503 and .attempts == 1'
	assert_equal "$(hits /flaky/res-c/1)" 1
}

@test "--retries: a connection reset is retried, then reported as reset" {
	reset_stats
	run --separate-stderr "$GATHER" --retries 2 --retry-delay 0.01 \
		"$BASE/reset"
	assert_failure 1
	assert_jq '.[0] | .ok == false and .error.kind == "reset" and
		.attempts == 3 and .status == null'
	assert_equal "$(hits /reset)" 3
}

@test "--retries: an empty reply (curl 52) is retried as reset" {
	reset_stats
	run --separate-stderr "$GATHER" --retries 1 --retry-delay 0.01 \
		"$BASE/empty"
	assert_failure 1
	assert_jq '.[0] | .error.kind == "reset" and .error.curl_code == 52 and
		.attempts == 2'
	assert_equal "$(hits /empty)" 2
}

@test "--retries: a timeout is retried, each attempt with its own -t" {
	reset_stats
	t=$(now)
	run --separate-stderr "$GATHER" -t 0.3 --retries 1 --retry-delay 0.01 \
		"$BASE/hang/res-t"
	took=$(since "$t")
	assert_failure 1
	assert_jq '.[0] | .error.kind == "timeout" and .error.curl_code == 28 and
		.attempts == 2'
	# time.* is about the last attempt, which ran its whole -t.
	assert_jq '.[0].time.total >= 0.25'
	assert_equal "$(hits /hang/res-t)" 2
	# Two attempts of 0.3 s each: the timeouts themselves make this sure.
	assert_took "$took" '>=' 0.55 "two 0.3 s attempts"
}

@test "--retries: a refused connection is retried as connect" {
	port=$(closed_port)
	run --separate-stderr "$GATHER" --retries 2 --retry-delay 0.01 \
		"http://127.0.0.1:$port/"
	assert_failure 1
	assert_jq '.[0] | .error.kind == "connect" and .error.curl_code == 7 and
		.attempts == 3'
}

@test "--retries: 408 429 500 502 503 504 are retried, other statuses not" {
	reset_stats
	codes=(408 429 500 502 503 504 400 401 403 404 410 501 505 200 204 301)
	args=()
	for c in "${codes[@]}"; do args+=("$BASE/status/$c"); done
	run --separate-stderr "$GATHER" --no-location --retries 1 \
		--retry-delay 0.01 --retry-max-delay 0.01 "${args[@]}"
	assert_success
	assert_jq 'map(.status) == [408, 429, 500, 502, 503, 504, 400, 401,
		403, 404, 410, 501, 505, 200, 204, 301]'
	assert_jq 'map(.attempts) == [2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1,
		1, 1, 1]'
	assert_jq 'all(.[]; .ok and .error == null)'
	assert_equal "$(hits /status/503)" 2
	assert_equal "$(hits /status/404)" 1
}

@test "--retries: failures that are not transient are not retried" {
	reset_stats
	printf '%s\n' '{"url": 5}' '{"url": "'"$BASE"'/ok", "bogus": 1}' \
		'http://[::1' 'ftp://127.0.0.1/' >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" --retries 3 --retry-delay 0.01 \
		--max-body 1k --max-redirs 1 -i "$BATS_TEST_TMPDIR/in" \
		"$BASE/size/2048" "$BASE/redirect/3"
	assert_failure 1
	assert_equal "${#lines[@]}" 6
	# URL arguments come first, then the file.
	assert_jq 'map(.error.kind) == ["too_large", "too_many_redirects",
		"bad_input", "bad_input", "invalid_url", "unsupported_protocol"]'
	assert_jq '.[0].attempts == 1 and .[1].attempts == 1'
	# Records that never started made no attempt (or at most one).
	assert_jq '.[2:] | all(.[]; .attempts <= 1)'
	assert_equal "$(hits /size/2048)" 1
	assert_equal "$(hits /redirect/3)" 1
	assert_equal "$(stat_field requests)" 3
}

# ---- how long the waits are -----------------------------------------------

@test "--retry-delay: a 503 without Retry-After backs off like any failure" {
	# Ten waits, each random(0, 0.2) (capped by --retry-max-delay): their
	# sum is below 0.2 s with probability 1/10! (about 3e-7).  A 503 or 429
	# with no Retry-After header must not be taken as "Retry-After: 0".
	for path in /status/503 /status/429; do
		t=$(now)
		run --separate-stderr "$GATHER" --retries 10 --retry-delay 0.2 \
			--retry-max-delay 0.2 "$BASE$path"
		took=$(since "$t")
		assert_success
		assert_jq '.[0].attempts == 11'
		assert_took "$took" '>=' 0.2 "10 backoff waits after $path"
	done
}

@test "Retry-After is honoured, and cut by --retry-max-delay when too large" {
	# Each case: the Retry-After value, the least the run can take, the
	# options.  Retry-After: 1 waits 1 s.  With --retry-delay 0 the
	# backoff is no wait at all: only a Retry-After taken as "very long"
	# and cut to the cap waits 0.6 s.  (Other huge values and far dates:
	# policy_unit.)
	for case in "1 0.9 --retry-delay 0.01" \
	    "99999999999999999999 0.55 --retry-delay 0 --retry-max-delay 0.6"; do
		read -r value least opts <<<"$case"
		reset_stats
		t=$(now)
		# shellcheck disable=SC2086 # opts is words on purpose
		run --separate-stderr "$GATHER" --retries 1 $opts \
			"$BASE/retry-after/$value"
		took=$(since "$t")
		assert_success
		assert_jq '.[0] | .status == 503 and .attempts == 2 and
			.body == "retry after '"$value"'"'
		assert_equal "$(hits "/retry-after/$value")" 2
		assert_took "$took" '>=' "$least" "Retry-After: $value"
	done
}

@test "a record waiting to retry holds no slot (-c 1, completion order)" {
	reset_stats
	# Record 0 waits 1 s (Retry-After) between its attempts; with -c 1 the
	# three others can only run while it waits if it gave its slot back.
	run --separate-stderr "$GATHER" -u -c 1 --retries 1 \
		"$BASE/retry-after/1" "$BASE/delay/200" "$BASE/delay/200" \
		"$BASE/delay/200"
	assert_success
	assert_jq 'map(.index) == [1, 2, 3, 0]'
	assert_jq '.[3] | .attempts == 2 and .status == 503'
	assert_jq '.[0:3] | all(.[]; .ok and .status == 200 and .attempts == 1)'
	# -c 1 still holds: never two requests at the server at once.
	assert_equal "$(stat_field max_inflight)" 1
}

@test "a record waiting to retry holds no slot (ordered, arrival order)" {
	reset_stats
	# The other records go to another host name: a Retry-After pauses
	# its own host (tests/polite.bats), not the others.
	run --separate-stderr "$GATHER" -c 1 --retries 1 \
		--resolve "other.test:$PORT:127.0.0.1" "$BASE/retry-after/1" \
		"http://other.test:$PORT/delay/300" \
		"http://other.test:$PORT/delay/300"
	assert_success
	assert_jq 'map(.index) == [0, 1, 2]'
	# A fast record reached the server while record 0 was waiting its
	# 1 s: the second request the server saw.
	assert_equal "$(arrivals | jq -r '.[1][0]')" /delay/300
	assert_equal "$(stat_field max_inflight)" 1
}

# ---- --fail ---------------------------------------------------------------

@test "--fail: a 404 is a failure of kind http, exit 1" {
	run --separate-stderr "$GATHER" --fail "$BASE/status/404" "$BASE/ok"
	assert_failure 1
	assert_jq '.[0] | .ok == false and .status == 404 and
		.error.kind == "http" and (.error.message | test("404"))'
	assert_jq '.[0].error | has("curl_code") | not'
	assert_jq '.[1] | .ok and .status == 200 and .error == null'
}

@test "--fail with retries: a 503 that stays is http after the retries" {
	reset_stats
	run --separate-stderr "$GATHER" --fail --retries 2 --retry-delay 0.01 \
		--retry-max-delay 0.01 "$BASE/flaky/res-f/9"
	assert_failure 1
	assert_jq '.[0] | .ok == false and .status == 503 and
		.error.kind == "http" and .attempts == 3'
}

@test "--fail with retries: a flaky URL that recovers is ok" {
	run --separate-stderr "$GATHER" --fail --retries 2 --retry-delay 0.01 \
		"$BASE/flaky/res-g/1"
	assert_success
	assert_jq '.[0] | .ok and .status == 200 and .attempts == 2'
}

@test "without --fail, retries running out on 503 leave an ok record" {
	run --separate-stderr "$GATHER" --retries 1 --retry-delay 0.01 \
		"$BASE/status/503" "$BASE/status/404"
	assert_success
	assert_jq 'map(.ok) == [true, true] and map(.status) == [503, 404]'
	assert_jq 'map(.attempts) == [2, 1]'
}

# ---- --fail-fast ----------------------------------------------------------

@test "--fail-fast: the first failure cancels a hung transfer at once" {
	# "cancelled", not "timeout": it was cut before -t 20 could end it.
	run --separate-stderr "$GATHER" --fail-fast --fail -t 20 \
		"$BASE/hang/ff-a" "$BASE/status/404"
	assert_failure 1
	assert_equal "${#lines[@]}" 2
	assert_jq '.[0] | .ok == false and .error.kind == "cancelled" and
		.status == null'
	assert_jq '.[1] | .ok == false and .error.kind == "http" and
		.status == 404'
}

@test "--fail-fast: a transport failure triggers it too" {
	port=$(closed_port)
	run --separate-stderr "$GATHER" --fail-fast -t 20 \
		"$BASE/hang/ff-b" "http://127.0.0.1:$port/"
	assert_failure 1
	assert_jq 'map(.error.kind) == ["cancelled", "connect"]'
}

@test "--fail-fast: every record read is written, the rest never read" {
	port=$(closed_port)
	{
		echo "$BASE/hang/ff-c"
		echo "http://127.0.0.1:$port/"
		urls 500 /delay/3000
	} >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" --fail-fast -c 2 -t 20 \
		-i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_jq '.[0].error.kind == "cancelled"'
	assert_jq '.[1].error.kind == "connect"'
	# Records are read only a little ahead of the two slots: few of the
	# 502 were read, and those read were written, indexes 0..n-1 in order.
	n=${#lines[@]}
	((n >= 2 && n <= 8)) || fail "$n records written after --fail-fast"
	assert_jq 'map(.index) == [range(length)]'
	assert_jq '.[2:] | all(.[]; .error.kind == "cancelled")'
}

@test "--fail-fast: a retry waiting its turn is cancelled too" {
	port=$(closed_port)
	reset_stats
	# Record 0 waits 30 s for its retry when record 1 fails.
	run --separate-stderr "$GATHER" --fail-fast --retries 3 \
		--retry-delay 0.05 "$BASE/retry-after/30" "$BASE/delay/300" \
		"http://127.0.0.1:$port/"
	assert_failure 1
	assert_equal "${#lines[@]}" 3
	# The refused connection is retried too (it is transient), then fails.
	assert_jq '.[2] | .error.kind == "connect" and .attempts == 4'
	assert_jq '.[0] | .error.kind == "cancelled" and .attempts == 1'
	assert_jq '.[1] | .ok or .error.kind == "cancelled"'
	# The retry never went out: the server saw one request.
	assert_equal "$(hits /retry-after/30)" 1
}

@test "--fail-fast without any failure changes nothing" {
	run --separate-stderr "$GATHER" --fail-fast "$BASE/ok" "$BASE/status/404"
	assert_success
	assert_jq 'map(.ok) == [true, true]'
}

# ---- --deadline -----------------------------------------------------------

@test "--deadline 0.5: unfinished records end as deadline, finished are ok" {
	t=$(now)
	run --separate-stderr "$GATHER" --deadline 0.5 -t 20 \
		"$BASE/hang/dl-a" "$BASE/delay/5000" "$BASE/ok" "$BASE/delay/100"
	took=$(since "$t")
	assert_failure 1
	assert_equal "${#lines[@]}" 4
	assert_jq 'map(.ok) == [false, false, true, true]'
	assert_jq '.[0:2] | all(.[]; .error.kind == "deadline" and
		.status == null)'
	assert_jq '.[2].status == 200 and .[3].body == "delay 100"'
	assert_took "$took" '>=' 0.45 "--deadline 0.5"
	# The 5 s record ended as "deadline": the run did not wait for it.
}

@test "--deadline stops reading an input that never ends" {
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	# Hold the writing end open for the whole test: no EOF ever comes.
	exec 8<>"$BATS_TEST_TMPDIR/fifo"
	printf '%s\n' "$BASE/hang/dl-b" "$BASE/ok" >&8
	# Without the deadline the run would last until timeout(1) ends it
	# at 20 s with status 124; status 1 says gather ended by itself.
	run --separate-stderr timeout 20 "$GATHER" --deadline 0.5 -t 20 \
		-i "$BATS_TEST_TMPDIR/fifo"
	exec 8>&-
	assert_failure 1
	assert_equal "${#lines[@]}" 2
	assert_jq '.[0].error.kind == "deadline" and .[1].ok'
}

@test "--deadline: no retry wait runs past it" {
	reset_stats
	# The server asks for 30 s; the deadline is 1 s away.  A wait run
	# past it would last until timeout(1) ends it with status 124.
	run --separate-stderr timeout 25 "$GATHER" --deadline 1 --retries 3 \
		"$BASE/retry-after/30" "$BASE/ok"
	[[ $status -ne 124 ]] || fail "the retry wait ran past --deadline 1"
	assert_equal "$(hits /retry-after/30)" 1
	assert_equal "${#lines[@]}" 2
	# Either the record is the 503 it got (no retry could fit before the
	# deadline), or it ended as deadline; never a second attempt.
	assert_jq '.[0] | .attempts == 1 and
		((.status == 503 and .ok) or .error.kind == "deadline")'
	assert_jq '.[1].ok'
}

@test "--deadline: backoff waits that fit run, the rest are cut" {
	reset_stats
	t=$(now)
	# Retry-After 1 s each time: attempts at about 0, 1, 2; the third wait
	# would end at 3 s, past the deadline of 2.5 s.
	run --separate-stderr "$GATHER" --deadline 2.5 --retries 9 \
		"$BASE/retry-after/1"
	took=$(since "$t")
	# Attempts at 0, 1 and 2 s fit; the server's count says none ran
	# past the deadline.
	assert_took "$took" '>=' 0.9 "--deadline 2.5"
	assert_jq '.[0] | .attempts >= 2 and .attempts <= 3'
	assert_jq '.[0] | (.status == 503 and .ok) or .error.kind == "deadline"'
	n=$(hits /retry-after/1)
	((n >= 2 && n <= 3)) || fail "$n attempts reached the server"
}
