#!/usr/bin/env bats
# Scheduling at scale: --rate spacing, --per-host limits, the --window that
# pauses new starts behind a slow head, and memory that stays flat over a
# long stream.  Timing bounds are generous lower bounds; where a bound is
# about the server's view, /arrivals gives the server's own clock.

bats_require_minimum_version 1.5.0
load helper

setup_file() {
	# A second server first, so that the usual PORT, BASE and SERVER_PID
	# name the first one: two servers are two hosts for --per-host, each
	# with its own /stats.
	start_server
	PORT2=$PORT BASE2=$BASE SERVER2_PID=$SERVER_PID
	export PORT2 BASE2 SERVER2_PID
	start_server
}

teardown_file() {
	stop_server
	SERVER_PID=${SERVER2_PID:-} stop_server
}

# max_inflight of the server at base URL $1.
max_inflight() {
	curl -q -s --max-time 5 "$1/stats" | jq -r .max_inflight
}

reset_both() {
	reset_stats
	curl -q -s --max-time 5 "$BASE2/reset-stats" >/dev/null
}

# --- --rate -----------------------------------------------------------------

@test "--rate 20: 11 starts are 10 gaps of 50 ms apart" {
	reset_stats
	t=$(now)
	run --separate-stderr "$GATHER" --rate 20 $(urls 11 /p/rate)
	took=$(since "$t")
	assert_success
	assert_equal "${#lines[@]}" 11
	assert_jq 'map(.index) == [range(11)] and all(.ok and .status == 200)'
	assert_took "$took" '>=' 0.45 "11 starts at --rate 20"
	# The server saw them spread out too (the first arrival may be late
	# by the connect, hence the slack).
	span=$(arrivals | jq '[.[] | select(.[0] == "/p/rate") | .[1]] |
		if length == 11 then max - min else -1 end')
	fcmp "$span" '>=' 0.35 || fail "server saw 11 requests within $span s"
}

@test "--rate 600/m is ten a second" {
	t=$(now)
	run --separate-stderr "$GATHER" --rate 600/m $(urls 3 /ok)
	took=$(since "$t")
	assert_success
	assert_jq 'map(.index) == [0, 1, 2] and all(.ok)'
	assert_took "$took" '>=' 0.18 "3 starts at 600/m"
	# Not 600 an hour either (that would be 12 s).
	assert_took "$took" '<' 6 "3 starts at 600/m"
}

@test "--rate starts evenly with no initial burst" {
	reset_stats
	run --separate-stderr "$GATHER" --rate 5 \
		"$BASE/p/r1" "$BASE/p/r2" "$BASE/p/r3"
	assert_success
	arr=$(arrivals)
	assert_equal "$(jq -c 'map(.[0])' <<<"$arr")" '["/p/r1","/p/r2","/p/r3"]'
	gap1=$(jq '.[1][1] - .[0][1]' <<<"$arr")
	gap2=$(jq '.[2][1] - .[1][1]' <<<"$arr")
	fcmp "$gap1" '>=' 0.15 || fail "2nd request $gap1 s after the 1st"
	fcmp "$gap2" '>=' 0.15 || fail "3rd request $gap2 s after the 2nd"
}

@test "--rate counts every attempt, retries included" {
	reset_stats
	t=$(now)
	run --separate-stderr "$GATHER" --rate 10 --retries 2 --retry-delay 0 \
		"$BASE/status/503"
	took=$(since "$t")
	assert_success
	assert_jq '.[0] | .attempts == 3 and .status == 503'
	assert_equal "$(hits /status/503)" 3
	assert_took "$took" '>=' 0.18 "3 attempts at --rate 10"
	gaps=$(arrivals | jq -c '[.[] | .[1]] | [range(1; length) as $i |
		.[$i] - .[$i - 1]] | map(. >= 0.07)')
	assert_equal "$gaps" '[true,true]'
}

@test "--rate: the run ends with its last transfer, not a gap later" {
	# One start every 10 s: the one URL starts at once, and nothing is
	# left to wait for once it is done; a gap waited for would be 10 s.
	t=$(now)
	run --separate-stderr timeout 30 "$GATHER" --rate 6/m "$BASE/ok"
	took=$(since "$t")
	assert_success
	assert_jq 'map(.index) == [0] and all(.ok)'
	assert_took "$took" '<' 5 "one URL at --rate 6/m"
}

@test "bad --rate values are usage errors" {
	reset_stats
	for v in 0 x 5/d -1 '' 10/ /s 0/m; do
		gather_usage_error --rate "$v" "$BASE/ok"
	done
	assert_nothing_fetched
}

# --- --per-host -------------------------------------------------------------

@test "--per-host 2 holds each host to 2 in flight; output stays in order" {
	reset_both
	in="$BATS_TEST_TMPDIR/in"
	# Interleaved, ten slow URLs per host.
	awk -v a="$BASE" -v b="$BASE2" 'BEGIN { for (k = 0; k < 10; k++)
		printf "%s/delay/200/%d\n%s/delay/200/%d\n", a, k, b, k }' >"$in"
	t=$(now)
	run --separate-stderr "$GATHER" -c 10 --per-host 2 -i "$in"
	took=$(since "$t")
	assert_success
	assert_equal "${#lines[@]}" 20
	assert_jq 'map(.index) == [range(20)] and all(.ok and .status == 200)'
	assert_jq --arg a "$BASE" --arg b "$BASE2" \
		'all(.[]; .url == (if .index % 2 == 0 then $a else $b end) +
		"/delay/200/\(.index / 2 | floor)")'
	assert_equal "$(max_inflight "$BASE")" 2
	assert_equal "$(max_inflight "$BASE2")" 2
	assert_equal "$(stat_field requests)" 10
	# Five rounds of 200 ms on each host.
	assert_took "$took" '>=' 0.9 "the run"
}

@test "--per-host: a host at its limit does not hold back another host" {
	reset_both
	in="$BATS_TEST_TMPDIR/in"
	{
		awk -v a="$BASE" 'BEGIN { for (k = 0; k < 6; k++)
			printf "%s/delay/500/%d\n", a, k }'
		awk -v b="$BASE2" 'BEGIN { for (k = 0; k < 10; k++)
			printf "%s/p/%d\n", b, k }'
	} >"$in"
	# Unordered: the ten fast records of the second host all come out
	# before the first slow one, although they come after all six.
	run --separate-stderr "$GATHER" -u -c 10 --per-host 2 -i "$in"
	assert_success
	assert_equal "${#lines[@]}" 16
	assert_jq 'map(.index) | (.[0:10] | sort) == [range(6; 16)] and
		(.[10:] | sort) == [range(6)]'
	assert_equal "$(max_inflight "$BASE")" 2
	# Ordered: the same input comes out in input order, and the fast
	# records still started at once (their queue time is not the 1 s
	# or more of the slow host's rounds).
	reset_both
	run --separate-stderr "$GATHER" -c 10 --per-host 2 -i "$in"
	assert_success
	assert_jq 'map(.index) == [range(16)] and all(.ok)'
	assert_jq 'all(.[6:][]; .time.queue < 0.4)'
	assert_jq '.[5].time.queue >= 0.9'
	assert_equal "$(max_inflight "$BASE")" 2
}

@test "--per-host 0 means no limit" {
	reset_stats
	run --separate-stderr "$GATHER" -c 10 --per-host 0 $(urls 10 /delay/400)
	assert_success
	assert_jq 'map(.index) == [range(10)] and all(.ok)'
	n=$(stat_field max_inflight)
	((n >= 6)) || fail "max_inflight $n with --per-host 0"
	# And a limit of 3 is 3.
	reset_stats
	run --separate-stderr "$GATHER" -c 10 --per-host 3 $(urls 6 /delay/200)
	assert_success
	assert_equal "$(stat_field max_inflight)" 3
}

@test "--per-host counts retries: a retry waits for its host's turn" {
	# The flaky record fails at once and is due again at once, but the
	# slow record took the host's one place meanwhile.
	reset_stats
	run --separate-stderr "$GATHER" -c 10 --per-host 1 --retries 2 \
		--retry-delay 0 "$BASE/flaky/ph/1" "$BASE/delay/300/ph"
	assert_success
	assert_jq 'map([.index, .status, .attempts]) == [[0, 200, 2], [1, 200, 1]]'
	assert_equal "$(stat_field max_inflight)" 1
	assert_equal "$(stat_field requests)" 3
}

@test "--per-host: host names differing only in case are one host" {
	reset_stats
	run --separate-stderr "$GATHER" -c 10 --per-host 1 \
		"http://localhost:$PORT/delay/300/1" \
		"http://LOCALHOST:$PORT/delay/300/2" \
		"http://LocalHost:$PORT/delay/300/3"
	assert_success
	assert_equal "$(stat_field max_inflight)" 1
}

@test "--per-host: a URL without a scheme counts for its own host" {
	# localhost and 127.0.0.1 are two host names, so two hosts; the
	# second line has no scheme (http:// is implied).
	reset_stats
	run --separate-stderr "$GATHER" -c 10 --per-host 1 \
		"http://localhost:$PORT/delay/400/1" "127.0.0.1:$PORT/delay/400/2"
	assert_success
	assert_jq 'map(.index) == [0, 1] and all(.ok)'
	assert_jq '.[1].time.queue < 0.3'
	assert_equal "$(stat_field max_inflight)" 2
}

# --- --window ---------------------------------------------------------------

# How many /ok requests the server saw while /delay/1000 was running.
fast_during_head() {
	arrivals | jq '(.[] | select(.[0] == "/delay/1000") | .[1]) as $t0 |
		[.[] | select(.[0] == "/ok" and .[1] < $t0 + 0.9)] | length'
}

@test "--window: a slow head pauses new starts once the window is full" {
	in="$BATS_TEST_TMPDIR/in"
	{ echo "$BASE/delay/1000"; urls 20 /ok; } >"$in"
	reset_stats
	run --separate-stderr "$GATHER" --window 4 -c 4 -i "$in"
	assert_success
	assert_equal "${#lines[@]}" 21
	assert_jq 'map(.index) == [range(21)] and all(.ok and .status == 200)'
	n=$(fast_during_head)
	((n >= 3 && n <= 4)) ||
		fail "$n fast requests started while the head ran (window 4)"
	assert_equal "$(hits /ok)" 20
	# A wide window lets them all through meanwhile: the check above can
	# tell the difference.
	reset_stats
	run --separate-stderr "$GATHER" --window 40 -c 4 -i "$in"
	assert_success
	assert_jq 'map(.index) == [range(21)] and all(.ok)'
	n=$(fast_during_head)
	((n == 20)) || fail "$n fast requests while the head ran (window 40)"
}

@test "--window below -c is a usage error" {
	reset_stats
	gather_usage_error --window 2 -c 4 "$BASE/ok"
	gather_usage_error --window 0 "$BASE/ok"
	assert_nothing_fetched
	run --separate-stderr "$GATHER" --window 4 -c 4 "$BASE/ok"
	assert_success
}

# --- memory -----------------------------------------------------------------

# Records of a long stream that fail at once without a server: nine in ten
# are invalid URLs, one in ten a refused connection (a real transfer).
stream() {
	awk -v n="$1" -v p="$(closed_port)" 'BEGIN { for (k = 0; k < n; k++)
		if (k % 10 == 3) printf "http://127.0.0.1:%d/%d\n", p, k
		else printf "http://in valid/%d\n", k }'
}

# Check a stream run's output: N records, in order, the right kinds.
check_stream() {
	awk -v n="$2" -F'[:,]' '
		$1 != "{\"index\"" || $2 != NR - 1 { bad++ }
		/"kind":"invalid_url"/ { inv++ }
		/"kind":"connect"/ { con++ }
		END {
			if (NR != n || bad || inv + con != n || con != n / 10) {
				printf "records %d, out of order %d, invalid_url %d, " \
				    "connect %d\n", NR, bad, inv, con
				exit 1
			}
		}' "$1"
}

@test "memory stays flat over a 200,000-record stream" {
	out="$BATS_TEST_TMPDIR/out"
	# Under ASan memory is not measured, and a quarter of the stream
	# (still far past the window) keeps the file within its time.
	long=200000 timer=()
	if [[ "$GATHER" == *asan* ]]; then
		long=50000
	elif [[ -x /usr/bin/time ]]; then
		timer=(/usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/rss")
	fi
	rc=0
	stream 2000 | "${timer[@]}" "$GATHER" -c 64 --body none >"$out" ||
		rc=$?
	((rc == 1)) || fail "2,000-record run exited $rc"
	check_stream "$out" 2000 || fail "2,000-record output is wrong"
	# (time writes "Command exited with non-zero status 1" first.)
	small=$( ((${#timer[@]})) && tail -n 1 "$BATS_TEST_TMPDIR/rss" || true)
	rc=0
	stream "$long" | "${timer[@]}" "$GATHER" -c 64 --body none >"$out" ||
		rc=$?
	((rc == 1)) || fail "$long-record run exited $rc"
	check_stream "$out" "$long" || fail "$long-record output is wrong"
	if ((${#timer[@]} == 0)); then
		skip "RSS not measured (ASan build or no /usr/bin/time)"
	fi
	big=$(tail -n 1 "$BATS_TEST_TMPDIR/rss")
	((big < 32 * 1024)) || fail "peak RSS $big KiB over 200,000 records"
	((big - small <= 4 * 1024)) ||
		fail "peak RSS $big KiB over 200,000 records, $small KiB over 2,000"
}
