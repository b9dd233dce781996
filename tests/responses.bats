#!/usr/bin/env bats
# Responses no well-behaved server sends, and what a response may make
# gather do: a folded first header, status lines that are not HTTP, a body
# after HEAD, redirects to another origin, tiny timeouts, compressed bodies
# under --max-body, host names DNS cannot carry, running out of descriptors.

bats_require_minimum_version 1.5.0
load helper

setup_file() { start_server; }
teardown_file() { stop_server; }

# Print N URLs: every tenth (from the sixth on) is $BASE$PATH, the others
# distinct /ok URLs, so that handles and connections are used again.
mixed_urls() {
	awk -v n="$1" -v b="$BASE" -v p="$2" 'BEGIN {
		for (k = 0; k < n; k++)
			if (k % 10 == 5) print b p; else printf "%s/ok?i=%d\n", b, k }'
}

# ---- 1: a folded first header line ----------------------------------------

@test "a folded first header line among normal URLs, -c 1: no crash" {
	mixed_urls 100 /raw/folded >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr timeout 60 "$GATHER" -c 1 -t 10 \
		-i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_strict_jsonl --ordered -n 100
	assert_jq 'all(.[]; if (.url | endswith("/raw/folded"))
		then .ok == false and .error.kind == "other"
		else .ok and .status == 200 and .body == "ok" end)'
}

@test "a folded first header line among normal URLs, -c 32: no crash" {
	mixed_urls 400 /raw/folded >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr timeout 60 "$GATHER" -c 32 -t 10 -I \
		-i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_strict_jsonl --ordered -n 400
	assert_jq 'all(.[]; if (.url | endswith("/raw/folded"))
		then .ok == false and .error.kind == "other"
		else .ok and .status == 200 end)'
}

# ---- 2: status lines that are not HTTP ------------------------------------

@test "status lines that are not HTTP are reset or other, never unsupported_protocol" {
	run --separate-stderr timeout 60 "$GATHER" -c 4 -t 10 \
		"$BASE/raw/bigstatus" "$BASE/raw/negstatus" "$BASE/raw/foo" \
		"$BASE/raw/nostatus" "$BASE/raw/empty" "$BASE/ok"
	assert_failure 1
	assert_strict_jsonl --ordered -n 6
	assert_jq '.[0:5] | all(.[]; .ok == false and
		(.error.kind | IN("reset", "other")))'
	assert_jq '.[5].ok and .[5].status == 200'
}

@test "a protocol --proto refuses is unsupported_protocol naming --proto" {
	run --separate-stderr "$GATHER" --proto http -t 10 "ftp://127.0.0.1/x" \
		"https://127.0.0.1:1/" "$BASE/redirect-to?url=ftp://127.0.0.1/y" \
		"$BASE/ok"
	assert_failure 1
	assert_strict_jsonl --ordered -n 4
	assert_jq '.[0:3] | all(.[]; .error.kind == "unsupported_protocol" and
		(.error.message | contains("--proto")))'
	assert_jq '.[2].error.message | contains("redirect")'
	assert_jq '.[3].ok'
}

# ---- 3: a body after HEAD; -I and lines that look like a status line ------

@test "HEAD answered with a body anyway is ok, by -X and by request object" {
	run --separate-stderr timeout 60 "$GATHER" -c 1 -t 10 -X HEAD \
		"$BASE/raw/headbody" "$BASE/raw/headbody-close" \
		"$BASE/raw/headbody-keep" "$BASE/ok" "$BASE/chunked/100"
	assert_success
	assert_strict_jsonl --ordered -n 5
	assert_jq 'all(.[]; .ok and .status == 200 and .size == 0)'
	printf '{"url": "%s", "method": "HEAD"}\n' "$BASE/raw/headbody" \
		"$BASE/raw/headbody-keep" "$BASE/ok" >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr timeout 60 "$GATHER" -c 1 -t 10 \
		-i "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_strict_jsonl --ordered -n 3
	assert_jq 'all(.[]; .ok and .status == 200 and .size == 0)'
}

@test "-I: a header line starting with HTTP/ does not wipe the headers" {
	run --separate-stderr "$GATHER" -I -t 10 "$BASE/raw/httpline" \
		"$BASE/raw/continue"
	assert_success
	assert_strict_jsonl --ordered -n 2
	assert_jq '.[0].headers["x-a"] == "1" and .[0].headers["x-b"] == "2"'
	# A real second status line (after an interim 100) does start afresh.
	assert_jq '.[1].headers["x-late"] == "2" and
		(.[1].headers | has("x-early") | not)'
}

# ---- 4: redirects to another origin ---------------------------------------

@test "-H headers are not sent to another origin on a redirect" {
	local other="http://localhost:$PORT/echo"
	run --separate-stderr "$GATHER" -t 10 -H 'X-Api-Key: secret' \
		-H 'Authorization: Bearer tok' \
		"$BASE/redirect-to?url=$other" "$BASE/redirect-to?url=/echo"
	assert_success
	assert_strict_jsonl --ordered -n 2
	assert_jq --arg o "$other" '.[0].effective_url == $o and
		.[0].redirects == 1 and (.[0].body | fromjson | .headers |
		has("x-api-key") or has("authorization") | not)'
	# The same origin keeps them.
	assert_jq '.[1].redirects == 1 and (.[1].body | fromjson | .headers |
		.["x-api-key"] == "secret" and .authorization == "Bearer tok")'
}

@test "a request object's headers are not sent to another origin" {
	printf '{"url": "%s", "headers": {"X-Api-Key": "k"}}\n' \
		"$BASE/redirect-to?url=http://localhost:$PORT/echo" \
		"$BASE/redirect-to?url=$BASE/echo" >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -t 10 -i "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_strict_jsonl --ordered -n 2
	assert_jq '(.[0].body | fromjson | .headers | has("x-api-key") | not)
		and (.[1].body | fromjson | .headers["x-api-key"] == "k")'
}

@test "--location-trusted sends -H headers to another origin" {
	run --separate-stderr "$GATHER" -t 10 --location-trusted \
		-H 'X-Api-Key: secret' \
		"$BASE/redirect-to?url=http://localhost:$PORT/echo"
	assert_success
	assert_strict_jsonl --ordered -n 1
	assert_jq '.[0].redirects == 1 and
		(.[0].body | fromjson | .headers["x-api-key"] == "secret")'
}

# ---- 5: timeouts below a millisecond --------------------------------------

@test "-t and a request object's timeout below 1 ms are 1 ms, not no limit" {
	local start
	printf '{"url": "%s", "timeout": 0.0001}\n' "$BASE/delay/6000" \
		>"$BATS_TEST_TMPDIR/in"
	start=$(now)
	run --separate-stderr "$GATHER" -t 0.0004 "$BASE/delay/6000" \
		-i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_strict_jsonl --ordered -n 2
	assert_jq 'all(.[]; .error.kind == "timeout")'
	took=$(since "$start")
	fcmp "$took" "<" 5 || fail "a 1 ms timeout took $took s"
}

# ---- 7: host names over 253 bytes ----------------------------------------

@test "a host name over 253 bytes is invalid_url" {
	local a
	a=$(printf 'a%.0s' {1..300})
	run --separate-stderr "$GATHER" -t 10 "http://$a.localhost:$PORT/ok" \
		"http://$a.nonexistent-tld:$PORT/ok" "$a.localhost:$PORT/ok" \
		"http://u@$a.localhost:$PORT/ok" "$BASE/ok"
	assert_failure 1
	assert_strict_jsonl --ordered -n 5
	assert_jq '.[0:4] | all(.[]; .error.kind == "invalid_url")'
	assert_jq '.[4].ok'
}

# ---- 8: out of file descriptors ------------------------------------------

@test "out of file descriptors is other, 'too many open files', never connect" {
	urls 200 /delay/200 >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr bash -c 'ulimit -n 40 && exec timeout 60 \
		"$GATHER" -c 100 -t 20 -i "$1"' _ "$BATS_TEST_TMPDIR/in"
	assert_strict_jsonl --ordered -n 200
	assert_jq 'all(.[]; .ok or (.error.kind == "other" and
		.error.message == "too many open files"))'
	assert_jq 'any(.[]; .ok | not)'
}
