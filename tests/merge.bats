#!/usr/bin/env bats
# --merge FILE...: putting shard parts and reruns back together, in index
# order, the last file given winning; refusing what is not gather's
# ordered output; memory that stays flat whatever the files' lengths.

bats_require_minimum_version 1.5.0
load helper

setup_file() { start_server; }
teardown_file() { stop_server; }

# Write a 30-record input to $1: URL lines, blank and comment lines, request
# objects, bad lines, failures; record k is of kind k % 6.
mixed_input() {
	awk -v b="$BASE" -v cp="$(closed_port)" 'BEGIN {
		for (k = 0; k < 30; k++) {
			if (k % 4 == 1) print ""
			m = k % 6
			if (m == 0) printf "%s/p/m%d\n", b, k
			else if (m == 1) printf "%s/status/404/%d\n", b, k
			else if (m == 2) printf "{\"url\": \"%s/p/m%d\", \"id\": %d}\n", b, k, k
			else if (m == 3) printf "{\"no_url\": %d}\n", k
			else if (m == 4) printf "http://127.0.0.1:%d/%d\n", cp, k
			else printf "%s/size/%d\n", b, k
		}
	}' >"$1"
}

# What two runs of one input share: every field but timings and connections
# (a connect error's message says how long it took).
stable() {
	jq -c 'del(.time, .remote_ip, .remote_port, .connection_reused) |
		if .error then .error.message |= gsub("after [0-9]+ ms"; "")
		else . end' "$@"
}

@test "--merge: three shards, one --format json and one on stdin, are the whole run" {
	in="$BATS_TEST_TMPDIR/in"
	d="$BATS_TEST_TMPDIR"
	mixed_input "$in"
	run --separate-stderr "$GATHER" -i "$in"
	assert_failure 1
	printf '%s\n' "$output" >"$d/whole"
	"$GATHER" --shard 0/3 -i "$in" >"$d/part0" || [[ $? == 1 ]]
	"$GATHER" --shard 1/3 --format json -i "$in" >"$d/part1" || [[ $? == 1 ]]
	"$GATHER" --shard 2/3 -i "$in" >"$d/part2" || [[ $? == 1 ]]
	# The json part is an array, not lines of records.
	assert_equal "$(head -c 1 "$d/part1")" "["
	run --separate-stderr "$GATHER" --merge "$d/part0" "$d/part1" - \
		<"$d/part2"
	assert_failure 1
	assert_equal "$stderr" ""
	assert_equal "${#lines[@]}" 30
	assert_jq 'map(.index) == [range(30)]'
	printf '%s\n' "$output" >"$d/merged"
	assert_equal "$(stable "$d/merged")" "$(stable "$d/whole")"
	# Each record is written as its part wrote it, byte for byte.
	assert_equal "$(sed -n 2p "$d/merged")" \
		"$(sed -n 1p "$d/part1" | cut -c 2-)"
	assert_equal "$(sed -n 3p "$d/merged")" "$(sed -n 1p "$d/part2")"
	assert_equal "$(sed -n 1p "$d/merged")" "$(sed -n 1p "$d/part0")"

	# --format json writes one array of the same records.
	run --separate-stderr "$GATHER" --merge --format json "$d/part0" \
		"$d/part1" "$d/part2"
	assert_failure 1
	assert_equal "$(printf '%s\n' "$output" | jq -c '.[]')" \
		"$(jq -c . "$d/merged")"
}

@test "--merge: every part ok is exit 0; a merged record not ok is exit 1" {
	d="$BATS_TEST_TMPDIR"
	urls 6 /p/ok >"$d/in"
	"$GATHER" --shard 0/2 -i "$d/in" >"$d/a"
	"$GATHER" --shard 1/2 -i "$d/in" >"$d/b"
	run --separate-stderr "$GATHER" --merge "$d/b" "$d/a"
	assert_success
	assert_jq 'map(.index) == [range(6)] and all(.ok)'
	"$GATHER" -f "$BASE/status/500" >"$d/c" || true
	run --separate-stderr "$GATHER" --merge "$d/a" "$d/c"
	assert_failure 1
	assert_jq 'map(.index) == [0, 2, 4] and map(.ok) == [false, true, true]'
}

@test "--merge: a run and its --resume rerun, the rerun wins" {
	d="$BATS_TEST_TMPDIR"
	key="m$RANDOM$RANDOM"
	# Records 1 and 3 fail the first time (503), then answer 200.
	printf '%s\n' "$BASE/p/r0" "$BASE/flaky/$key-1/1" "$BASE/p/r2" \
		"$BASE/flaky/$key-3/1" "$BASE/p/r4" >"$d/in"
	run --separate-stderr "$GATHER" --retries 0 -f -i "$d/in"
	assert_failure 1
	assert_jq 'map(.ok) == [true, false, true, false, true]'
	printf '%s\n' "$output" >"$d/run1"
	run --separate-stderr "$GATHER" --retries 0 -f --resume "$d/run1" \
		-i "$d/in"
	assert_success
	assert_jq 'map(.index) == [1, 3] and all(.ok) and all(.status == 200)'
	printf '%s\n' "$output" >"$d/rerun"

	run --separate-stderr "$GATHER" --merge "$d/run1" "$d/rerun"
	assert_success
	assert_jq 'map(.index) == [range(5)] and all(.ok) and
		map(.status) == [200, 200, 200, 200, 200]'
	assert_equal "$(sed -n 2p <<<"$output")" "$(sed -n 1p "$d/rerun")"
	assert_equal "$(sed -n 3p <<<"$output")" "$(sed -n 3p "$d/run1")"
	assert_equal "$(sed -n 4p <<<"$output")" "$(sed -n 2p "$d/rerun")"

	# Given the other way round, the first run's failures win.
	run --separate-stderr "$GATHER" --merge "$d/rerun" "$d/run1"
	assert_failure 1
	assert_jq 'map(.ok) == [true, false, true, false, true] and
		map(.status) == [200, 503, 200, 503, 200]'
}

@test "--merge: an -u output is exit 2 naming the file and line" {
	d="$BATS_TEST_TMPDIR"
	# Record 0 is slow: under -u it is written after record 1.
	printf '%s\n' "$BASE/delay/1500" "$BASE/p/u1" >"$d/in"
	"$GATHER" -u -i "$d/in" >"$d/unordered"
	assert_equal "$(jq -c .index "$d/unordered" | tr '\n' ' ')" "1 0 "
	"$GATHER" "$BASE/p/other" >"$d/other"
	run --separate-stderr "$GATHER" --merge "$d/other" "$d/unordered"
	assert_failure 2
	assert_equal "$stderr" "gather: --merge: '$d/unordered' line 2: index 0 after 1; each file must be ordered by index (an -u output is not)"
}

@test "--merge: a line that is not a record is exit 2 naming the file and line" {
	d="$BATS_TEST_TMPDIR"
	urls 3 /p/n >"$d/in"
	"$GATHER" -i "$d/in" >"$d/good"
	{ sed -n 1,2p "$d/good"; echo '{"index": 2, "no": "record"}'; } >"$d/bad"
	run --separate-stderr "$GATHER" --merge "$d/good" "$d/bad"
	assert_failure 2
	assert_equal "$stderr" "gather: --merge: '$d/bad' line 3 is not a record of gather's output"
	# Not JSON at all, on stdin, in the first line.
	run --separate-stderr "$GATHER" --merge "$d/good" - <<<'hello'
	assert_failure 2
	assert_equal "$stderr" "gather: --merge: '-' line 1 is not a record of gather's output"
	# A file that is not there.
	run --separate-stderr "$GATHER" --merge "$d/good" "$d/none"
	assert_failure 2
	assert_output ""
	assert_equal "$stderr" "gather: --merge: cannot open '$d/none': No such file or directory"
}

@test "--merge: a record over 1 MiB is written whole" {
	d="$BATS_TEST_TMPDIR"
	"$GATHER" "$BASE/size/3000000" "$BASE/p/big1" >"$d/big"
	"$GATHER" "$BASE/p/small0" "$BASE/p/small1" "$BASE/p/small2" \
		>"$d/small"
	run --separate-stderr "$GATHER" --merge "$d/small" "$d/big"
	assert_success
	assert_equal "${#lines[@]}" 3
	assert_equal "$(sed -n 1p <<<"$output")" "$(sed -n 1p "$d/big")"
	assert_jq '.[0].size == 3000000 and (.[0].body | length) == 3000000 and
		.[1].url == $b + "/p/big1" and .[2].url == $b + "/p/small2"' \
		--arg b "$BASE"
}

@test "--merge: usage errors" {
	run --separate-stderr "$GATHER" --merge
	assert_failure 2
	assert_equal "$stderr" "gather: --merge needs files to merge (- for stdin)"
	run --separate-stderr "$GATHER" --merge - -
	assert_failure 2
	assert_equal "$stderr" "gather: --merge: - (stdin) may be given once"
	run --separate-stderr "$GATHER" --merge -i x y
	assert_failure 2
	assert_output ""
	[[ "$stderr" == "gather: --merge reads earlier outputs and fetches nothing: "* ]]
}

# Peak resident memory of a command, in KiB.
max_rss() {
	/usr/bin/time -f '%M' -o "$BATS_TEST_TMPDIR/rss" "$@" >/dev/null
	cat "$BATS_TEST_TMPDIR/rss"
}

@test "--merge: memory stays flat with two files of 1,000,000 records" {
	d="$BATS_TEST_TMPDIR"
	# Records as gather writes them, made by awk, not fetched.
	gen() {
		awk -v n="$1" -v s="$2" 'BEGIN { for (k = 0; k < n; k += s)
			printf "{\"index\":%d,\"url\":\"http://h.test/%d\",\"id\":null,\"ok\":true,\"status\":200,\"size\":1,\"body\":\"a\"}\n", k, k }'
	}
	gen 1000000 1 >"$d/a"
	gen 2000000 2 >"$d/b"
	gen 1000 1 >"$d/sa"
	gen 2000 2 >"$d/sb"
	small=$(max_rss "$GATHER" --merge "$d/sa" "$d/sb")
	big=$(max_rss "$GATHER" --merge "$d/a" "$d/b")
	echo "max RSS: small $small KiB, big $big KiB" >&3
	(( big < small + 8192 )) || fail "RSS grew from $small KiB to $big KiB"
	"$GATHER" --merge "$d/a" "$d/b" >"$d/out"
	assert_equal "$(wc -l <"$d/out")" 1500000
	assert_equal "$(head -1 "$d/out")" "$(head -1 "$d/b")"
	assert_equal "$(sed -n 2p "$d/out")" "$(sed -n 2p "$d/a")"
	assert_equal "$(tail -1 "$d/out")" "$(tail -1 "$d/b")"
	# Every index once, rising.
	assert_equal "$(awk -F'[:,]' '$2 <= p && NR > 1 { print } { p = $2 }' \
		"$d/out" | head -3)" ""
}

@test "--merge: a last line cut short by a killed run is ignored, as by --resume" {
	d="$BATS_TEST_TMPDIR"
	urls 3 /p/cut >"$d/in"
	"$GATHER" -i "$d/in" >"$d/whole"
	{ sed -n 1,2p "$d/whole"; sed -n 3p "$d/whole" | head -c 40; } >"$d/cut"
	run --separate-stderr "$GATHER" --merge "$d/cut"
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$output" "$(sed -n 1,2p "$d/whole")"
}

@test "--merge: a reader that leaves ends the merge quietly with 141" {
	d="$BATS_TEST_TMPDIR"
	awk 'BEGIN { for (k = 0; k < 200000; k++)
		printf "{\"index\":%d,\"url\":\"u\",\"ok\":true}\n", k }' >"$d/a"
	run --separate-stderr bash -c '"$GATHER" --merge "$1" | head -c 100 >/dev/null; echo "${PIPESTATUS[0]}"' sh "$d/a"
	assert_success
	assert_output 141
	assert_equal "$stderr" ""
}
