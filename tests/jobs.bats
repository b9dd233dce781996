#!/usr/bin/env bats
# -j N: worker processes.  The output is what -j 1 writes (but for timings
# and connection fields), -c and --per-host hold across the workers, a
# signal writes every record read, and a worker that dies loses nothing.

bats_require_minimum_version 1.5.0
load helper

setup_file() { start_server; }
teardown_file() { stop_server; }
# The workers a test stopped with SIGSTOP are killed whatever it did.
teardown() {
	local w
	stop_bg
	for w in ${STOPPED_WORKERS:-}; do
		kill -KILL "$w" 2>/dev/null || true
	done
}

# Every field but timings and connections, one record a line.
stable() {
	jq -c 'del(.time, .remote_ip, .remote_port, .connection_reused) |
		if .error then .error.message |=
			gsub("after [0-9]+ (ms|milliseconds)"; "")
		else . end'
}

# --resolve options for hosts h0.test ... h5.test (or h0 ... h$(($1 - 1))),
# all this server.
resolve_args() {
	local k
	for ((k = 0; k < ${1:-6}; k++)); do
		printf -- '--resolve\nh%d.test:%d:127.0.0.1\n' "$k" "$PORT"
	done
}

# Each file under DIR, its SHA-256 and its name, sorted by name.
files_of() {
	(cd "$1" && find . -type f -printf '%P\n' | LC_ALL=C sort |
		while IFS= read -r f; do
			printf '%s %s\n' "$(sha256sum <"$f" | cut -c1-64)" "$f"
		done)
}

# The cookies of the jar FILE, one a line, sorted.
jar_cookies() {
	grep -v '^#' "$1" | grep . | LC_ALL=C sort
}

# The test cases of the JUnit report FILE, one a line, without timings,
# sorted (cases are added as records end); then the suite's counts.
junit_cases() {
	sed -E 's/ time="[^"]*"//; s/after [0-9]+ ms//' "$1" | awk '
		/<testcase/ { c = $0; if ($0 ~ /\/>$/) { print c; c = "" }; next }
		c != "" { c = c $0; if ($0 ~ /<\/testcase>/) { print c; c = "" } }' |
		LC_ALL=C sort
	grep -o 'tests="[0-9]*" failures="[0-9]*"' "$1"
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

# SIGSTOP the first N of the background run's two workers, $workers.
stop_workers() {
	mapfile -t workers < <(pgrep -P "$BG_PID")
	assert_equal "${#workers[@]}" 2
	STOPPED_WORKERS="${workers[*]:0:$1}"
	# shellcheck disable=SC2086
	kill -STOP $STOPPED_WORKERS
}

# Wait for the background run, which gives its stopped workers a few
# seconds before it kills them: exit status $1, no worker left behind;
# its output loaded.
wait_workers_killed() {
	local t0 w
	t0=$(now)
	wait_bg 60
	assert_equal "$BG_STATUS" "$1"
	assert_took "$(since "$t0")" '>=' 4 "the end"
	for w in "${workers[@]}"; do
		! kill -0 "$w" 2>/dev/null || fail "worker $w is still there"
	done
	load_bg_output
}

@test "-j 2: at the end, workers stopped with SIGSTOP are killed after a few seconds, nothing lost" {
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	start_bg --in "$BATS_TEST_TMPDIR/fifo" "$GATHER" -j 2
	exec 5>"$BATS_TEST_TMPDIR/fifo"
	echo "$BASE/p/end1" >&5
	wait_until 30 lines_at_least "$BATS_TEST_TMPDIR/out" 1 ||
		fail "no record written"
	stop_workers 2
	# The input ends: the run is over, and the workers do not answer.
	exec 5>&-
	wait_workers_killed 0
	assert_jq 'length == 1 and .[0].ok'
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

@test "-j: 0 is one worker per online CPU" {
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

# ---- -o, cookies, TAP and JUnit with -j --------------------------------------

# Run gather with -j J (and ARGS...) in DIR/$J: records in DIR/$J.out.
in_dir() {
	local dir=$1 j=$2
	shift 2
	mkdir -p "$dir/$j"
	(cd "$dir/$j" && "$GATHER" -j "$j" "$@" >out.jsonl 2>err) || true
}

# URLs FROM ... TO - 1 over h0.test ... h5.test: record k's host is h(k % 6),
# its path PATH with k put in for its %d.
spread() {
	awk -v a="$1" -v b="$2" -v path="$3" -v p="$PORT" 'BEGIN {
		for (k = a; k < b; k++)
			printf "http://h%d.test:%d" path "\n", k % 6, p, k }'
}

# The same, its records then kept as DIR/$J/first for the run after it.
first_in_dir() {
	in_dir "$@"
	mv "$1/$2/out.jsonl" "$1/$2/first"
}

# Assert that the -j 2 run wrote what the -j 1 run did: the records of
# each file named (but for timings), and the files under out.
assert_same_runs() {
	local f t=$BATS_TEST_TMPDIR
	for f in "$@"; do
		assert_equal "$(stable <"$t/2/$f")" "$(stable <"$t/1/$f")"
	done
	assert_equal "$(files_of "$t/2/out")" "$(files_of "$t/1/out")"
}

@test "-j 2 -o: the names, files and records of -j 1, names colliding across hosts too" {
	mapfile -t res < <(resolve_args 16)
	# Sixteen hosts, so that both workers have some: every {name} below is
	# shared by URLs of several hosts, which -j 1 tells apart by suffix in
	# input order (a 404 takes its name too, and leaves no file).
	awk -v p="$PORT" 'BEGIN { for (k = 0; k < 64; k++) {
		h = "http://h" (k % 16) ".test:" p
		m = k % 4
		if (m == 0) printf "%s/p/same?k=%d\n", h, k
		else if (m == 1) printf "%s/bytes/%d\n", h, 100 + k
		else if (m == 2) printf "%s/status/404/same?k=%d\n", h, k
		else printf "%s/file/3000?k=%d\n", h, k
	} }' >"$BATS_TEST_TMPDIR/in"
	for j in 1 2; do
		in_dir "$BATS_TEST_TMPDIR" "$j" -o out --name '{name}' --hash sha256 \
			"${res[@]}" -i "$BATS_TEST_TMPDIR/in"
		assert_equal "$(cat "$BATS_TEST_TMPDIR/$j/err")" ""
	done
	output=$(<"$BATS_TEST_TMPDIR/1/out.jsonl")
	assert_jq 'length == 64 and
		([.[] | select(.file != null) | .file] | length) == 48 and
		any(.file == "out/same.30") and any(.file == "out/3000.15")'
	assert_same_runs out.jsonl
	assert_equal "$(files_of "$BATS_TEST_TMPDIR/2/out" | wc -l)" 48
}

@test "-j 2 -o --continue: parts of an earlier run are continued as with -j 1" {
	mapfile -t res < <(resolve_args)
	# Each answer stops 5000 bytes in: the first run leaves parts (one
	# {name} for all), the second continues each URL's own with retries.
	spread 0 12 '/file/20000?cut=5000&ver=c%d' >"$BATS_TEST_TMPDIR/in"
	for j in 1 2; do
		first_in_dir "$BATS_TEST_TMPDIR" "$j" -o out --name '{name}' \
			"${res[@]}" -i "$BATS_TEST_TMPDIR/in"
		in_dir "$BATS_TEST_TMPDIR" "$j" -o out --name '{name}' --continue \
			--retries 5 --retry-delay 0.01 --hash sha256 \
			"${res[@]}" -i "$BATS_TEST_TMPDIR/in"
	done
	output=$(<"$BATS_TEST_TMPDIR/1/out.jsonl")
	assert_jq 'length == 12 and all(.ok and .size == 20000 and
		.attempts == 3 and (.file | startswith("out/20000")))'
	assert_same_runs first out.jsonl
	assert_equal "$(files_of "$BATS_TEST_TMPDIR/2/out" | wc -l)" 12
}

@test "-j 2 -o --revalidate: each URL's file is found and kept, as with -j 1" {
	mapfile -t res < <(resolve_args)
	# One {name} for all; the second run adds URLs that have no file yet
	# and come first, and has the rest in reverse order, so that only a
	# look for each URL's own file finds it.
	spread 0 12 '/cond/jsame?k=%d' >"$BATS_TEST_TMPDIR/in"
	{
		spread 12 18 '/cond/jsame?k=%d'
		tac "$BATS_TEST_TMPDIR/in"
	} >"$BATS_TEST_TMPDIR/in2"
	for j in 1 2; do
		first_in_dir "$BATS_TEST_TMPDIR" "$j" -o out --name '{name}' \
			"${res[@]}" -i "$BATS_TEST_TMPDIR/in"
		# A file gone: its URL is fetched plainly, under a name of its own.
		rm "$BATS_TEST_TMPDIR/$j/out/jsame.3"
		in_dir "$BATS_TEST_TMPDIR" "$j" -o out --name '{name}' \
			--revalidate first "${res[@]}" -i "$BATS_TEST_TMPDIR/in2"
	done
	output=$(<"$BATS_TEST_TMPDIR/1/out.jsonl")
	assert_jq 'length == 18 and
		(map(select(.not_modified)) | length) == 11 and
		all(.ok and (.file | startswith("out/jsame"))) and
		(map(.file) | unique | length) == 18'
	assert_same_runs first out.jsonl
}

# Whether DIR holds N files NAME.part of at least SIZE bytes.
parts_at_least() {
	local n
	n=$(find "$1" -name '*.part' -size +"$(($3 - 1))"c | wc -l)
	(( n == $2 ))
}

@test "-j 2 -o: SIGINT keeps the parts -j 1 keeps (those that can be continued)" {
	mapfile -t res < <(resolve_args)
	# Bodies that stall 10000 bytes in; /file can be continued, /stall not.
	{
		spread 0 3 '/file/50000?stall=10000&k=%d'
		spread 3 6 '/stall/50000?after=10000&s=25&k=%d'
	} >"$BATS_TEST_TMPDIR/in"
	for j in 1 2; do
		mkdir -p "$BATS_TEST_TMPDIR/$j"
		(cd "$BATS_TEST_TMPDIR/$j" && exec "$GATHER" -j "$j" -o out \
			"${res[@]}" -i "$BATS_TEST_TMPDIR/in" >out.jsonl 2>err) &
		pid=$!
		wait_until 20 parts_at_least "$BATS_TEST_TMPDIR/$j/out" 6 10000 ||
			fail "no parts: $(ls -l "$BATS_TEST_TMPDIR/$j/out")"
		kill -INT "$pid"
		wait "$pid" && rc=0 || rc=$?
		assert_equal "$rc" 130
	done
	# The records: the workers end their transfers as -j 1 does, each with
	# its file's name, status and partial size.
	assert_same_runs out.jsonl
	output=$(<"$BATS_TEST_TMPDIR/2/out.jsonl")
	assert_jq 'map(.index) == [range(6)] and
		all(.error.kind == "cancelled" and .status == 200 and
		    .size == 10000 and .attempts == 1) and
		map(.file) == [range(6) | "out/\(.)"]'
	assert_equal "$(cd "$BATS_TEST_TMPDIR/2/out" && ls | tr '\n' ' ')" \
		"0.part 1.part 2.part "
}

# Whether the server has at least N requests in flight.
inflight_at_least() {
	(( $(stat_field inflight) >= $1 ))
}

# Whether the server has no request in flight (an earlier run's are gone).
inflight_none() {
	(( $(stat_field inflight) == 0 ))
}

# Run -j $1 with the rest in DIR/$1 (-o out, the records in out.jsonl),
# wait until the six stalled bodies have their first 10000 bytes and all
# twelve requests are at the server, then send SIGNAL $2; the exit status
# in $rc.
signal_run() {
	local j=$1 sig=$2 dir=$BATS_TEST_TMPDIR/$2 pid
	shift 2
	mkdir -p "$dir/$j"
	wait_until 30 inflight_none || fail "requests of an earlier run in flight"
	(cd "$dir/$j" && exec "$GATHER" -j "$j" -o out "$@" >out.jsonl 2>err) &
	pid=$!
	wait_until 30 parts_at_least "$dir/$j/out" 6 10000 ||
		fail "no parts: $(ls -l "$dir/$j/out")"
	wait_until 30 inflight_at_least 12 || fail "not all requests started"
	kill -"$sig" "$pid"
	wait "$pid" && rc=0 || rc=$?
}

@test "-j 2: SIGINT and SIGTERM end each transfer as -j 1 does (status, size, attempts, kind, message)" {
	mapfile -t res < <(resolve_args)
	# Six bodies stalled 10000 bytes in, six answers that have not begun.
	{
		spread 0 6 '/stall/50000?after=10000&s=25&k=%d'
		spread 6 12 '/delay/20000?k=%d'
	} >"$BATS_TEST_TMPDIR/in"
	for sig in INT TERM; do
		want=130
		[[ $sig == TERM ]] && want=143
		for j in 1 2; do
			signal_run "$j" "$sig" -c 20 "${res[@]}" \
				-i "$BATS_TEST_TMPDIR/in"
			assert_equal "$rc" "$want"
		done
		assert_equal "$(stable <"$BATS_TEST_TMPDIR/$sig/2/out.jsonl")" \
			"$(stable <"$BATS_TEST_TMPDIR/$sig/1/out.jsonl")"
		output=$(<"$BATS_TEST_TMPDIR/$sig/2/out.jsonl")
		assert_jq --arg m "cancelled by SIG$sig" 'map(.index) == [range(12)] and
			all(.error == {kind: "cancelled", message: $m} and
			    .attempts == 1) and
			all(.[0:6][]; .status == 200 and .size == 10000) and
			all(.[6:12][]; .status == null and .size == 0)'
	done
}

@test "-j 2: --deadline ends each transfer as -j 1 does (status, size, attempts, kind, message)" {
	mapfile -t res < <(resolve_args)
	{
		spread 0 6 '/stall/50000?after=10000&s=25&k=%d'
		spread 6 9 '/delay/20000?k=%d'
		spread 9 12 '/p/deadline%d'
	} >"$BATS_TEST_TMPDIR/in"
	for j in 1 2; do
		run --separate-stderr "$GATHER" -j "$j" -c 20 --deadline 3 \
			"${res[@]}" -i "$BATS_TEST_TMPDIR/in"
		assert_failure 1
		printf '%s\n' "$output" | stable >"$BATS_TEST_TMPDIR/$j"
	done
	assert_equal "$(<"$BATS_TEST_TMPDIR/2")" "$(<"$BATS_TEST_TMPDIR/1")"
	assert_jq 'map(.index) == [range(12)] and
		all(.[0:9][]; .error == {kind: "deadline",
		    message: "the --deadline of the run passed"} and
		    .attempts == 1) and
		all(.[0:6][]; .status == 200 and .size == 10000) and
		all(.[9:12][]; .ok)'
}

@test "-j 2: --fail-fast ends each transfer as -j 1 does (status, size, attempts, kind, message)" {
	mapfile -t res < <(resolve_args)
	{
		spread 0 6 '/stall/50000?after=10000&s=25&k=%d'
		# The failure comes once the bodies above have their bytes.
		printf '{"url": "http://h0.test:%d/hang", "timeout": 3}\n' "$PORT"
	} >"$BATS_TEST_TMPDIR/in"
	for j in 1 2; do
		run --separate-stderr "$GATHER" -j "$j" -c 20 --fail-fast \
			"${res[@]}" -i "$BATS_TEST_TMPDIR/in"
		assert_failure 1
		printf '%s\n' "$output" | stable >"$BATS_TEST_TMPDIR/$j"
	done
	assert_equal "$(<"$BATS_TEST_TMPDIR/2")" "$(<"$BATS_TEST_TMPDIR/1")"
	assert_jq 'map(.index) == [range(7)] and .[6].error.kind == "timeout" and
		all(.[0:6][]; .error == {kind: "cancelled",
		    message: "cancelled by --fail-fast after an earlier failure"} and
		    .status == 200 and .size == 10000 and .attempts == 1)'
}

@test "-j 2: a worker stopped with SIGSTOP is killed soon after SIGINT, its records other, exit 130" {
	mapfile -t res < <(resolve_args)
	spread 0 12 '/delay/20000?k=%d' >"$BATS_TEST_TMPDIR/in"
	wait_until 30 inflight_none || fail "requests of an earlier run in flight"
	start_bg "$GATHER" -j 2 -c 20 "${res[@]}" -i "$BATS_TEST_TMPDIR/in"
	wait_until 30 inflight_at_least 12 || fail "not all requests started"
	stop_workers 1
	kill -INT "$BG_PID"
	wait_workers_killed 130
	assert_jq --arg w "${workers[0]}" 'map(.index) == [range(12)] and
		any(.error.kind == "cancelled") and any(.error.kind == "other") and
		all(.error == {kind: "cancelled", message: "cancelled by SIGINT"} or
		    (.error.kind == "other" and .attempts == 0 and
		     (.error.message | test("^-j: worker [12] \\(pid " + $w +
		     "\\) died: killed, as it did not stop within 5 s$"))))'
	grep -q "^gather: -j: worker [12] (pid ${workers[0]}) died: killed" \
		"$BATS_TEST_TMPDIR/err" || fail "$(cat "$BATS_TEST_TMPDIR/err")"
}

# A cookie file with cookie c for each of h0.test ... h5.test.
cookie_file() {
	local k
	for k in 0 1 2 3 4 5; do
		printf 'h%d.test\tFALSE\t/\tFALSE\t0\tc\tv%d\n' "$k" "$k"
	done
}

@test "-j 2 -b FILE: each worker sends the cookies of its hosts, as -j 1 does" {
	mapfile -t res < <(resolve_args)
	cookie_file >"$BATS_TEST_TMPDIR/cookies"
	# Per host, one after the other: the file's cookie, then the two
	# /headers sets, then both.
	awk -v p="$PORT" 'BEGIN { for (k = 0; k < 6; k++) {
		h = "http://h" k ".test:" p
		printf "%s/echo?k=0\n%s/headers\n%s/echo?k=1\n", h, h, h
	} }' >"$BATS_TEST_TMPDIR/in"
	one=$("$GATHER" --per-host 1 -b "$BATS_TEST_TMPDIR/cookies" "${res[@]}" \
		-i "$BATS_TEST_TMPDIR/in" | stable)
	run --separate-stderr "$GATHER" -j 2 --per-host 1 \
		-b "$BATS_TEST_TMPDIR/cookies" "${res[@]}" -i "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(printf '%s\n' "$output" | stable)" "$one"
	assert_jq 'map(select(.url | test("echo")) | .body | fromjson |
		.headers.cookie | split("; ") | sort) ==
		[range(6) as $k | (["c=v\($k)"], ["a=1", "b=2", "c=v\($k)"])]'
}

@test "-j 2 --cookie-jar: the jar holds every worker's cookies, as -j 1's does" {
	mapfile -t res < <(resolve_args)
	cookie_file >"$BATS_TEST_TMPDIR/cookies"
	# Every host sets a and b; h1 changes c, h2 deletes it, h3 adds d.
	awk -v p="$PORT" 'BEGIN { for (k = 0; k < 6; k++) {
		h = "http://h" k ".test:" p
		printf "%s/headers\n", h
		if (k == 1) printf "%s/set-cookie?c=c%%3Dnew\n", h
		if (k == 2) printf "%s/set-cookie?c=c%%3Dx%%3B%%20Max-Age%%3D0\n", h
		if (k == 3) printf "%s/set-cookie?c=d%%3D4\n", h
	} }' >"$BATS_TEST_TMPDIR/in"
	for j in 1 2; do
		run --separate-stderr "$GATHER" -j "$j" --per-host 1 \
			-b "$BATS_TEST_TMPDIR/cookies" \
			--cookie-jar "$BATS_TEST_TMPDIR/jar$j" "${res[@]}" \
			-i "$BATS_TEST_TMPDIR/in"
		assert_success
		assert_equal "$stderr" ""
	done
	jar_cookies "$BATS_TEST_TMPDIR/jar1" >"$BATS_TEST_TMPDIR/c1"
	jar_cookies "$BATS_TEST_TMPDIR/jar2" >"$BATS_TEST_TMPDIR/c2"
	cmp "$BATS_TEST_TMPDIR/c1" "$BATS_TEST_TMPDIR/c2" ||
		fail "$(diff "$BATS_TEST_TMPDIR/c1" "$BATS_TEST_TMPDIR/c2")"
	# In libcurl's order too: the one store is made as -j 1's was.
	cmp "$BATS_TEST_TMPDIR/jar1" "$BATS_TEST_TMPDIR/jar2"
	# 6 a, 6 b, c but on h2, and d on h3.
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/c2")" 18
	grep -qP '^h1\.test\t.*\tc\tnew$' "$BATS_TEST_TMPDIR/c2"
	! grep -qP '^h2\.test\t.*\tc\t' "$BATS_TEST_TMPDIR/c2"
	grep -qP '^h3\.test\t.*\td\t4$' "$BATS_TEST_TMPDIR/c2"
	grep -qP '^h5\.test\t.*\tc\tv5$' "$BATS_TEST_TMPDIR/c2"
}

@test "-j 2 --cookie-jar: the jar is written when --deadline ends the run" {
	mapfile -t res < <(resolve_args)
	awk -v p="$PORT" 'BEGIN { for (k = 0; k < 6; k++)
		printf "http://h%d.test:%d/headers\nhttp://h%d.test:%d/delay/20000\n",
		    k, p, k, p }' >"$BATS_TEST_TMPDIR/in"
	t0=$(now)
	run --separate-stderr "$GATHER" -j 2 --per-host 1 --deadline 2 \
		--cookie-jar "$BATS_TEST_TMPDIR/jar" "${res[@]}" \
		-i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_took "$(since "$t0")" '<' 15 "the run"
	assert_jq 'map(.index) == [range(12)] and
		all(if .index % 2 == 0 then .ok else .error.kind == "deadline" end)'
	assert_equal "$(jar_cookies "$BATS_TEST_TMPDIR/jar" | wc -l)" 12
}

@test "-j 2 --cookie-jar: a worker that dies is said, the jar holds the rest" {
	# Sixteen hosts, so that both workers have some.
	mapfile -t res < <(resolve_args 16)
	awk -v p="$PORT" 'BEGIN { for (k = 0; k < 16; k++)
		printf "http://h%d.test:%d/headers\nhttp://h%d.test:%d/delay/20000\n",
		    k, p, k, p }' >"$BATS_TEST_TMPDIR/in"
	reset_stats
	"$GATHER" -j 2 --per-host 1 --cookie-jar "$BATS_TEST_TMPDIR/jar" \
		"${res[@]}" -i "$BATS_TEST_TMPDIR/in" \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	wait_until 10 inflight_at_least 16 || true
	mapfile -t workers < <(pgrep -P "$pid")
	assert_equal "${#workers[@]}" 2
	kill -KILL "${workers[0]}"
	kill -INT "$pid"
	wait "$pid" && rc=0 || rc=$?
	assert_equal "$rc" 130
	output=$(<"$BATS_TEST_TMPDIR/out")
	assert_jq 'map(.index) == [range(32)]'
	grep -q "^gather: --cookie-jar $BATS_TEST_TMPDIR/jar: the cookies of a worker that died are not in it\$" \
		"$BATS_TEST_TMPDIR/err" || fail "$(cat "$BATS_TEST_TMPDIR/err")"
	# The living worker's hosts' a and b are there, the dead one's not.
	n=$(jar_cookies "$BATS_TEST_TMPDIR/jar" | wc -l)
	(( n > 0 && n < 32 && n % 2 == 0 )) || fail "$n cookies in the jar"
	run pgrep -P "$pid"
	assert_failure
}

@test "-j 2 --format tap writes the TAP of -j 1" {
	mixed 100 >"$BATS_TEST_TMPDIR/in"
	mapfile -t res < <(resolve_args)
	one=$("$GATHER" --format tap "${res[@]}" -i "$BATS_TEST_TMPDIR/in" |
		sed -E 's/after [0-9]+ ms//')
	run --separate-stderr "$GATHER" -j 2 --format tap "${res[@]}" \
		-i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$stderr" ""
	assert_equal "$(sed -E 's/after [0-9]+ ms//' <<<"$output")" "$one"
	assert_equal "${lines[0]}" "TAP version 13"
	assert_equal "${lines[-1]}" "1..100"
	# Failures of both processes' making, with their YAML blocks.
	grep -q '^  kind: "connect"$' <<<"$output"
	grep -q '^  kind: "bad_input"$' <<<"$output"
	grep -q '^  message: "Failed to connect to 127.0.0.1 port' <<<"$output"
}

@test "-j 2 --junit writes the report of -j 1, with JSON or TAP on stdout" {
	mixed 100 >"$BATS_TEST_TMPDIR/in"
	mapfile -t res < <(resolve_args)
	"$GATHER" --junit "$BATS_TEST_TMPDIR/one.xml" "${res[@]}" \
		-i "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/one.jsonl" || true
	junit_cases "$BATS_TEST_TMPDIR/one.xml" >"$BATS_TEST_TMPDIR/one"
	grep -q 'tests="100" failures="[1-9]' "$BATS_TEST_TMPDIR/one"
	run --separate-stderr "$GATHER" -j 2 --junit "$BATS_TEST_TMPDIR/two.xml" \
		"${res[@]}" -i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$stderr" ""
	assert_equal "$(printf '%s\n' "$output" | stable)" \
		"$(stable <"$BATS_TEST_TMPDIR/one.jsonl")"
	junit_cases "$BATS_TEST_TMPDIR/two.xml" >"$BATS_TEST_TMPDIR/two"
	cmp "$BATS_TEST_TMPDIR/one" "$BATS_TEST_TMPDIR/two" ||
		fail "$(diff "$BATS_TEST_TMPDIR/one" "$BATS_TEST_TMPDIR/two")"
	# With TAP on stdout too.
	run --separate-stderr "$GATHER" -j 3 --format tap \
		--junit "$BATS_TEST_TMPDIR/three.xml" "${res[@]}" \
		-i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "${lines[-1]}" "1..100"
	junit_cases "$BATS_TEST_TMPDIR/three.xml" >"$BATS_TEST_TMPDIR/three"
	cmp "$BATS_TEST_TMPDIR/one" "$BATS_TEST_TMPDIR/three" ||
		fail "$(diff "$BATS_TEST_TMPDIR/one" "$BATS_TEST_TMPDIR/three")"
}

# A worker sends its lines in batches, but never holds a finished record
# for a slower one (order.bats's test, through the workers).
@test "-j 2: a finished record is written before a slower one behind it" {
	local t0 t1 r0 r1
	timestamped "$GATHER" -j 2 "$BASE/ok" "$BASE/delay/3000" \
		>"$BATS_TEST_TMPDIR/out"
	run cat "$BATS_TEST_TMPDIR/out"
	assert_equal "${#lines[@]}" 2
	read -r t0 r0 <<<"${lines[0]}"
	read -r t1 r1 <<<"${lines[1]}"
	assert_equal "$(jq -r '"\(.index) \(.status)"' <<<"$r0")" "0 200"
	assert_equal "$(jq -r '"\(.index) \(.status)"' <<<"$r1")" "1 200"
	fcmp "$t1" '>=' 2.9 || fail "second record came at $t1 s"
	fcmp "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" '>=' 1.45 ||
		fail "first record at $t0 s was held for the second at $t1 s"
}
