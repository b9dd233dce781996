#!/usr/bin/env bats
# One transfer and its record: the fields of a success, HTTP error statuses,
# and how each way a transfer can fail is reported.

bats_require_minimum_version 1.5.0
load helper

setup_file() { start_server; }
teardown_file() { stop_server; }

@test "a 200 gives a record with every field filled in" {
	run --separate-stderr "$GATHER" "$BASE/utf8"
	assert_success
	assert_equal "${#lines[@]}" 1
	assert_jq --arg u "$BASE/utf8" '.[0] |
		.index == 0 and .url == $u and .ok == true and
		.status == 200 and .http_version == "1.1" and
		.effective_url == $u and .redirects == 0 and
		.content_type == "text/plain; charset=utf-8" and
		.size == 33 and
		.body == "h\u00e9llo w\u00f6rld \u2014 \u65e5\u672c\u8a9e \ud83c\udf89\n" and
		.body_encoding == "utf-8" and
		.attempts == 1 and .error == null'
	# No optional fields that were not asked for.
	assert_jq '.[0] | (has("id") or has("headers") or has("file")) | not'
	# time: six non-negative numbers that add up sensibly.
	assert_jq '.[0].time |
		(keys | sort) == ["connect", "dns", "queue", "tls", "total", "ttfb"] and
		all(.[]; type == "number" and . >= 0) and
		.ttfb <= .total and .connect <= .ttfb and .total < 5'
}

@test "size counts bytes, not characters" {
	run --separate-stderr "$GATHER" "$BASE/utf8" "$BASE/size/0" "$BASE/size/12345"
	assert_success
	assert_jq 'map(.size) == [33, 0, 12345]'
	assert_jq '.[1].body == "" and .[1].body_encoding == "utf-8"'
	assert_jq '.[2].body | length == 12345'
}

@test "an HTTP error status is a completed transfer" {
	run --separate-stderr "$GATHER" "$BASE/status/404" "$BASE/status/500" \
		"$BASE/nowhere"
	assert_success
	assert_jq 'map(.ok) == [true, true, true]'
	assert_jq 'map(.status) == [404, 500, 404]'
	assert_jq 'map(.error) == [null, null, null]'
	assert_jq '.[0].body == "status 404" and .[2].body == "not found"'
}

@test "a refused connection is error kind connect with curl code 7" {
	port=$(closed_port)
	run --separate-stderr "$GATHER" "http://127.0.0.1:$port/x"
	assert_failure 1
	assert_jq --arg u "http://127.0.0.1:$port/x" '.[0] |
		.index == 0 and .url == $u and .ok == false and
		.status == null and .error.kind == "connect" and
		.error.curl_code == 7 and
		(.error.message | type == "string" and length > 0) and
		.attempts == 1 and .size == 0'
}

@test "-t ends a hung transfer as timeout while the others succeed" {
	t=$(now)
	run --separate-stderr "$GATHER" -t 0.5 \
		"$BASE/ok" "$BASE/hang" "$BASE/delay/100" "$BASE/size/10"
	took=$(since "$t")
	assert_failure 1
	assert_equal "${#lines[@]}" 4
	assert_jq 'map(.ok) == [true, false, true, true]'
	assert_jq '.[1].error.kind == "timeout" and .[1].error.curl_code == 28'
	assert_jq '.[1].status == null'
	# The limit is 0.5 s: the record says about that, the run is short.
	assert_jq '.[1].time.total >= 0.4 and .[1].time.total < 3'
	fcmp "$took" '<' 5 || fail "run took $took s"
}

@test "-t limits the whole transfer, even while bytes keep coming" {
	t=$(now)
	run --separate-stderr "$GATHER" -t 0.5 "$BASE/drip/100?ms=100"
	took=$(since "$t")
	assert_failure 1
	assert_jq '.[0].ok == false and .[0].error.kind == "timeout"'
	assert_jq '.[0].size < 100'
	fcmp "$took" '<' 5 || fail "run took $took s"
}

@test "-t with a fraction larger than the transfer lets it finish" {
	run --separate-stderr "$GATHER" -t 1.5 "$BASE/delay/300"
	assert_success
	assert_jq '.[0].ok and .[0].body == "delay 300"'
}

@test "-t and a request object's timeout below 1 ms are 1 ms, not no limit" {
	local start
	printf '{"url": "%s", "timeout": 0.0001}\n' "$BASE/delay/6000" \
		>"$BATS_TEST_TMPDIR/in"
	start=$(now)
	run --separate-stderr "$GATHER" -t 0.0004 "$BASE/delay/6000" \
		-i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_jsonl --ordered -n 2
	assert_jq 'all(.[]; .error.kind == "timeout")'
	took=$(since "$start")
	fcmp "$took" "<" 5 || fail "a 1 ms timeout took $took s"
}

@test "a connection reset and an empty reply are error kind reset" {
	run --separate-stderr "$GATHER" "$BASE/reset" "$BASE/empty" "$BASE/ok"
	assert_failure 1
	assert_jq 'map(.ok) == [false, false, true]'
	assert_jq '.[0].error.kind == "reset" and .[1].error.kind == "reset"'
	assert_jq '.[0].error.curl_code == 56 and .[1].error.curl_code == 52'
	assert_jq '.[0].status == null and .[1].status == null'
}

@test "chunked and unframed bodies arrive complete" {
	run --separate-stderr "$GATHER" "$BASE/chunked/5500" "$BASE/nolength/3000" \
		"$BASE/chunked/0"
	assert_success
	assert_jq 'map(.size) == [5500, 3000, 0]'
	assert_jq '.[0].body == ("a" * 5500) and .[1].body == ("a" * 3000)'
}

@test "a line without a scheme gets http://" {
	run --separate-stderr "$GATHER" "127.0.0.1:$PORT/ok"
	assert_success
	assert_jq --arg u "127.0.0.1:$PORT/ok" --arg e "$BASE/ok" '.[0] |
		.url == $u and .ok and .status == 200 and .effective_url == $e'
}

@test "transfers to one server reuse connections" {
	reset_stats
	urls 50 /ok >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -c 1 -i "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$(stat_field requests)" 50
	conns=$(stat_field connections)
	((conns <= 2)) || fail "50 sequential requests used $conns connections"
	# A fresh easy handle per transfer (DESIGN: the stale-header trap)
	# still reuses the multi handle's connections.
	reset_stats
	urls 200 /ok >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -c 4 -i "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_jsonl --ordered -n 200
	assert_equal "$(stat_field requests)" 200
	conns=$(stat_field connections)
	((conns <= 8)) || fail "200 requests at -c 4 took $conns connections"
}
