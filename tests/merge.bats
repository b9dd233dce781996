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

# ---- --format tap and --junit --------------------------------------------------

# The YAML blocks of TAP file $1 as JSON lines, as prove's TAP::Parser reads
# them, and "errors: N" last.
merge_tap_yaml() {
	perl -MTAP::Parser -MJSON::PP -e '
		my $p = TAP::Parser->new({ source => $ARGV[0] });
		my $js = JSON::PP->new->canonical->allow_nonref;
		while (my $r = $p->next) {
			print $js->encode($r->data), "\n" if $r->is_yaml;
		}
		printf "errors: %d\n", scalar $p->parse_errors;' "$1"
}

# The --junit report $1 as JSON: the suite's attributes and each case.
merge_junit_json() {
	python3 -c '
import json, sys, xml.etree.ElementTree as ET
suite = ET.parse(sys.argv[1]).getroot().find("testsuite")
cases = []
for c in suite.findall("testcase"):
    f = c.find("failure")
    cases.append({"name": c.get("name"), "time": float(c.get("time")),
                  "failure": None if f is None else
                  {"type": f.get("type"), "message": f.get("message"),
                   "text": f.text}})
print(json.dumps({"suite": dict(suite.attrib), "cases": cases}))' "$1"
}

@test "--merge --format tap: two parts all ok pass prove, numbered by index" {
	d="$BATS_TEST_TMPDIR"
	urls 5 /p/tap >"$d/in"
	"$GATHER" --shard 0/2 -i "$d/in" >"$d/a"
	"$GATHER" --shard 1/2 --format json -i "$d/in" >"$d/b"
	run --separate-stderr "$GATHER" --merge --format tap "$d/a" "$d/b"
	assert_success
	assert_equal "$stderr" ""
	printf '%s\n' "$output" >"$d/ok.tap"
	assert_equal "${#lines[@]}" 7
	assert_line --index 0 'TAP version 13'
	for k in 0 1 2 3 4; do
		assert_line --index $((k + 1)) "ok $((k + 1)) - $BASE/p/tap?i=$k"
	done
	assert_line --index 6 '1..5'
	run prove -e cat "$d/ok.tap"
	assert_success
	assert_output --partial 'Result: PASS'
}

@test "--merge --format tap: failures fail prove, each with its YAML block" {
	d="$BATS_TEST_TMPDIR"
	port=$(closed_port)
	"$GATHER" "$BASE/p/t0" "$BASE/status/503" "$BASE/p/t2" >"$d/a" || true
	"$GATHER" --shard 1/2 --fail --retries 1 --retry-delay 0.01 \
		"$BASE/p/t0" "http://127.0.0.1:$port/t1" "$BASE/p/t2" \
		"$BASE/status/404" >"$d/b" || true
	run --separate-stderr "$GATHER" --merge --format tap "$d/a" "$d/b"
	assert_failure 1
	assert_equal "$stderr" ""
	printf '%s\n' "$output" >"$d/fail.tap"
	assert_line --index 0 'TAP version 13'
	assert_line --index 1 "ok 1 - $BASE/p/t0"
	assert_line --index 2 "not ok 2 - http://127.0.0.1:$port/t1"
	assert_line --index 3 '  ---'
	assert_line "ok 3 - $BASE/p/t2"
	assert_line "not ok 4 - $BASE/status/404"
	assert_line --index $((${#lines[@]} - 1)) '1..4'
	run prove -e cat "$d/fail.tap"
	assert_failure
	assert_output --partial 'Failed tests:  2, 4'
	run merge_tap_yaml "$d/fail.tap"
	assert_success
	assert_line --index 2 'errors: 0'
	output=$(head -2 <<<"$output")
	# From the records of file b, the later one: what they say, as strings.
	assert_jq --arg u "http://127.0.0.1:$port/t1" '.[0] | .index == "1" and
		.url == $u and .kind == "connect" and .status == null and
		.attempts == "2" and (.message | length) > 0'
	assert_jq --arg b "$BASE" '.[1] == {"index": "3", "url": ($b +
		"/status/404"), "kind": "http", "status": "404",
		"message": "HTTP status 404", "attempts": "1"}'
}

@test "--merge --junit: the report of the merged records, read by xmllint" {
	d="$BATS_TEST_TMPDIR"
	"$GATHER" "$BASE/p/j0" "$BASE/status/500" "$BASE/p/j2" >"$d/a" || true
	"$GATHER" --shard 1/3 --expect '.size == 99' "$BASE/p/j0" \
		"$BASE/status/500" "$BASE/p/j2" "$BASE/p/j3" "$BASE/p/j4" \
		>"$d/b" || true
	run --separate-stderr "$GATHER" --merge --junit "$d/r.xml" "$d/a" "$d/b"
	assert_failure 1
	assert_equal "$stderr" ""
	# The output is the records as before, byte for byte: 0 and 2 of a,
	# 1 and 4 of b.
	assert_equal "${#lines[@]}" 4
	assert_equal "$(sed -n 2p <<<"$output")" "$(sed -n 1p "$d/b")"
	assert_equal "$(sed -n 3p <<<"$output")" "$(sed -n 3p "$d/a")"
	assert_equal "$(sed -n 4p <<<"$output")" "$(sed -n 2p "$d/b")"
	run xmllint --noout "$d/r.xml"
	assert_success
	run xmllint --xpath 'string(/testsuites/testsuite/@tests)' "$d/r.xml"
	assert_output 4
	run xmllint --xpath 'string(/testsuites/testsuite/@failures)' "$d/r.xml"
	assert_output 2
	run xmllint --xpath 'count(//testcase/failure)' "$d/r.xml"
	assert_output 2
	run merge_junit_json "$d/r.xml"
	assert_success
	assert_jq --arg b "$BASE" '.[0].cases | map(.name) == [$b + "/p/j0",
		$b + "/status/500", $b + "/p/j2", $b + "/p/j4"]'
	# Index 1 is b's: a 500 that failed its expectation, not a's http.
	assert_jq '.[0].cases[1].failure | .type == "expectation" and
		(.message | startswith("expected .size == 99")) and
		.text == "index 1, status 500, attempts 1"'
	assert_jq '.[0].cases[3].failure.type == "expectation" and
		.[0].cases[0].failure == null and .[0].cases[2].failure == null'
	assert_jq '[.[0].cases[].time] | all(. > 0)'
	run ls "$d"
	refute_output --partial 'r.xml.'
	# With --format tap too; every part ok is exit 0.
	"$GATHER" "$BASE/p/j0" >"$d/c"
	run --separate-stderr "$GATHER" --merge --format tap --junit "$d/r2.xml" \
		"$d/c"
	assert_success
	assert_line --index 1 "ok 1 - $BASE/p/j0"
	run xmllint --xpath 'concat(//testsuite/@tests, " ",
		//testsuite/@failures)' "$d/r2.xml"
	assert_output '1 0'
}

@test "--merge --format tap and --junit: a record over 1 MiB is read to its end" {
	d="$BATS_TEST_TMPDIR"
	"$GATHER" --expect '.size == 5' "$BASE/size/3000000" "$BASE/p/big1" \
		>"$d/big" || true
	"$GATHER" "$BASE/size/2000000" >"$d/big2"
	# Both first lines are over the reader's 1 MiB.
	(( $(head -1 "$d/big" | wc -c) > 3000000 )) || fail "a short line"
	(( $(head -1 "$d/big2" | wc -c) > 2000000 )) || fail "a short line"
	run --separate-stderr "$GATHER" --merge --format tap --junit "$d/r.xml" \
		"$d/big" "$d/big2"
	assert_failure 1
	assert_equal "$stderr" ""
	printf '%s\n' "$output" >"$d/big.tap"
	# big2's index 0 (ok, 2 MB) wins over big's failed one.
	assert_line --index 1 "ok 1 - $BASE/size/2000000"
	assert_line --index 2 "not ok 2 - $BASE/p/big1"
	assert_line --index $((${#lines[@]} - 1)) '1..2'
	# Now the failed 3 MB record is merged: its error, past the first MiB.
	run --separate-stderr "$GATHER" --merge --format tap --junit "$d/r.xml" \
		"$d/big"
	assert_failure 1
	printf '%s\n' "$output" >"$d/big.tap"
	assert_line --index 1 "not ok 1 - $BASE/size/3000000"
	run merge_tap_yaml "$d/big.tap"
	assert_line --index 2 'errors: 0'
	output=$(head -1 <<<"$output")
	assert_jq --arg b "$BASE" '.[0] | .index == "0" and .kind ==
		"expectation" and .status == "200" and .attempts == "1" and
		(.message | startswith("expected .size == 5"))'
	run merge_junit_json "$d/r.xml"
	assert_jq '.[0].suite.tests == "2" and .[0].suite.failures == "2" and
		.[0].cases[0].failure.type == "expectation" and
		.[0].cases[0].time > 0 and
		.[0].cases[0].failure.text == "index 0, status 200, attempts 1"'
	# A long record whose end is not ours: ok and status from its head.
	printf '{"index":0,"url":"u","ok":false,"status":502,"body":"%s"}\n' \
		"$(head -c 1200000 /dev/zero | tr '\0' a)" >"$d/odd"
	run --separate-stderr "$GATHER" --merge --format tap "$d/odd"
	assert_failure 1
	assert_line --index 1 'not ok 1 - u'
	assert_line '  kind: "other"'
	assert_line '  status: 502'
	assert_line '  message: "the record is over 1 MiB and its error was past the end kept of it"'
}
