#!/usr/bin/env bats
# Hostile input and hostile servers, among them responses no well-behaved
# server sends (a folded first header line, status lines that are not
# HTTP, a body after HEAD).  Whatever arrives, gather must not crash or
# hang, must write exactly one record per record read, every line strict
# JSON (valid UTF-8 too: jq alone would quietly repair bad bytes), and
# each failure must carry the error kind it deserves.

bats_require_minimum_version 1.5.0
load helper

setup_file() { start_server; }
teardown_file() { stop_server; }

# How many records gather reads from FILE: trimmed lines that are neither
# empty nor comments (SPEC: Input).
count_records() {
	python3 -c '
import sys
n = 0
for line in open(sys.argv[1], "rb").read().split(b"\n"):
    line = line.strip(b" \t\r")
    if line and not line.startswith(b"#"):
        n += 1
print(n)
' "$1"
}

# Run gather on FILE through a proxy port that nothing listens on, with
# no_proxy cleared: whatever host a random line names, no name is looked up
# and nothing leaves 127.0.0.1; every request that starts fails as connect.
run_via_dead_proxy() {
	local file=$1 port
	shift
	port=$(closed_port)
	run --separate-stderr env -u no_proxy -u NO_PROXY timeout 60 \
		"$GATHER" -x "http://127.0.0.1:$port" -t 5 -c 64 "$@" -i "$file"
}

# Run $BATS_TEST_TMPDIR/in through run_via_dead_proxy and assert N failed
# records, strict JSON, in order, each one passing the jq filter FILTER.
run_random_input() {
	run_via_dead_proxy "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_jsonl --ordered -n "$1"
	assert_jq "all(.[]; .ok == false and ($2))"
}

# ---- hostile input --------------------------------------------------------

@test "100 kB of random bytes: one record per line, all strict JSON" {
	random_seed
	random_bytes 100000 >"$BATS_TEST_TMPDIR/in"
	n=$(count_records "$BATS_TEST_TMPDIR/in")
	run_random_input "$n" '(.url | type == "string") and
		(.error.kind | IN("invalid_url", "bad_input",
		    "unsupported_protocol", "connect"))'
}

@test "random bytes as request objects: bad_input, never a crash" {
	# Lines that start with { and go on with random bytes.
	random_seed
	random_bytes 60000 hex | od -An -v -tx1 | tr -d ' \n' |
		fold -w 120 | sed 's/^/{"url": "/' >"$BATS_TEST_TMPDIR/hex"
	random_bytes 30000 raw | tr '\n' '{' | fold -w 100 |
		sed 's/^/{/' >"$BATS_TEST_TMPDIR/raw"
	cat "$BATS_TEST_TMPDIR/hex" "$BATS_TEST_TMPDIR/raw" >"$BATS_TEST_TMPDIR/in"
	n=$(count_records "$BATS_TEST_TMPDIR/in")
	run_random_input "$n" '.error.kind == "bad_input"'
}

@test "NUL bytes: a URL with a NUL is invalid_url, the NUL kept in url" {
	printf '%s\0/x\n%s\n\0\n \0 \n' "$BASE/ok" "$BASE/ok" \
		>"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_jsonl -n 4
	assert_jq --arg b "$BASE" '
		map(.index) == [0, 1, 2, 3] and
		.[0].url == ($b + "/ok\u0000/x") and
		.[0].error.kind == "invalid_url" and
		.[1].ok and .[1].status == 200 and
		.[2].url == "\u0000" and .[2].error.kind == "invalid_url" and
		.[3].url == "\u0000" and .[3].error.kind == "invalid_url"'
}

@test "a NUL inside a request object's url is not cut off and fetched" {
	# JSON can carry U+0000; the URL as given contains it, so it is not a
	# URL that can be fetched, and url must be what was given.
	printf '{"url": "%s/echo\\u0000/../x"}\n' "$BASE" >"$BATS_TEST_TMPDIR/in"
	reset_stats
	run --separate-stderr "$GATHER" -i "$BATS_TEST_TMPDIR/in"
	assert_jsonl -n 1
	assert_jq '.[0].ok == false and
		(.[0].error.kind | IN("invalid_url", "bad_input"))'
	assert_jq --arg b "$BASE" '.[0].url | . == ($b + "/echo\u0000/../x") or
		startswith("{")'
	assert_equal "$(hits /echo)" 0
}

@test "a 1 MiB line is bad_input named by its first 256 bytes; the run goes on" {
	{
		echo "$BASE/ok?i=0"
		printf 'http://127.0.0.1/'
		head -c 1048576 /dev/zero | tr '\0' 'a'
		echo
		echo "$BASE/ok?i=2"
		printf '{"url": "'
		head -c 1048576 /dev/zero | tr '\0' 'b'
		echo '"}'
		printf '%s' "$BASE/ok?i=4"	# no final newline
	} >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr timeout 30 "$GATHER" -i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_jsonl -n 5
	assert_jq 'map(.index) == [0, 1, 2, 3, 4]'
	assert_jq 'map(.ok) == [true, false, true, false, true]'
	assert_jq '.[1] | .error.kind == "bad_input" and
		(.url | length == 256 and startswith("http://127.0.0.1/aaa"))'
	assert_jq '.[3] | .error.kind == "bad_input" and
		(.url | length == 256 and startswith("{\"url\": \"bbb"))'
	assert_jq '.[4].url | endswith("/ok?i=4")'
}

@test "a 1 MiB line at the end without a newline is one bad_input record" {
	{
		echo "$BASE/ok"
		head -c 1048576 /dev/zero | tr '\0' 'c'
	} >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr timeout 30 "$GATHER" -i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_jsonl -n 2
	assert_jq '.[1] | .error.kind == "bad_input" and (.url | length == 256)'
}

@test "broken request objects are bad_input, one record each" {
	b=$BASE
	deep=$(printf '%*s' 30000 '' | tr ' ' '[')
	printf '%s\n' \
		'{' \
		'{"url":' \
		"{\"url\": \"$b/ok\"" \
		"{\"url\": \"$b/ok\"} trailing" \
		"{\"url\": \"$b/ok\"}{\"url\": \"$b/ok\"}" \
		'{"url": 5}' \
		'{"url": null}' \
		'{"nourl": "x"}' \
		'{}' \
		"{\"url\": \"$b/ok\", \"headers\": 5}" \
		"{\"url\": \"$b/ok\", \"headers\": {\"X\": 1}}" \
		"{\"url\": \"$b/ok\", \"headers\": [\"no colon\"]}" \
		"{\"url\": \"$b/ok\", \"timeout\": -1}" \
		"{\"url\": \"$b/ok\", \"timeout\": \"1\"}" \
		"{\"url\": \"$b/ok\", \"method\": 7}" \
		"{\"url\": \"$b/ok\", \"unknown\": 1}" \
		"{\"url\": \"$b/ok\", \"id\": $deep" \
		"{\"url\": \"$b/ok\", \"id\": \"\\ud800\"}" \
		"{\"url\": \"$b/ok\", \"id\": \"\\u12\"}" \
		"{\"url\": \"$b/ok\", \"id\": 1e999999}" \
		"{\"url\": \"$b/ok\", \"id\": [1, 2,]}" \
		"{\"url\": \"$b/ok\", \"url\": 3}" \
		"{\"url\": \"$b/ok\"}" \
		>"$BATS_TEST_TMPDIR/in"
	n=$(count_records "$BATS_TEST_TMPDIR/in")
	run --separate-stderr timeout 30 "$GATHER" -i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_jsonl -n "$n"
	assert_jq 'map(.index) == [range(length)]'
	# Every broken one is bad_input; the last line is a good object.  Two
	# are not broken JSON: 1e999999 (a number too large for a double:
	# cJSON makes it infinity, printed as null) and a repeated "url" key
	# (the first one counts).
	assert_jq '.[:-1] | map(select(.error.kind != "bad_input")) |
		map(.index) - [19, 21] == []'
	assert_jq '.[-1] | .ok and .status == 200'
	assert_jq '.[:-1] | map(select(.error != null)) | all(.[];
		(.error.message | type == "string" and length > 0) and
		.attempts <= 1 and .status == null)'
}

@test "raw bytes that are not UTF-8 inside a request object stay out of the output" {
	# The id is echoed back: invalid UTF-8 in it must not reach stdout raw.
	printf '{"url": "%s/ok", "id": "caf\xe9 \xff"}\n{"url": "%s/ok", "id": {"k\xc3\x28": [1, "\xfe"]}}\n{"url": "%s/ok\xff"}\n' \
		"$BASE" "$BASE" "$BASE" >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -i "$BATS_TEST_TMPDIR/in"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out"
	assert_jsonl -f "$BATS_TEST_TMPDIR/out" -n 3
}

@test "URLs with spaces, CR or LF inside are invalid_url, never sent" {
	reset_stats
	b=$BASE
	{
		printf '%s\n' "$b/echo?a=b c" "$b/ec ho" "$b/echo?x=%0d%0aX-Injected: 1"
		printf '{"url": "%s/echo\\r\\nX-Injected: 1"}\n' "$b"
		printf '{"url": "%s/echo HTTP/1.1\\r\\nX-Injected: 1\\r\\n"}\n' "$b"
		printf '{"url": "%s/echo\\nX-Injected: 1"}\n' "$b"
		printf '{"url": "http://127.0.0.1:%s\\r\\nX-Injected: 1/echo"}\n' "$PORT"
		# A lone CR inside a plain line (CRs are trimmed only at the ends).
		printf '%s/echo\rX-Injected: 1\n' "$b"
	} >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_jsonl -n 8
	assert_jq 'all(.[]; .ok == false and .error.kind == "invalid_url")'
	assert_jq 'map(.url | test("\r") or test("\n") or test(" ")) | all'
	assert_equal "$(hits /echo)" 0
	assert_equal "$(stat_field requests)" 0
}

@test "header injection through a request object is refused" {
	reset_stats
	b=$BASE
	{
		printf '{"url": "%s/echo", "headers": {"X-A": "v\\r\\nX-Injected: 1"}}\n' "$b"
		printf '{"url": "%s/echo", "headers": {"X-A": "v\\nX-Injected: 1"}}\n' "$b"
		printf '{"url": "%s/echo", "headers": ["X-A: v\\r\\nX-Injected: 1"]}\n' "$b"
		printf '{"url": "%s/echo", "headers": {"X-Injected: 1\\r\\nX-B": "v"}}\n' "$b"
		printf '{"url": "%s/echo", "headers": {"X-A\\r\\nX-Injected": "1"}}\n' "$b"
		printf '{"url": "%s/echo", "method": "GET /x HTTP/1.1\\r\\nX-Injected: 1\\r\\n"}\n' "$b"
		printf '{"url": "%s/echo", "method": "GET\\r\\nX-Injected: 1"}\n' "$b"
		printf '{"url": "%s/echo", "headers": {"X-A": "v\\u0000\\r\\nX-Injected: 1"}}\n' "$b"
		# A good one, to show the server would have told.
		printf '{"url": "%s/echo", "headers": {"X-Fine": "yes"}}\n' "$b"
	} >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" --body json -i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_jsonl -n 9
	assert_jq '.[-1] | .ok and .body.headers["x-fine"] == "yes"'
	# No request carried an injected header...
	assert_jq 'all(.[]; (.body.headers["x-injected"]? // null) == null)'
	# ...because none of the bad ones was sent at all.
	assert_jq '.[:-1] | all(.[]; .ok == false and .error.kind == "bad_input")'
	assert_equal "$(hits /echo)" 1
}

@test "header injection through the command line is a usage error" {
	reset_stats
	args=(-H $'X-A: v\r\nX-Injected: 1' -H $'X-A: a\nX-B: b'
		-A $'ua\r\nX-Injected: 1' -X $'GET\r\nX-Injected: 1')
	for ((k = 0; k < ${#args[@]}; k += 2)); do
		# One line, whatever the value holds.
		gather_usage_error "${args[k]}" "${args[k + 1]}" "$BASE/echo"
	done
	assert_nothing_fetched
}

# ---- hostile servers ------------------------------------------------------

@test "hostile servers: each failure has its kind, nothing hangs" {
	reset_stats
	t=$(now)
	run --separate-stderr timeout 60 "$GATHER" -t 1.5 --max-body 1M \
		"$BASE/reset" \
		"$BASE/empty" \
		"$BASE/hang/hostile" \
		"$BASE/drip/1000?ms=50" \
		"$BASE/endless" \
		"$BASE/badchunk" \
		"$BASE/bomb/104857600" \
		"$BASE/bigheader/200000" \
		"$BASE/short/2000" \
		"$BASE/badgzip" \
		"$BASE/ok"
	took=$(since "$t")
	assert_failure 1
	assert_jsonl -n 11
	assert_jq 'map(.index) == [range(11)]'
	# RST while waiting for the answer: a receive failure (56) = reset.
	assert_jq '.[0] | .error.kind == "reset" and .error.curl_code == 56'
	# Closed without a byte: curl's 52 "empty reply" = reset (SPEC).
	assert_jq '.[1] | .error.kind == "reset" and .error.curl_code == 52'
	# No answer within -t: timeout (28), no status.
	assert_jq '.[2] | .error.kind == "timeout" and .error.curl_code == 28 and
		.status == null'
	# Headers came, the body drips slower than -t allows: timeout, with
	# the status and the bytes that did arrive.
	assert_jq '.[3] | .error.kind == "timeout" and .status == 200 and
		.size > 0 and .size < 1000'
	# An endless body stops at --max-body: too_large, no more than 1 MiB.
	assert_jq '.[4] | .error.kind == "too_large" and .size <= 1048576'
	# A chunk size that is not hex: libcurl reports a receive error (56),
	# which gather files under reset.
	assert_jq '.[5] | .ok == false and .error.curl_code == 56 and
		(.error.kind | IN("reset", "other"))'
	# 100 MiB of zeros in 100 kB of gzip: the decoded bytes pass
	# --max-body: too_large, and the body is never built in full.
	assert_jq '.[6] | .error.kind == "too_large" and .size <= 1048576'
	# A 200 kB header line: libcurl refuses headers over 100 kB (it says
	# "out of memory", 27); any kind but a success or a crash will do,
	# other or too_large being the honest ones.
	assert_jq '.[7] | .ok == false and (.error.kind | IN("other", "too_large"))'
	# Content-Length 2000, 1000 bytes, then close: curl 18, a cut-off
	# transfer = reset.
	assert_jq '.[8] | .error.kind == "reset" and .error.curl_code == 18 and
		.size == 1000'
	# Content-Encoding gzip on bytes that are not gzip: curl 61, other.
	assert_jq '.[9] | .ok == false and .error.curl_code == 61 and
		.error.kind == "other"'
	assert_jq '.[10] | .ok and .body == "ok"'
	fcmp "$took" '<' 20 || fail "took $took s"
}

@test "hostile servers under --retries: retried kinds, bounded time" {
	reset_stats
	t=$(now)
	run --separate-stderr timeout 60 "$GATHER" -t 0.5 --retries 2 \
		--retry-delay 0.01 --retry-max-delay 0.01 --max-body 100k \
		"$BASE/reset" "$BASE/hang/hostile-r" "$BASE/endless" \
		"$BASE/bomb/10485760" "$BASE/drip/100?ms=50"
	took=$(since "$t")
	assert_failure 1
	assert_jsonl -n 5
	assert_jq 'map(.error.kind) == ["reset", "timeout", "too_large",
		"too_large", "timeout"]'
	# reset and timeout are transient, too_large is not.
	assert_jq 'map(.attempts) == [3, 3, 1, 1, 3]'
	assert_equal "$(hits /reset)" 3
	assert_equal "$(hits /endless)" 1
	fcmp "$took" '<' 15 || fail "took $took s"
}

@test "a 200 kB header with -I: a failure record, still strict JSON" {
	run --separate-stderr timeout 30 "$GATHER" -I "$BASE/bigheader/200000" \
		"$BASE/bigheader/60000"
	assert_failure 1
	assert_jsonl -n 2
	assert_jq '.[0].ok == false'
	assert_jq '.[1] | .ok and (.headers["x-big"] | length == 60000)'
}

@test "response headers that are not UTF-8 with -I: strict JSON out" {
	run --separate-stderr "$GATHER" -I "$BASE/latin1-header"
	assert_success
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out"
	assert_jsonl -f "$BATS_TEST_TMPDIR/out" -n 1
	run jq -e '.[0]? // . | .headers["x-plain"] == "yes" and
		(.headers["x-latin"] | type == "string" and startswith("caf"))' \
		"$BATS_TEST_TMPDIR/out"
	assert_success
}

@test "--body json on JSON whose strings are not UTF-8: strict JSON out" {
	# cJSON parses raw bytes inside strings; embedding that tree would
	# write them raw.  Expected: the body falls back to auto (base64).
	run --separate-stderr "$GATHER" --body json "$BASE/latin1-json" \
		"$BASE/json"
	assert_success
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out"
	assert_jsonl -f "$BATS_TEST_TMPDIR/out" -n 2
	run jq -s -e '.[1].body_encoding == "json" and .[1].body.hello == "world"
		and .[0].size == 29 and .[0].body_encoding == "base64"' \
		"$BATS_TEST_TMPDIR/out"
	assert_success
}

@test "bodies of every byte value: strict JSON in each --body mode" {
	for mode in auto text base64 json; do
		run --separate-stderr "$GATHER" --body "$mode" "$BASE/bytes/256" \
			"$BASE/bytes/70000" "$BASE/utf8" "$BASE/json"
		assert_success
		assert_jsonl -n 4
	done
}

@test "many hostile records at once with -c 64: one record each, in order" {
	port=$(closed_port)
	{
		for i in $(seq 0 19); do
			echo "$BASE/reset?i=$i"
			echo "$BASE/empty?i=$i"
			echo "$BASE/badchunk?i=$i"
			echo "$BASE/short/100?i=$i"
			echo "http://127.0.0.1:$port/?i=$i"
			echo "$BASE/hang/many?i=$i"
			echo "{\"url\": \"$BASE/ok?i=$i\", \"id\": $i}"
			printf 'not a url %d\n' "$i"
			printf '{"url": broken %d\n' "$i"
			echo "$BASE/ok?i=$i"
		done
	} >"$BATS_TEST_TMPDIR/in"
	t=$(now)
	run --separate-stderr timeout 60 "$GATHER" -c 64 -t 1 \
		-i "$BATS_TEST_TMPDIR/in"
	took=$(since "$t")
	assert_failure 1
	assert_jsonl -n 200
	assert_jq 'map(.index) == [range(200)]'
	assert_jq '[.[] | .error.kind] | group_by(.) |
		map({(.[0] // "ok"): length}) | add ==
		{"ok": 40, "reset": 80, "connect": 20, "timeout": 20,
		 "invalid_url": 20, "bad_input": 20}'
	assert_jq 'map(select(.id != null) | .id) == [range(20)]'
	fcmp "$took" '<' 20 || fail "took $took s"
}

# ---- responses no well-behaved server sends ------------------------------

# Print N URLs: every tenth (from the sixth on) is $BASE$PATH, the others
# distinct /ok URLs, so that handles and connections are used again.
mixed_urls() {
	awk -v n="$1" -v b="$BASE" -v p="$2" 'BEGIN {
		for (k = 0; k < n; k++)
			if (k % 10 == 5) print b p; else printf "%s/ok?i=%d\n", b, k }'
}

@test "a folded first header line among normal URLs, -c 1: no crash" {
	mixed_urls 100 /raw/folded >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr timeout 60 "$GATHER" -c 1 -t 10 \
		-i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_jsonl --ordered -n 100
	assert_jq 'all(.[]; if (.url | endswith("/raw/folded"))
		then .ok == false and .error.kind == "other"
		else .ok and .status == 200 and .body == "ok" end)'
}

@test "a folded first header line among normal URLs, -c 32: no crash" {
	mixed_urls 400 /raw/folded >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr timeout 60 "$GATHER" -c 32 -t 10 -I \
		-i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_jsonl --ordered -n 400
	assert_jq 'all(.[]; if (.url | endswith("/raw/folded"))
		then .ok == false and .error.kind == "other"
		else .ok and .status == 200 end)'
}

@test "status lines that are not HTTP are reset or other, never unsupported_protocol" {
	run --separate-stderr timeout 60 "$GATHER" -c 4 -t 10 \
		"$BASE/raw/bigstatus" "$BASE/raw/negstatus" "$BASE/raw/foo" \
		"$BASE/raw/nostatus" "$BASE/raw/empty" "$BASE/ok"
	assert_failure 1
	assert_jsonl --ordered -n 6
	assert_jq '.[0:5] | all(.[]; .ok == false and
		(.error.kind | IN("reset", "other")))'
	assert_jq '.[5].ok and .[5].status == 200'
}

@test "HEAD answered with a body anyway is ok, by -X and by request object" {
	run --separate-stderr timeout 60 "$GATHER" -c 1 -t 10 -X HEAD \
		"$BASE/raw/headbody" "$BASE/raw/headbody-close" \
		"$BASE/raw/headbody-keep" "$BASE/ok" "$BASE/chunked/100"
	assert_success
	assert_jsonl --ordered -n 5
	assert_jq 'all(.[]; .ok and .status == 200 and .size == 0)'
	printf '{"url": "%s", "method": "HEAD"}\n' "$BASE/raw/headbody" \
		"$BASE/raw/headbody-keep" "$BASE/ok" >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr timeout 60 "$GATHER" -c 1 -t 10 \
		-i "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_jsonl --ordered -n 3
	assert_jq 'all(.[]; .ok and .status == 200 and .size == 0)'
}

@test "-I: a header line starting with HTTP/ does not wipe the headers" {
	run --separate-stderr "$GATHER" -I -t 10 "$BASE/raw/httpline" \
		"$BASE/raw/continue"
	assert_success
	assert_jsonl --ordered -n 2
	assert_jq '.[0].headers["x-a"] == "1" and .[0].headers["x-b"] == "2"'
	# A real second status line (after an interim 100) does start afresh.
	assert_jq '.[1].headers["x-late"] == "2" and
		(.[1].headers | has("x-early") | not)'
}
