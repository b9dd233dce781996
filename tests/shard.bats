#!/usr/bin/env bats
# Splitting a run with --shard K/N and continuing one with --resume FILE,
# including after a kill -9 in the middle of a run, and --resume reading a
# file that is bounded, strict and linear whatever it holds.

bats_require_minimum_version 1.5.0
load helper

setup_file() { start_server; }
teardown_file() { stop_server; }
teardown() { stop_bg; }

# Write a 30-record input to $1: URL lines (each its own path), blank and
# comment lines (no index), request objects, bad lines, failures.  Record
# k is of kind k % 7, so that every shard of 3 gets every kind.
mixed_input() {
	awk -v b="$BASE" -v cp="$(closed_port)" 'BEGIN {
		print "# a list of thirty records"
		for (k = 0; k < 30; k++) {
			if (k % 4 == 1) print ""
			if (k % 5 == 2) print "   # comment " k
			m = k % 7
			if (m == 0) printf "%s/p/%d\n", b, k
			else if (m == 1) printf "  %s/status/404/%d  \n", b, k
			else if (m == 2) printf "{\"url\": \"%s/p/%d\", \"id\": %d}\n", b, k, k
			else if (m == 3) printf "{\"no_url\": %d}\n", k
			else if (m == 4) printf "http://127.0.0.1:%d/%d\n", cp, k
			else if (m == 5) printf "%s/size/%d\n", b, k
			else printf "%s/p/%d?q=%d\n", b, k, k
		}
		print "# end"
	}' >"$1"
}

# index, url, id, status and ok of every record of the jsonl in $@, by index.
summary() {
	cat "$@" | jq -s -c 'sort_by(.index) | map([.index, .url, .id, .status, .ok])'
}

# --- --shard ----------------------------------------------------------------

@test "--shard: three shards merged are the whole run" {
	in="$BATS_TEST_TMPDIR/in"
	mixed_input "$in"
	reset_stats
	run --separate-stderr "$GATHER" -i "$in"
	assert_failure 1
	assert_equal "${#lines[@]}" 30
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/whole"
	whole_requests=$(stat_field requests)
	# Sanity of the input: every kind is there.
	assert_jq 'map(.index) == [range(30)] and
		([.[] | select(.error.kind == "bad_input")] | length) == 4 and
		([.[] | select(.error.kind == "connect")] | length) == 4 and
		([.[] | select(.id != null)] | length) == 4 and
		([.[] | select(.status == 404)] | length) == 5'

	reset_stats
	for k in 0 1 2; do
		run --separate-stderr "$GATHER" --shard "$k/3" -i "$in"
		assert_failure 1
		assert_equal "${#lines[@]}" 10
		# Indexes stay those of the whole list.
		assert_jq --argjson k "$k" \
			'map(.index) == [range($k; 30; 3)]'
		printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/shard$k"
	done
	assert_equal "$(summary "$BATS_TEST_TMPDIR"/shard{0,1,2})" \
		"$(summary "$BATS_TEST_TMPDIR/whole")"
	# Each record was fetched by one shard only.
	assert_equal "$(stat_field requests)" "$whole_requests"
	assert_equal "$(hits /size/12)" 1
	assert_equal "$(hits /p/14)" 1
	assert_equal "$(hits /p/27)" 1
}

@test "--shard works with URL arguments, -i FILE and stdin" {
	in="$BATS_TEST_TMPDIR/in"
	printf '%s\n' "$BASE/p/f0" "" "# x" "$BASE/p/f1" "$BASE/p/f2" \
		"$BASE/p/f3" >"$in"
	# URL arguments alone.
	run --separate-stderr "$GATHER" --shard 1/3 \
		"$BASE/p/a0" "$BASE/p/a1" "$BASE/p/a2" "$BASE/p/a3" "$BASE/p/a4"
	assert_success
	assert_jq --arg b "$BASE" 'map([.index, .url]) ==
		[[1, "\($b)/p/a1"], [4, "\($b)/p/a4"]]'
	# -i FILE, and stdin, number the same way.
	run --separate-stderr "$GATHER" --shard 0/2 -i "$in"
	assert_success
	assert_jq --arg b "$BASE" 'map([.index, .url]) ==
		[[0, "\($b)/p/f0"], [2, "\($b)/p/f2"]]'
	run --separate-stderr "$GATHER" --shard 0/2 <"$in"
	assert_success
	assert_jq --arg b "$BASE" 'map([.index, .url]) ==
		[[0, "\($b)/p/f0"], [2, "\($b)/p/f2"]]'
	run --separate-stderr "$GATHER" --shard 1/2 -i - <"$in"
	assert_success
	assert_jq --arg b "$BASE" 'map([.index, .url]) ==
		[[1, "\($b)/p/f1"], [3, "\($b)/p/f3"]]'
	# URL arguments then the file: one numbering across both.
	run --separate-stderr "$GATHER" --shard 1/3 -i "$in" \
		"$BASE/p/a0" "$BASE/p/a1"
	assert_success
	assert_jq --arg b "$BASE" 'map([.index, .url]) ==
		[[1, "\($b)/p/a1"], [4, "\($b)/p/f2"]]'
	# --shard 0/1 is everything.
	run --separate-stderr "$GATHER" --shard 0/1 -i "$in"
	assert_success
	assert_jq 'map(.index) == [0, 1, 2, 3]'
}

@test "bad --shard values are usage errors" {
	reset_stats
	for v in 3/3 -1/3 1/0 x 1 1/ /3 0/3x 4/3 ''; do
		gather_usage_error --shard "$v" "$BASE/ok"
	done
	assert_nothing_fetched
}

# --- --resume ---------------------------------------------------------------

# A list of 8 where 0, 2, 5, 7 succeed, 1 and 4 answer 500 (a failure with
# --fail), 3 is a refused connection and 6 a request object.
resume_input() {
	local cp
	cp=$(closed_port)
	printf '%s\n' "$BASE/p/r0" "$BASE/status/500/r1" "# skip" \
		"$BASE/p/r2" "http://127.0.0.1:$cp/r3" "" "$BASE/status/500/r4" \
		"$BASE/p/r5" "{\"url\": \"$BASE/p/r6\", \"id\": \"six\"}" \
		"$BASE/p/r7" >"$1"
}

# Run IN once into first.jsonl, all ok, then --resume from it: nothing is
# left to do, so nothing is written or fetched.
resume_nothing_left() {
	"$GATHER" -i "$1" >"$BATS_TEST_TMPDIR/first.jsonl"
	reset_stats
	run --separate-stderr "$GATHER" --resume "$BATS_TEST_TMPDIR/first.jsonl" \
		-i "$1"
	assert_success
	assert_output ""
	assert_no_stderr
	assert_nothing_fetched
}

@test "--resume runs only what failed and the merge covers every index once" {
	in="$BATS_TEST_TMPDIR/in"
	first="$BATS_TEST_TMPDIR/first.jsonl"
	second="$BATS_TEST_TMPDIR/second.jsonl"
	resume_input "$in"
	"$GATHER" --fail -i "$in" >"$first" || [[ $? -eq 1 ]]
	run jq -s -c 'map(.ok)' "$first"
	assert_output '[true,false,true,false,false,true,true,true]'

	reset_stats
	run --separate-stderr "$GATHER" --fail --resume "$first" -i "$in"
	assert_failure 1
	printf '%s\n' "$output" >"$second"
	assert_jq 'map(.index) == [1, 3, 4]'
	assert_jq 'map(.error.kind) == ["http", "connect", "http"]'
	for p in /p/r0 /p/r2 /p/r5 /p/r6 /p/r7; do
		assert_equal "$(hits "$p")" 0
	done
	assert_equal "$(hits /status/500/r1)" 1
	assert_equal "$(hits /status/500/r4)" 1
	assert_equal "$(stat_field requests)" 2

	run jq -s -c 'group_by(.index) | map(last) |
		[map(.index) == [range(8)], map(.ok)]' "$first" "$second"
	assert_output '[true,[true,false,true,false,false,true,true,true]]'

	# Without --fail the 500s are ok now; the file of both runs is
	# accepted, and a third run has only the refused connection to do.
	run --separate-stderr "$GATHER" --resume "$first" -i "$in"
	assert_failure 1
	assert_jq 'map([.index, .ok, .status]) ==
		[[1, true, 500], [3, false, null], [4, true, 500]]'
	printf '%s\n' "$output" >>"$second"
	cat "$first" "$second" >"$BATS_TEST_TMPDIR/both.jsonl"
	reset_stats
	run --separate-stderr "$GATHER" --resume "$BATS_TEST_TMPDIR/both.jsonl" \
		-i "$in"
	assert_failure 1
	assert_jq 'map(.index) == [3]'
	assert_equal "$(stat_field requests)" 0
}

@test "--resume with nothing left to do writes nothing and exits 0" {
	in="$BATS_TEST_TMPDIR/in"
	printf '%s\n' "$BASE/p/n0" "$BASE/p/n1" >"$in"
	resume_nothing_left "$in"
	# URL arguments and stdin resume the same way.
	run --separate-stderr "$GATHER" --resume "$BATS_TEST_TMPDIR/first.jsonl" \
		"$BASE/p/n0" "$BASE/p/n1" "$BASE/p/n2"
	assert_success
	assert_jq 'map(.index) == [2]'
	run --separate-stderr "$GATHER" --resume "$BATS_TEST_TMPDIR/first.jsonl" \
		<"$in"
	assert_success
	assert_output ""
	assert_equal "$(stat_field requests)" 1
}

@test "--resume: a changed url at an ok index is a usage error" {
	in="$BATS_TEST_TMPDIR/in"
	first="$BATS_TEST_TMPDIR/first.jsonl"
	resume_input "$in"
	"$GATHER" --fail -i "$in" >"$first" || [[ $? -eq 1 ]]
	# Index 2 was ok: changing it means the input is another one.
	sed 's#/p/r2$#/p/other#' "$in" >"$BATS_TEST_TMPDIR/changed"
	reset_stats
	run --separate-stderr "$GATHER" --fail --resume "$first" \
		-i "$BATS_TEST_TMPDIR/changed"
	# Found while reading: the records read before it are written.
	assert_failure 2
	assert_equal "$(wc -l <<<"$stderr")" 1
	assert_regex "$stderr" '^gather: .*'
	assert_equal "$(hits /p/other)" 0
	assert_jq 'all(.index < 2)'
	# Index 1 failed: a changed url there is just run.
	sed 's#/status/500/r1$#/p/new1#' "$in" >"$BATS_TEST_TMPDIR/changed"
	run --separate-stderr "$GATHER" --fail --resume "$first" \
		-i "$BATS_TEST_TMPDIR/changed"
	assert_failure 1
	assert_jq 'map([.index, .ok]) == [[1, true], [3, false], [4, false]]'
	assert_equal "$(hits /p/new1)" 1
}

@test "--resume ignores a partial last line but refuses a bad line inside" {
	in="$BATS_TEST_TMPDIR/in"
	first="$BATS_TEST_TMPDIR/first.jsonl"
	cut="$BATS_TEST_TMPDIR/cut.jsonl"
	resume_input "$in"
	"$GATHER" --fail -i "$in" >"$first" || [[ $? -eq 1 ]]
	# Cut in the middle of record 5's line (ok in the first run).
	n=$(head -n 5 "$first" | wc -c)
	head -c $((n + 40)) "$first" >"$cut"
	reset_stats
	run --separate-stderr "$GATHER" --fail --resume "$cut" -i "$in"
	assert_failure 1
	assert_no_stderr
	assert_jq 'map(.index) == [1, 3, 4, 5, 6, 7]'
	assert_equal "$(hits /p/r5)" 1
	assert_equal "$(hits /p/r2)" 0
	# The same text with a line end after it is a bad record: refused.
	{ cat "$cut"; echo; } >"$BATS_TEST_TMPDIR/bad.jsonl"
	reset_stats
	gather_usage_error --fail --resume "$BATS_TEST_TMPDIR/bad.jsonl" -i "$in"
	# As is a malformed line in the middle, or one that is JSON but not
	# a record.
	for junk in '{"index": 1, "url' 'not json' '[1, 2]' '{"index": 3}'; do
		{ head -n 3 "$first"; printf '%s\n' "$junk"; tail -n +4 "$first"; } \
			>"$BATS_TEST_TMPDIR/bad.jsonl"
		gather_usage_error --resume "$BATS_TEST_TMPDIR/bad.jsonl" -i "$in"
	done
	assert_nothing_fetched
	# A missing file too.
	gather_usage_error --resume "$BATS_TEST_TMPDIR/none" -i "$in"
}

@test "--resume continues a shard from that shard's output" {
	in="$BATS_TEST_TMPDIR/in"
	mixed_input "$in"
	run --separate-stderr "$GATHER" --fail --shard 1/3 -i "$in"
	assert_failure 1
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/s1.jsonl"
	failed=$(jq -s -c 'map(select(.ok | not) | .index)' \
		"$BATS_TEST_TMPDIR/s1.jsonl")
	# Shard 1 of 3 has successes and failures of every kind.
	assert_jq '(map(select(.ok)) | length) == 5 and
		(map(.error.kind) | unique) == [null, "bad_input", "connect", "http"]'

	reset_stats
	run --separate-stderr "$GATHER" --fail --shard 1/3 \
		--resume "$BATS_TEST_TMPDIR/s1.jsonl" -i "$in"
	assert_failure 1
	assert_jq --argjson f "$failed" 'map(.index) == $f'
	# Nothing ok before was fetched again.
	run jq -r 'select(.ok) | .url | sub("^http://[^/]*"; "")' \
		"$BATS_TEST_TMPDIR/s1.jsonl"
	for p in "${lines[@]}"; do
		assert_equal "$(hits "$p")" 0
	done
	# The whole run's output resumes a shard as well.
	run --separate-stderr "$GATHER" --fail -i "$in"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/all.jsonl"
	run --separate-stderr "$GATHER" --fail --shard 2/3 \
		--resume "$BATS_TEST_TMPDIR/all.jsonl" -i "$in"
	assert_failure 1
	expected=$(jq -s -c 'map(select((.ok | not) and .index % 3 == 2) |
		.index)' "$BATS_TEST_TMPDIR/all.jsonl")
	assert_jq --argjson e "$expected" 'map(.index) == $e'
}

@test "--resume accepts its own output for urls that are not UTF-8" {
	in="$BATS_TEST_TMPDIR/in"
	printf '%s/p/caf\xe9\n%s/p/ok\n' "$BASE" "$BASE" >"$in"
	resume_nothing_left "$in"
}

# ---- --resume FILE: bounded, strict, linear ---------------------------------

# Write a 4-record input to $1 and its first run's output to $2: 0 and 2
# ok, 1 a connection refused, 3 ok.
first_run() {
	printf '%s\n' "$BASE/p/s0" "http://127.0.0.1:$(closed_port)/s1" \
		"$BASE/p/s2" "$BASE/p/s3" >"$1"
	"$GATHER" -i "$1" >"$2" || [[ $? -eq 1 ]]
}

# Run --resume FILE on input IN; assert exit 2 with one line naming LINE.
assert_refused() {
	run --separate-stderr "$GATHER" --resume "$1" -i "$2"
	assert_usage_error "^gather: --resume: '.*' line $3 is not a record" ||
		fail "for: $(head -c 300 "$1")"
}

# assert_refused with gather's CPU time held to $4 seconds: it is killed
# (SIGXCPU) past that.  CPU seconds count the work done; a loaded machine
# stretches the wall clock, not them.
assert_refused_cpu() {
	(
		ulimit -t "$4"
		assert_refused "$1" "$2" "$3"
	)
}

@test "--resume: a record whose body makes its line over 1 MiB is still read" {
	in="$BATS_TEST_TMPDIR/in" first="$BATS_TEST_TMPDIR/first.jsonl"
	printf '%s\n' "$BASE/size/3000000" "$BASE/p/big1" \
		"http://127.0.0.1:$(closed_port)/big2" >"$in"
	"$GATHER" -i "$in" >"$first" || [[ $? -eq 1 ]]
	# The first line is a 3 MB body: only its head is kept and read.
	(($(head -n 1 "$first" | wc -c) > 3000000))
	reset_stats
	run --separate-stderr "$GATHER" --resume "$first" -i "$in"
	assert_failure 1
	assert_jq 'map(.index) == [2]'
	assert_equal "$(stat_field requests)" 0
}

@test "--resume: a line over 1 MiB is not a record; memory stays bounded" {
	in="$BATS_TEST_TMPDIR/in" first="$BATS_TEST_TMPDIR/first.jsonl"
	big="$BATS_TEST_TMPDIR/big.jsonl"
	first_run "$in" "$first"
	# A well-formed failed record whose url makes it 1 MiB + 100 bytes.
	{
		head -n 1 "$first"
		printf '{"index":1,"url":"'
		head -c $((1024 * 1024 + 64)) /dev/zero | tr '\0' a
		printf '","ok":false}\n'
		tail -n +3 "$first"
	} >"$big"
	assert_refused "$big" "$in" 2
	# One a little under the limit is read as the record it is.
	{
		head -n 1 "$first"
		printf '{"index":1,"url":"'
		head -c $((1024 * 1024 - 64)) /dev/zero | tr '\0' a
		printf '","ok":false}\n'
		tail -n +3 "$first"
	} >"$big"
	reset_stats
	run --separate-stderr "$GATHER" --resume "$big" -i "$in"
	assert_failure 1
	assert_jq 'map(.index) == [1]'
	assert_equal "$(stat_field requests)" 0
	# 64 MiB on one line: refused without holding it.
	{ head -n 1 "$first"; head -c $((64 << 20)) /dev/zero | tr '\0' a;
		echo; } >"$big"
	timer=()
	if [[ "$GATHER" != *asan* ]]; then
		timer=(/usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/rss")
	fi
	run --separate-stderr "${timer[@]}" "$GATHER" --resume "$big" -i "$in"
	assert_usage_error "line 2 is not a record"
	if ((${#timer[@]})); then
		rss=$(tail -n 1 "$BATS_TEST_TMPDIR/rss")
		((rss < 24 * 1024)) || fail "peak RSS $rss KiB for a 64 MiB line"
	fi
	# Cut short by a crash, an over-long last line is ignored like any.
	{ cat "$first"; head -c $((2 << 20)) /dev/zero | tr '\0' a; } >"$big"
	reset_stats
	run --separate-stderr "$GATHER" --resume "$big" -i "$in"
	assert_failure 1
	assert_no_stderr
	assert_jq 'map(.index) == [1]'
}

@test "--resume: an index must be a whole number in uint64, written plainly" {
	in="$BATS_TEST_TMPDIR/in" first="$BATS_TEST_TMPDIR/first.jsonl"
	bad="$BATS_TEST_TMPDIR/bad.jsonl"
	first_run "$in" "$first"
	url=$(jq -r 'select(.index == 2) | .url' "$first")
	for v in 1.9 0.5 -1 -0 1e300 1E2 2e0 1.0 01 18446744073709551616 \
		99999999999999999999999 '[2]' '"2"' '{}' null true; do
		{
			head -n 2 "$first"
			printf '{"index":%s,"url":"%s","ok":true}\n' "$v" "$url"
			tail -n +4 "$first"
		} >"$bad"
		assert_refused "$bad" "$in" 3
	done
	# Trailing bytes after the object, or a line that is not an object.
	for line in "$(sed -n 3p "$first") x" "$(sed -n 3p "$first")]" \
		"[$(sed -n 3p "$first")]" '"a string"' 42; do
		{ head -n 2 "$first"; printf '%s\n' "$line"; tail -n +4 "$first"; } \
			>"$bad"
		assert_refused "$bad" "$in" 3
	done
	# The largest uint64 is an index like any other: nothing to skip here.
	{
		cat "$first"
		printf '{"index":18446744073709551615,"url":"%s","ok":true}\n' "$url"
	} >"$bad"
	reset_stats
	run --separate-stderr "$GATHER" --resume "$bad" -i "$in"
	assert_failure 1
	assert_jq 'map(.index) == [1]'
	assert_equal "$(stat_field requests)" 0
}

@test "--resume: an empty file, or one with only failures, runs everything" {
	in="$BATS_TEST_TMPDIR/in"
	# Under the ASan+UBSan build this would catch qsort() given NULL.
	: >"$BATS_TEST_TMPDIR/empty"
	printf '%s\n' "$BASE/p/e0" "$BASE/p/e1" >"$in"
	run --separate-stderr "$GATHER" --resume "$BATS_TEST_TMPDIR/empty" -i "$in"
	assert_success
	assert_no_stderr
	assert_jq 'map([.index, .ok]) == [[0, true], [1, true]]'
	printf '%s\n' "$BASE/status/500" "$BASE/status/503" >"$in"
	"$GATHER" --fail -i "$in" >"$BATS_TEST_TMPDIR/failed" || [[ $? -eq 1 ]]
	assert_equal "$(jq -s 'map(.ok) == [false, false]' \
		"$BATS_TEST_TMPDIR/failed")" true
	reset_stats
	run --separate-stderr "$GATHER" --fail --resume "$BATS_TEST_TMPDIR/failed" \
		-i "$in"
	assert_failure 1
	assert_no_stderr
	assert_jq 'map(.index) == [0, 1]'
	assert_equal "$(stat_field requests)" 2
}

@test "--resume: a line of 200,000 '{\"index\":' is refused at once" {
	in="$BATS_TEST_TMPDIR/in" first="$BATS_TEST_TMPDIR/first.jsonl"
	bad="$BATS_TEST_TMPDIR/bad.jsonl"
	first_run "$in" "$first"
	for n in 200000 110000; do
		# 110,000 (990 kB) stays under the 1 MiB line limit.
		{
			head -n 2 "$first"
			awk -v n="$n" 'BEGIN { for (k = 0; k < n; k++)
				printf "{\"index\":"; print "" }'
			tail -n +3 "$first"
		} >"$bad"
		# The glued-record search was quadratic: 8 to 20 s of CPU
		# here; the bound sits below that, far above the linear time.
		assert_refused_cpu "$bad" "$in" 3 6
	done
	# Objects nested to cJSON's depth limit, then one record: refused.
	{
		head -n 2 "$first"
		awk 'BEGIN { for (k = 0; k < 60000; k++) printf "{\"index\":0,\"a\":"
			print "" }'
	} >"$bad"
	assert_refused_cpu "$bad" "$in" 3 6
}

@test "--resume: a record glued to a cut line is still read" {
	in="$BATS_TEST_TMPDIR/in" first="$BATS_TEST_TMPDIR/first.jsonl"
	glued="$BATS_TEST_TMPDIR/glued.jsonl"
	first_run "$in" "$first"
	# A crash cut record 2's line; a later run's record 3 (>>) follows,
	# itself holding '{"index":' in its id and a backslash before a quote.
	r3=$(sed -n 4p "$first" | jq -c '.id = {"index": "x\\\"}{"}')
	{
		head -n 2 "$first"
		sed -n 3p "$first" | head -c 30
		printf '%s\n' "$r3"
	} >"$glued"
	reset_stats
	run --separate-stderr "$GATHER" --resume "$glued" -i "$in"
	assert_failure 1
	assert_no_stderr
	assert_jq 'map(.index) == [1, 2]'
	assert_equal "$(hits /p/s3)" 0
	assert_equal "$(hits /p/s0)" 0
}

@test "--resume reads a --format json output, empty or cut short" {
	in="$BATS_TEST_TMPDIR/in" first="$BATS_TEST_TMPDIR/first.json"
	printf '%s\n' "$BASE/p/j0" "http://127.0.0.1:$(closed_port)/j1" \
		"$BASE/p/j2" "$BASE/p/j3" >"$in"
	"$GATHER" --format json -i "$in" >"$first" || [[ $? -eq 1 ]]
	jq -e 'length == 4' "$first" >/dev/null
	reset_stats
	run --separate-stderr "$GATHER" --resume "$first" -i "$in"
	assert_failure 1
	assert_no_stderr
	assert_jq 'map(.index) == [1]'
	assert_equal "$(stat_field requests)" 0
	# Cut by a crash inside record 2: no "]" and a partial last line.
	head -c "$(($(head -n 2 "$first" | wc -c) + 20))" "$first" \
		>"$BATS_TEST_TMPDIR/cut.json"
	run --separate-stderr "$GATHER" --resume "$BATS_TEST_TMPDIR/cut.json" -i "$in"
	assert_failure 1
	assert_jq 'map(.index) == [1, 2, 3]'
	# An empty run's "[]" skips nothing.
	"$GATHER" --format json </dev/null >"$BATS_TEST_TMPDIR/empty.json"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/empty.json")" "[]"
	run --separate-stderr "$GATHER" --resume "$BATS_TEST_TMPDIR/empty.json" \
		-i "$in"
	assert_failure 1
	assert_jq 'map(.index) == [0, 1, 2, 3]'
}

# --- crash safety -----------------------------------------------------------

@test "after kill -9, --resume finishes the run without fetching twice" {
	in="$BATS_TEST_TMPDIR/in"
	first="$BATS_TEST_TMPDIR/first.jsonl"
	second="$BATS_TEST_TMPDIR/second.jsonl"
	# 300 slow URLs, each its own path (/delay/20/K: the delay ignores K).
	awk -v b="$BASE" 'BEGIN { for (k = 0; k < 300; k++)
		printf "%s/delay/20/%d\n", b, k }' >"$in"
	reset_stats
	start_bg --out "$first" "$GATHER" -c 8 -i "$in"
	wait_until 10 lines_at_least "$first" 50 ||
		fail "50 records were not written within 10 s"
	kill -9 "$BG_PID"
	wait_bg 10
	n=$(wc -l <"$first")
	((n >= 50 && n < 300)) || fail "the run was killed after $n lines"

	# Every complete line is a record; at most the last one is partial.
	head -n "$n" "$first" >"$BATS_TEST_TMPDIR/complete.jsonl"
	run jq -s -e 'map(.index) == [range(length)] and all(.ok)' \
		"$BATS_TEST_TMPDIR/complete.jsonl"
	assert_success
	# What follows the last line end, if anything, is the start of one.
	rest=$(tail -c +"$(($(wc -c <"$BATS_TEST_TMPDIR/complete.jsonl") + 1))" \
		"$first")
	[[ -z "$rest" || "$rest" == '{"index":'* ]] ||
		fail "after the last complete line: $rest"

	run --separate-stderr "$GATHER" -c 8 --resume "$first" -i "$in"
	assert_success
	printf '%s\n' "$output" >"$second"
	assert_equal "${#lines[@]}" "$((300 - n))"
	# First (complete lines) and second run: every index exactly once.
	run jq -s -c 'map(.index) | sort == [range(300)]' \
		"$BATS_TEST_TMPDIR/complete.jsonl" "$second"
	assert_output true
	# No URL that was ok in the first file was fetched again; the others
	# were fetched once or twice (twice if in flight at the kill).
	run bash -c 'arrivals() { curl -q -s --max-time 5 "$BASE/arrivals"; }
		arrivals | jq -c --slurpfile done "$1" "
			(\$done | map(\"/delay/20/\(.index)\")) as \$ok |
			map(.[0]) | group_by(.) | map({key: .[0], value: length}) |
			from_entries as \$n |
			[length, all(\$ok[]; \$n[.] == 1),
			 all(range(300); \$n[\"/delay/20/\(.)\"] >= 1),
			 all(\$n[]; . <= 2)]"' _ "$BATS_TEST_TMPDIR/complete.jsonl"
	assert_output '[300,true,true,true]'
}
