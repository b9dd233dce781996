#!/usr/bin/env bats
# Tests and CI: --expect (jq expressions through libjq), polling with
# --retry-on expectation, --format tap (read back with prove and
# TAP::Parser) and --junit FILE (read back with xmllint and python3).
# Signals are sent once the server has seen the requests (bounded polling
# on /hits), never after a sleep that hopes they have started.

bats_require_minimum_version 1.5.0
load helper

setup_file() { start_server; }
teardown_file() { stop_server; }

teardown() {
	stop_bg
}

under_asan() {
	[[ "$GATHER" == *asan* ]]
}

# Print the YAML blocks of TAP file $1 as JSON lines, one per block, and
# "errors: N" last: TAP::Parser is what prove reads the stream with.
tap_yaml() {
	perl -MTAP::Parser -MJSON::PP -e '
		my $p = TAP::Parser->new({ source => $ARGV[0] });
		my $js = JSON::PP->new->canonical->allow_nonref;
		while (my $r = $p->next) {
			print $js->encode($r->data), "\n" if $r->is_yaml;
		}
		print "errors: ", scalar($p->parse_errors), "\n";' "$1"
}

# Print "N ok|not_ok DESCRIPTION directive" for each test line of TAP file $1.
tap_tests() {
	perl -MTAP::Parser -e '
		my $p = TAP::Parser->new({ source => $ARGV[0] });
		while (my $r = $p->next) {
			next unless $r->is_test;
			printf "%d %s %s|%s\n", $r->number,
			    $r->is_actual_ok ? "ok" : "not_ok",
			    $r->description, $r->directive;
		}' "$1"
}

# ---- --expect ---------------------------------------------------------------

@test "--expect: a 200 passes, a 404 without --fail fails as expectation" {
	run --separate-stderr "$GATHER" --expect '.status == 200' \
		"$BASE/ok" "$BASE/status/404"
	assert_failure 1
	assert_equal "${#lines[@]}" 2
	assert_jsonl
	assert_jq '.[0] | .ok and .status == 200 and .error == null'
	assert_jq '.[1] | .ok == false and .status == 404 and
		.error.kind == "expectation" and
		.error.message == "expected .status == 200, got false" and
		(.error | has("curl_code") | not)'
	assert_no_stderr
}

@test "--expect: with --fail a 404 stays http and is not evaluated" {
	run --separate-stderr "$GATHER" --fail --expect 'error("evaluated")' \
		"$BASE/status/404"
	assert_failure 1
	assert_jq '.[0].error.kind == "http" and .[0].error.message == "HTTP status 404"'
}

@test "--expect: transport failures keep their kind" {
	port=$(closed_port)
	run --separate-stderr "$GATHER" --expect 'true' "http://127.0.0.1:$port/"
	assert_failure 1
	assert_jq '.[0].error.kind == "connect"'
}

@test "--expect: two expressions, the failing one is named" {
	run --separate-stderr "$GATHER" --expect '.status == 200' \
		--expect '.body == "ok"' "$BASE/ok" "$BASE/p/two"
	assert_failure 1
	assert_jq '.[0].ok and .[0].body == "ok"'
	assert_jq '.[1] | .ok == false and .body == "p" and
		.error.kind == "expectation" and
		(.error.message | contains(".body == \"ok\"")) and
		(.error.message | contains(".status") | not)'
}

@test "--expect: a run-time jq error fails the record with jq's message" {
	run --separate-stderr "$GATHER" --expect '.body | fromjson' "$BASE/ok"
	assert_failure 1
	assert_jq '.[0] | .ok == false and .error.kind == "expectation" and
		(.error.message | startswith("expected .body | fromjson, got jq error: ")) and
		(.error.message | test("while parsing .ok."))'
	run --separate-stderr "$GATHER" --expect 'error("custom reason")' "$BASE/ok"
	assert_jq '.[0].error.message == "expected error(\"custom reason\"), got jq error: custom reason"'
}

@test "--expect: null and no output fail; any other first output passes" {
	run --separate-stderr "$GATHER" --expect '.missing' --expect 'empty' \
		"$BASE/ok"
	assert_failure 1
	assert_jq '.[0].error.message == "expected .missing, got null"'
	run --separate-stderr "$GATHER" --expect 'empty' "$BASE/ok"
	assert_jq '.[0].error.message == "expected empty, got no output"'
	# Only the first output counts: false after true does not fail it.
	run --separate-stderr "$GATHER" --expect '(true, false)' \
		--expect '0' --expect '""' --expect '.size' "$BASE/ok"
	assert_success
	assert_jq '.[0].ok'
}

@test "--expect: a syntax error is exit 2 naming it, nothing fetched" {
	reset_stats
	run --separate-stderr "$GATHER" --expect '.status == 200' \
		--expect '.status ==' "$BASE/ok"
	assert_usage_error "^gather: --expect '\\.status ==': jq: error: syntax error"
	assert_nothing_fetched
	run --separate-stderr "$GATHER" --expect '' "$BASE/ok"
	assert_usage_error 'expected a jq expression'
}

@test "--expect: --body json makes .body the parsed value" {
	run --separate-stderr "$GATHER" --body json \
		--expect '.body.hello == "world"' --expect '.body.n[2] == 3' \
		--expect '.body.nested.ok' --expect '.body_encoding == "json"' \
		"$BASE/json"
	assert_success
	assert_jq '.[0].ok and .[0].body.hello == "world"'
	# Without --body json the body is a string: indexing it is an error.
	run --separate-stderr "$GATHER" --expect '.body.hello == "world"' \
		"$BASE/json"
	assert_failure 1
	assert_jq '.[0].error.kind == "expectation" and
		(.[0].error.message | contains("Cannot index string"))'
}

@test "--expect sees the record as printed: id, time, attempts, headers" {
	printf '%s\n' "{\"url\": \"$BASE/ok\", \"id\": {\"k\": [1, 2]}}" \
		>"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -i "$BATS_TEST_TMPDIR/in" -I \
		--expect '.id.k == [1, 2]' \
		--expect '.attempts == 1 and .time.total > 0' \
		--expect '.headers["content-type"] == "text/plain"' \
		--expect '.index == 0 and .ok == true and .error == null'
	assert_success
	assert_jq '.[0].ok and .[0].id.k == [1, 2]'
}

@test "--expect: hash is null when the expectation fails" {
	run --separate-stderr "$GATHER" --hash sha256 --expect '.size == 3' \
		"$BASE/ok" "$BASE/size/3"
	assert_failure 1
	assert_jq '.[0].ok == false and .[0].hash == null'
	assert_jq '.[1].ok and (.[1].hash.sha256 | length) == 64'
}

# ---- polling ------------------------------------------------------------------

@test "polling: --retry-on expectation retries until the body is 3" {
	reset_stats
	run --separate-stderr "$GATHER" --retries 10 --retry-delay 0.01 \
		--retry-max-delay 0.05 --retry-on expectation \
		--expect '.body == "3"' "$BASE/count/poll-a"
	assert_success
	assert_jq '.[0] | .ok and .body == "3" and .attempts == 3'
	assert_equal "$(hits /count/poll-a)" 3
}

@test "polling: without --retry-on expectation there is one attempt" {
	reset_stats
	run --separate-stderr "$GATHER" --retries 10 --retry-delay 0.01 \
		--expect '.body == "3"' "$BASE/count/poll-b"
	assert_failure 1
	assert_jq '.[0] | .ok == false and .body == "1" and .attempts == 1 and
		.error.kind == "expectation"'
	assert_equal "$(hits /count/poll-b)" 1
	# --retry-all-errors does not poll either: only --retry-on names it.
	run --separate-stderr "$GATHER" --retries 10 --retry-delay 0.01 \
		--retry-all-errors --expect '.body == "9"' "$BASE/count/poll-c"
	assert_failure 1
	assert_jq '.[0].attempts == 1 and .[0].error.kind == "expectation"'
	assert_equal "$(hits /count/poll-c)" 1
}

@test "polling: retries run out, the last answer is the record" {
	reset_stats
	run --separate-stderr "$GATHER" --retries 2 --retry-delay 0.01 \
		--retry-on expectation,5xx --expect '.body == "9"' \
		"$BASE/count/poll-d?json=1"
	assert_failure 1
	assert_jq '.[0] | .ok == false and .attempts == 3 and
		.error.kind == "expectation" and .body == "{\"n\": 3}"'
	run --separate-stderr "$GATHER" --retries 5 --retry-delay 0.01 \
		--retry-on expectation --body json --expect '.body.n >= 2' \
		"$BASE/count/poll-e?json=1"
	assert_success
	assert_jq '.[0].attempts == 2 and .[0].body.n == 2'
}

# ---- --format tap -------------------------------------------------------------

@test "tap: an all-ok run passes prove" {
	"$GATHER" --format tap --expect '.status == 200' "$BASE/ok" \
		"$BASE/p/tap-1" "$BASE/utf8" >"$BATS_TEST_TMPDIR/ok.tap"
	run head -1 "$BATS_TEST_TMPDIR/ok.tap"
	assert_output 'TAP version 13'
	run tail -1 "$BATS_TEST_TMPDIR/ok.tap"
	assert_output '1..3'
	run grep -c '^ok [123] - ' "$BATS_TEST_TMPDIR/ok.tap"
	assert_output 3
	run prove -e cat "$BATS_TEST_TMPDIR/ok.tap"
	assert_success
	assert_output --partial 'Result: PASS'
}

@test "tap: a run with failures fails prove, with a YAML block per failure" {
	run --separate-stderr "$GATHER" --format tap --fail \
		--expect '.body == "ok"' "$BASE/ok" "$BASE/status/404" \
		"$BASE/p/tap-2"
	assert_failure 1
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/fail.tap"
	assert_line --index 0 'TAP version 13'
	assert_line --index 1 "ok 1 - $BASE/ok"
	assert_line --index 2 "not ok 2 - $BASE/status/404"
	assert_line --index 3 '  ---'
	assert_line "not ok 3 - $BASE/p/tap-2"
	assert_line --index $((${#lines[@]} - 1)) '1..3'
	run prove -e cat "$BATS_TEST_TMPDIR/fail.tap"
	assert_failure
	assert_output --partial 'Failed tests:  2-3'
	run tap_yaml "$BATS_TEST_TMPDIR/fail.tap"
	assert_success
	assert_line --index 2 'errors: 0'
	output=$(head -2 <<<"$output")
	# YAMLish reads every scalar back as a string.
	assert_jq --arg b "$BASE" '.[0] == {"index": "1", "url": ($b +
		"/status/404"), "kind": "http", "status": "404",
		"message": "HTTP status 404", "attempts": "1"}'
	assert_jq '.[1] | .index == "2" and .kind == "expectation" and
		.status == "200" and (.message | contains(".body == \"ok\""))'
}

@test "tap: a URL with #, \\ and control bytes stays one test, escaped" {
	printf '%s\n' "$BASE/p/a#SKIP" "{\"url\": \"$BASE/p/b\\\\c\\u0001\\\"d\\n\"}" \
		>"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" --format tap -i "$BATS_TEST_TMPDIR/in"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/esc.tap"
	run tap_tests "$BATS_TEST_TMPDIR/esc.tap"
	# The directive stays empty: the # is escaped, so no SKIP.
	assert_line --index 0 "1 ok - $BASE/p/a\\#SKIP|"
	assert_equal "${#lines[@]}" 2
	# TAP::Parser leaves the escapes in the description as they are.
	[[ "${lines[1]}" == "2 not_ok - $BASE/p/b\\\\c\\x01\"d|" ]] ||
		fail "second test: ${lines[1]}"
	run tap_yaml "$BATS_TEST_TMPDIR/esc.tap"
	assert_line 'errors: 0'
	output=$(head -1 <<<"$output")
	# The url is trimmed as any input is; YAML gives its bytes back.
	assert_jq --arg u "$BASE/p/b\\c"$'\x01'"\"d" '.[0].url == $u'
}

@test "tap: -u numbers follow the output order" {
	run --separate-stderr "$GATHER" --format tap -u "$BASE/delay/1000" \
		"$BASE/ok"
	assert_success
	assert_line --index 1 "ok 1 - $BASE/ok"
	assert_line --index 2 "ok 2 - $BASE/delay/1000"
	assert_line --index 3 '1..2'
}

@test "tap: empty input is the version and the plan 1..0" {
	run --separate-stderr "$GATHER" --format tap </dev/null
	assert_success
	assert_output $'TAP version 13\n1..0'
}

@test "tap: SIGINT mid-run still ends with the plan" {
	reset_stats
	start_bg "$GATHER" --format tap -t 20 "$BASE/ok" "$BASE/hang/tap-sig" \
		"$BASE/hang/tap-sig"
	wait_until 10 hits_at_least /hang/tap-sig 2 ||
		fail "the transfers did not reach the server"
	kill -INT "$BG_PID"
	wait_bg 10
	assert_equal "$BG_STATUS" 130
	load_bg_output
	assert_line --index 0 'TAP version 13'
	assert_line --index $((${#lines[@]} - 1)) '1..3'
	assert_line "ok 1 - $BASE/ok"
	run grep -c '^  kind: "cancelled"$' "$BATS_TEST_TMPDIR/out"
	assert_output 2
	run prove -e cat "$BATS_TEST_TMPDIR/out"
	assert_failure
	assert_output --partial 'Tests: 3 Failed: 2'
}

@test "tap: SIGTERM and --deadline end with the plan too" {
	reset_stats
	start_bg "$GATHER" --format tap -t 20 "$BASE/hang/tap-term"
	wait_until 10 hits_at_least /hang/tap-term 1 ||
		fail "the transfer did not reach the server"
	kill -TERM "$BG_PID"
	wait_bg 10
	assert_equal "$BG_STATUS" 143
	load_bg_output
	assert_line --index $((${#lines[@]} - 1)) '1..1'
	run --separate-stderr "$GATHER" --format tap --deadline 0.3 "$BASE/ok" \
		"$BASE/hang/tap-dl"
	assert_failure 1
	assert_line '  kind: "deadline"'
	assert_line --index $((${#lines[@]} - 1)) '1..2'
}

# ---- --junit ------------------------------------------------------------------

# Print the report FILE as JSON: the suite's attributes and each case.
junit_json() {
	python3 -c '
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suite = root.find("testsuite")
cases = []
for c in suite.findall("testcase"):
    f = c.find("failure")
    cases.append({"name": c.get("name"), "classname": c.get("classname"),
                  "time": float(c.get("time")),
                  "failure": None if f is None else
                  {"type": f.get("type"), "message": f.get("message")}})
print(json.dumps({"root": root.tag, "suite": dict(suite.attrib),
                  "cases": cases}))' "$1"
}

@test "junit: counts, names and failure types, parsed by xmllint and python" {
	j="$BATS_TEST_TMPDIR/report.xml"
	port=$(closed_port)
	run --separate-stderr "$GATHER" --junit "$j" --expect '.status == 200' \
		"$BASE/ok" "$BASE/p/x?a=1&b=<2>\"'" "$BASE/status/500" \
		"http://127.0.0.1:$port/"
	assert_failure 1
	assert_equal "${#lines[@]}" 4
	run xmllint --noout "$j"
	assert_success
	run junit_json "$j"
	assert_success
	assert_jq '.[0].root == "testsuites"'
	assert_jq '.[0].suite | .name == "gather" and .tests == "4" and
		.failures == "2" and .errors == "0" and
		(.time | tonumber) >= 0 and
		(.timestamp | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}$"))'
	assert_jq '.[0].cases | length == 4 and all(.[]; .classname == "gather")'
	assert_jq --arg b "$BASE" --arg c "http://127.0.0.1:$port/" \
		'.[0].cases | map(.name) | sort == ([$b + "/ok", $b +
		"/p/x?a=1&b=<2>\"'"'"'", $b + "/status/500", $c] | sort)'
	assert_jq --arg b "$BASE" '.[0].cases | map(select(.name == $b +
		"/status/500"))[0].failure == {"type": "expectation", "message":
		"expected .status == 200, got false"}'
	assert_jq '.[0].cases | map(select(.failure.type == "connect")) |
		length == 1'
	assert_jq --arg b "$BASE" '.[0].cases | map(select(.name == $b +
		"/p/x?a=1&b=<2>\"'"'"'"))[0].failure == null'
	# Nothing left beside it.
	run ls "$BATS_TEST_TMPDIR"
	refute_output --partial 'report.xml.'
}

@test "junit: control bytes and bad UTF-8 are replaced, the XML stays valid" {
	j="$BATS_TEST_TMPDIR/ctl.xml"
	printf '%s\n' "{\"url\": \"$BASE/p/\\u0001\\u001b\\t&<\"}" \
		>"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" --junit "$j" -i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	run xmllint --noout "$j"
	assert_success
	run junit_json "$j"
	assert_jq --arg b "$BASE" '.[0].cases[0].name == $b + "/p/\ufffd\ufffd &<"'
}

@test "junit: a report after SIGINT and after --deadline" {
	j="$BATS_TEST_TMPDIR/sig.xml"
	reset_stats
	start_bg "$GATHER" --junit "$j" -t 20 "$BASE/ok" "$BASE/hang/ju-sig"
	wait_until 10 hits_at_least /hang/ju-sig 1 ||
		fail "the transfer did not reach the server"
	kill -INT "$BG_PID"
	wait_bg 10
	assert_equal "$BG_STATUS" 130
	run xmllint --noout "$j"
	assert_success
	run junit_json "$j"
	assert_jq '.[0].suite.tests == "2" and .[0].suite.failures == "1"'
	assert_jq '.[0].cases | map(.failure.type) | sort == [null, "cancelled"]'
	run --separate-stderr "$GATHER" --junit "$j" --deadline 1.5 "$BASE/ok" \
		"$BASE/hang/ju-dl"
	assert_failure 1
	run junit_json "$j"
	assert_jq '.[0].cases | map(.failure.type) | sort == [null, "deadline"]'
}

@test "junit: a file that cannot be made is exit 2, nothing fetched" {
	reset_stats
	run --separate-stderr "$GATHER" --junit "$BATS_TEST_TMPDIR/no/such/r.xml" \
		"$BASE/ok"
	assert_usage_error '^gather: --junit: cannot create'
	assert_nothing_fetched
}

@test "junit: with --format tap, a symlink at FILE is replaced, not followed" {
	j="$BATS_TEST_TMPDIR/link.xml"
	echo keep >"$BATS_TEST_TMPDIR/target"
	ln -s "$BATS_TEST_TMPDIR/target" "$j"
	run --separate-stderr "$GATHER" --format tap --junit "$j" "$BASE/ok"
	assert_success
	assert_line --index 1 "ok 1 - $BASE/ok"
	[[ ! -L "$j" ]] || fail "the symlink is still there"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/target")" keep
	run xmllint --noout "$j"
	assert_success
}

@test "junit: memory stays bounded: cases reach the file while the run goes on" {
	j="$BATS_TEST_TMPDIR/big.xml"
	reset_stats
	urls 3000 /p/ju-big >"$BATS_TEST_TMPDIR/in"
	echo "$BASE/hang/ju-big" >>"$BATS_TEST_TMPDIR/in"
	start_bg "$GATHER" -t 20 --junit "$j" -i "$BATS_TEST_TMPDIR/in"
	wait_until 20 hits_at_least /hang/ju-big 1 ||
		fail "the run did not reach its end"
	# The 3000 cases are on disk in the temp file before the run ends.
	tmpf=$(ls "$BATS_TEST_TMPDIR"/big.xml.* 2>/dev/null | head -1)
	[[ -n "$tmpf" ]] || fail "no temp file beside FILE"
	wait_until 10 size_at_least "$tmpf" 200000 ||
		fail "the cases did not reach the temp file: $(wc -c <"$tmpf")"
	[[ ! -e "$j" ]] || fail "FILE exists before the end"
	kill -TERM "$BG_PID"
	wait_bg 10
	run junit_json "$j"
	assert_jq '.[0].suite.tests == "3001" and .[0].suite.failures == "1"'
}

# ---- valgrind -------------------------------------------------------------------

@test "valgrind: --expect, --format tap and --junit are clean with libjq" {
	under_asan && skip "valgrind and ASan do not mix"
	command -v valgrind >/dev/null || skip "valgrind is not installed"
	run --separate-stderr timeout 120 valgrind -q --leak-check=full \
		--error-exitcode=99 --errors-for-leak-kinds=definite,indirect \
		"$GATHER" --format tap --junit "$BATS_TEST_TMPDIR/v.xml" \
		--expect '.status == 200' --expect '.body | fromjson' \
		--retries 2 --retry-delay 0.01 --retry-on expectation \
		"$BASE/ok" "$BASE/status/404"
	assert_failure 1
	[[ "$stderr" != *"definitely lost"* ]] || fail "$stderr"
	[[ "$stderr" != *"Invalid"* ]] || fail "$stderr"
	assert_line --index $((${#lines[@]} - 1)) '1..2'
}

# ---- -o: the expectation decides before NAME exists --------------------------

@test "-o: a failed --expect leaves no NAME and file is null; a pass keeps it" {
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr "$GATHER" -o out --expect '.size == 3000' \
		"$BASE/file/5000" "$BASE/file/3000" "$BASE/file/4000?accept=0"
	assert_failure 1
	assert_jq '.[0] | .ok == false and .error.kind == "expectation" and
		.file == null and .status == 200 and .size == 5000'
	assert_jq '.[1] | .ok and .file == "out/1" and .size == 3000'
	assert_jq '.[2] | .ok == false and .error.kind == "expectation" and
		.file == null'
	cmp out/1 <(curl -q -s "$BASE/file/3000")
	# Only the part that can be continued stays (Accept-Ranges, ETag).
	assert_equal "$(cd out && ls -A | sort | tr '\n' ' ')" "0.part 1 "
	assert_equal "$(stat -c %s out/0.part)" 5000
}

@test "-o: --expect sees the file it names; --hash is null on a miss" {
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr "$GATHER" -o out --hash sha256 \
		--expect '.file == "out/0" and .status == 200' \
		"$BASE/file/2000?accept=0" "$BASE/file/2000?accept=0"
	assert_failure 1
	assert_jq '.[0] | .ok and .file == "out/0" and
		(.hash.sha256 | length) == 64'
	assert_jq '.[1] | .ok == false and .file == null and .hash == null'
	assert_equal "$(ls -A out)" "0"
}

@test "-o: polling with --expect keeps only the passing answer's file" {
	cd "$BATS_TEST_TMPDIR"
	reset_stats
	h3=$(printf 3 | sha256sum | cut -c1-64)
	run --separate-stderr "$GATHER" -o out --hash sha256 --retries 10 \
		--retry-delay 0.01 --retry-on expectation \
		--expect ".hash.sha256 == \"$h3\"" "$BASE/count/oexp-a"
	assert_success
	assert_jq --arg h "$h3" '.[0] | .ok and .attempts == 3 and
		.file == "out/0" and .hash.sha256 == $h'
	assert_equal "$(hits /count/oexp-a)" 3
	assert_equal "$(cat out/0)" 3
	assert_equal "$(ls -A out)" "0"
	# Retries that run out: the last answer fails, and leaves nothing.
	run --separate-stderr "$GATHER" -o out2 --retries 1 \
		--retry-delay 0.01 --retry-on expectation \
		--expect '.size == 2' "$BASE/count/oexp-b"
	assert_failure 1
	assert_jq '.[0] | .ok == false and .attempts == 2 and .file == null'
	assert_equal "$(ls -A out2)" ""
}

@test "--expect: a jq error whose message is no string is quoted as JSON" {
	run --separate-stderr "$GATHER" --expect 'error({"a": 1})' "$BASE/ok"
	assert_failure 1
	assert_jq '.[0].error == {"kind": "expectation",
		"message": "expected error({\"a\": 1}), got jq error: {\"a\":1}"}'
}

@test "--expect reads every JSON value of an id: escaped and long keys, many keys, empty containers, numbers" {
	keys=$(for i in $(seq 0 59); do printf ',"k%d":%d' "$i" "$i"; done)
	line='{"url":"'$BASE'/ok","id":{"a\"b":[-1.5e3,true,false,null,{},[]],"a_key_that_is_longer_than_twenty_four":"x\u00e9"'$keys'}}'
	run --separate-stderr "$GATHER" --expect '.id["a\"b"] == [-1500, true, false, null, {}, []]' \
		--expect '.id.a_key_that_is_longer_than_twenty_four == "xé"' \
		--expect '.id.k59 == 59 and (.id | length) == 62' - <<<"$line"
	assert_success
	assert_jq '.[0] | .ok and .id.k0 == 0'
	run --separate-stderr "$GATHER" --expect '.id.k59 == 58' - <<<"$line"
	assert_failure 1
	assert_jq '.[0].error.message == "expected .id.k59 == 58, got false"'
}
