#!/usr/bin/env bats
# -j N: worker processes.  The output is what -j 1 writes (but for timings
# and connection fields), -c and --per-host hold across the workers, a
# signal writes every record read, and a worker that dies loses nothing.

bats_require_minimum_version 1.5.0
load helper

setup_file() { start_server; }
teardown_file() { stop_server; }
teardown() { stop_bg; }

# Every field but timings and connections, one record a line.
stable() {
	jq -c 'del(.time, .remote_ip, .remote_port, .connection_reused) |
		if .error then .error.message |= gsub("after [0-9]+ ms"; "")
		else . end'
}

# --resolve options for hosts h0.test ... h5.test, all this server.
resolve_args() {
	local k
	for k in 0 1 2 3 4 5; do
		printf -- '--resolve\nh%d.test:%d:127.0.0.1\n' "$k" "$PORT"
	done
}

# A mixed list of $1 records over six hosts: bodies, statuses, bad lines,
# a connect failure, a request object with an id.
mixed() {
	awk -v n="$1" -v p="$PORT" -v cp="$(closed_port)" 'BEGIN {
		for (k = 0; k < n; k++) {
			h = "http://h" (k % 6) ".test:" p
			m = k % 7
			if (m == 0) printf "%s/p/j%d\n", h, k
			else if (m == 1) printf "%s/status/404/%d\n", h, k
			else if (m == 2) printf "{\"url\": \"%s/size/%d\", \"id\": %d}\n", h, k, k
			else if (m == 3 && k % 21 == 3) printf "{\"no_url\": %d}\n", k
			else if (m == 4 && k % 28 == 4) printf "http://127.0.0.1:%d/%d\n", cp, k
			else if (m == 5) printf "%s/delay/%d\n", h, k % 30
			else printf "%s/gzip/%d\n", h, k
		}
	}'
}

@test "-j 2 and -j 3 write what -j 1 writes, in order" {
	mixed 300 >"$BATS_TEST_TMPDIR/in"
	mapfile -t res < <(resolve_args)
	run --separate-stderr "$GATHER" -j 1 "${res[@]}" -i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "${#lines[@]}" 300
	one=$(printf '%s\n' "$output" | stable)
	# The list has every kind of record it is meant to.
	assert_jq 'map(.index) == [range(300)] and
		any(.error.kind == "bad_input") and any(.error.kind == "connect") and
		any(.id != null) and any(.status == 404)'
	for j in 2 3; do
		run --separate-stderr "$GATHER" -j "$j" "${res[@]}" \
			-i "$BATS_TEST_TMPDIR/in"
		assert_failure 1
		assert_equal "$stderr" ""
		assert_equal "$(printf '%s\n' "$output" | stable)" "$one"
	done
	# --format json too.
	run --separate-stderr "$GATHER" -j 2 --format json "${res[@]}" \
		-i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$(printf '%s\n' "$output" | jq -c '.[]' | stable)" "$one"
}

@test "-j 2 and -j 3 with -u write the same records as -j 1 -u" {
	mixed 200 >"$BATS_TEST_TMPDIR/in"
	mapfile -t res < <(resolve_args)
	one=$("$GATHER" -u "${res[@]}" -i "$BATS_TEST_TMPDIR/in" | stable | sort)
	for j in 2 3; do
		run --separate-stderr "$GATHER" -u -j "$j" "${res[@]}" \
			-i "$BATS_TEST_TMPDIR/in"
		assert_failure 1
		assert_equal "${#lines[@]}" 200
		assert_equal "$(printf '%s\n' "$output" | stable | sort)" "$one"
	done
}

@test "-j 3: -c is a total across the workers" {
	mapfile -t res < <(resolve_args)
	awk -v p="$PORT" 'BEGIN { for (k = 0; k < 30; k++)
		printf "http://h%d.test:%d/delay/150?k=%d\n", k % 6, p, k }' \
		>"$BATS_TEST_TMPDIR/in"
	reset_stats
	run --separate-stderr "$GATHER" -j 3 -c 4 "${res[@]}" \
		-i "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "${#lines[@]}" 30
	max=$(stat_field max_inflight)
	(( max <= 4 )) || fail "max in flight $max > -c 4"
	(( max >= 2 )) || fail "max in flight $max: nothing ran at once"
}

@test "-j 3: --per-host 2 holds across the workers" {
	awk -v b="$BASE" 'BEGIN { for (k = 0; k < 12; k++)
		printf "%s/delay/150?k=%d\n", b, k }' >"$BATS_TEST_TMPDIR/in"
	reset_stats
	run --separate-stderr "$GATHER" -j 3 -c 10 --per-host 2 \
		-i "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "${#lines[@]}" 12
	max=$(stat_field max_inflight)
	(( max == 2 )) || fail "max in flight $max, --per-host 2"
}

@test "-j 2: SIGINT exits 130 with every record read written" {
	mapfile -t res < <(resolve_args)
	awk -v p="$PORT" 'BEGIN { for (k = 0; k < 12; k++)
		printf "http://h%d.test:%d/delay/20000?k=%d\n", k % 6, p, k }' \
		>"$BATS_TEST_TMPDIR/in"
	reset_stats
	"$GATHER" -j 2 -c 20 "${res[@]}" -i "$BATS_TEST_TMPDIR/in" \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	for ((i = 0; i < 100; i++)); do
		(( $(stat_field inflight) >= 12 )) && break
		sleep 0.1
	done
	kill -INT "$pid"
	t0=$(now)
	wait "$pid" && rc=0 || rc=$?
	assert_equal "$rc" 130
	assert_took "$(since "$t0")" '<' 10 "the end after SIGINT"
	output=$(<"$BATS_TEST_TMPDIR/out")
	assert_jq 'map(.index) == [range(12)] and
		all(.error.kind == "cancelled")'
	# No worker is left behind.
	run pgrep -P "$pid"
	assert_failure
}

@test "-j 2: a worker killed with SIGKILL: its records end as other, exit 1" {
	mapfile -t res < <(resolve_args)
	awk -v p="$PORT" 'BEGIN { for (k = 0; k < 12; k++)
		printf "http://h%d.test:%d/delay/3000?k=%d\n", k % 6, p, k }' \
		>"$BATS_TEST_TMPDIR/in"
	reset_stats
	"$GATHER" -j 2 -c 20 "${res[@]}" -i "$BATS_TEST_TMPDIR/in" \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	for ((i = 0; i < 100; i++)); do
		(( $(stat_field inflight) >= 12 )) && break
		sleep 0.1
	done
	mapfile -t workers < <(pgrep -P "$pid")
	assert_equal "${#workers[@]}" 2
	kill -KILL "${workers[0]}"
	t0=$(now)
	wait "$pid" && rc=0 || rc=$?
	assert_equal "$rc" 1
	assert_took "$(since "$t0")" '<' 20 "the run after the kill"
	output=$(<"$BATS_TEST_TMPDIR/out")
	assert_jq --arg w "${workers[0]}" 'map(.index) == [range(12)] and
		any(.ok) and any(.ok | not) and
		all(.ok or (.error.kind == "other" and
		    (.error.message | test("worker [12] \\(pid " + $w +
		    "\\) died: killed by signal 9"))))'
	grep -q "^gather: -j: worker [12] (pid ${workers[0]}) died: killed by signal 9\$" \
		"$BATS_TEST_TMPDIR/err" || fail "$(cat "$BATS_TEST_TMPDIR/err")"
}

@test "-j 2: --stats counts what -j 1 counts" {
	mixed 100 >"$BATS_TEST_TMPDIR/in"
	mapfile -t res < <(resolve_args)
	counts='{records, ok, failed, errors, status, bytes}'
	"$GATHER" --stats=json "${res[@]}" -i "$BATS_TEST_TMPDIR/in" \
		>/dev/null 2>"$BATS_TEST_TMPDIR/one" || true
	run --separate-stderr "$GATHER" -j 2 --stats=json "${res[@]}" \
		-i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$(jq -c "$counts" <<<"$stderr")" \
		"$(jq -c "$counts" "$BATS_TEST_TMPDIR/one")"
	assert_equal "$(jq .records <<<"$stderr")" 100
}

@test "-j 2: --deadline ends what is unfinished as deadline, as -j 1 does" {
	mapfile -t res < <(resolve_args)
	awk -v p="$PORT" 'BEGIN { for (k = 0; k < 12; k++)
		printf "http://h%d.test:%d/delay/%d\n", k % 6, p, k % 2 * 20000 }' \
		>"$BATS_TEST_TMPDIR/in"
	t0=$(now)
	run --separate-stderr "$GATHER" -j 2 --deadline 1.5 "${res[@]}" \
		-i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_took "$(since "$t0")" '<' 10 "the run"
	assert_jq 'map(.index) == [range(12)] and
		all(if .index % 2 == 0 then .ok else .error.kind == "deadline" end)'
}

@test "-j 2: --fail-fast cancels the rest after the first failure" {
	mapfile -t res < <(resolve_args)
	{
		awk -v p="$PORT" 'BEGIN { for (k = 0; k < 6; k++)
			printf "http://h%d.test:%d/delay/20000\n", k, p }'
		echo "http://127.0.0.1:$(closed_port)/refused"
	} >"$BATS_TEST_TMPDIR/in"
	t0=$(now)
	run --separate-stderr "$GATHER" -j 2 --fail-fast "${res[@]}" \
		-i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_took "$(since "$t0")" '<' 10 "the run"
	assert_jq 'map(.index) == [range(7)] and
		(.[6].error.kind == "connect") and
		all(.[0:6][]; .error.kind == "cancelled")'
}

@test "-j 2: a reader that leaves ends the run with 141, no worker left" {
	marker="m$RANDOM$RANDOM"
	urls 3000 "/p/$marker" >"$BATS_TEST_TMPDIR/in"
	run bash -c '"$GATHER" -j 2 -i "$1" | head -c 100 >/dev/null
		echo "${PIPESTATUS[0]}"' sh "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_output 141
	run pgrep -f "$BATS_TEST_TMPDIR/in"
	assert_failure
}

@test "-j 2: --resume and --shard filter in the first process, as with -j 1" {
	mixed 60 >"$BATS_TEST_TMPDIR/in"
	mapfile -t res < <(resolve_args)
	"$GATHER" --shard 1/2 "${res[@]}" -i "$BATS_TEST_TMPDIR/in" \
		>"$BATS_TEST_TMPDIR/run1" || true
	one=$("$GATHER" --shard 1/2 --resume "$BATS_TEST_TMPDIR/run1" \
		"${res[@]}" -i "$BATS_TEST_TMPDIR/in" | stable)
	run --separate-stderr "$GATHER" -j 2 --shard 1/2 \
		--resume "$BATS_TEST_TMPDIR/run1" "${res[@]}" \
		-i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$(printf '%s\n' "$output" | stable)" "$one"
	# Only the failures of shard 1 ran again.
	assert_jq 'length > 0 and all(.index % 2 == 1) and all(.ok | not)'
}

@test "-j: usage" {
	run --separate-stderr "$GATHER" -j 2 -o "$BATS_TEST_TMPDIR/d" "$BASE/ok"
	assert_failure 2
	assert_equal "$stderr" "gather: -j does not work with -o, -b FILE, --cookie-jar, --format tap or --junit yet"
	run --separate-stderr "$GATHER" -j 2 --format tap "$BASE/ok"
	assert_failure 2
	assert_output ""
	run --separate-stderr "$GATHER" -j 2 --junit "$BATS_TEST_TMPDIR/r.xml" "$BASE/ok"
	assert_failure 2
	assert [ ! -e "$BATS_TEST_TMPDIR/r.xml" ]
	# 0: one worker per online CPU.
	run --separate-stderr "$GATHER" -j 0 "$BASE/ok" "$BASE/p/x"
	assert_success
	assert_jq 'map(.index) == [0, 1] and all(.ok)'
}

@test "-j: --expect is evaluated in the workers as without -j" {
	run --separate-stderr "$GATHER" -j 2 --expect '.status == 200' \
		"$BASE/ok" "$BASE/status/404" "$BASE/p/x"
	assert_failure 1
	assert_jq 'map(.ok) == [true, false, true]'
	assert_jq '.[1].error.kind == "expectation"'
}
