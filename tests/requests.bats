#!/usr/bin/env bats
# What is sent: -X, -H, -d, -A, request objects and their fields,
# redirects, --proto and compression, checked through what the test
# server received (/echo, /header-list, /rawbody).

bats_require_minimum_version 1.5.0
load helper

setup_file() { start_server; }
teardown_file() { stop_server; }

# A listener left running by a failed test must not outlive it.
teardown() {
	if [[ -n "${LPID:-}" ]]; then
		kill "$LPID" 2>/dev/null || true
		wait "$LPID" 2>/dev/null || true
	fi
}

# Print the request /echo saw in record INDEX of $output, as compact JSON.
echoed() {
	rec "$1" '.body | fromjson'
}

# Print how many headers named NAME (any case) /header-list saw in record
# INDEX of $output, and their values: "2 a,b".
sent_header() {
	rec "$1" ".body | fromjson | map(select(.[0] | ascii_downcase ==
		(\"$2\" | ascii_downcase))) | \"\\(length) \\(map(.[1]) | join(\",\"))\"" |
		jq -r .
}

# Start a TCP listener on 127.0.0.1:$LPORT that counts the connections made
# to it; listener_count stops it and prints the count.  A last connection
# that says SENTINEL ends it: accepted in order, it comes after any other.
start_listener() {
	python3 -c 'import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
s.settimeout(60)
n = 0
try:
    while True:
        c, _ = s.accept()
        c.settimeout(2)
        try:
            data = c.recv(64)
        except OSError:
            data = b""
        c.close()
        if data.startswith(b"SENTINEL"):
            break
        n += 1
finally:
    # Written however the loop ended, so that a count is always there
    # to compare (an accept that timed out still counts what came).
    open(sys.argv[1], "w").write("%d\n" % n)' "$BATS_TEST_TMPDIR/lcount" \
		3>&- >"$BATS_TEST_TMPDIR/lport" &
	LPID=$!
	for ((i = 0; i < 1500; i++)); do
		[[ -s "$BATS_TEST_TMPDIR/lport" ]] && break
		sleep 0.02
	done
	LPORT=$(<"$BATS_TEST_TMPDIR/lport")
}

listener_count() {
	local i
	printf 'SENTINEL\n' >"/dev/tcp/127.0.0.1/$LPORT"
	# Called inside $(...), where the listener is no child to wait for:
	# wait for its count instead (teardown stops it in any case).
	for ((i = 0; i < 1500; i++)); do
		[[ -s "$BATS_TEST_TMPDIR/lcount" ]] && break
		sleep 0.02
	done
	cat "$BATS_TEST_TMPDIR/lcount"
}

# ---- -X, -H, -d, -A --------------------------------------------------------

@test "GET by default; -X and --request set the method" {
	run --separate-stderr "$GATHER" "$BASE/echo"
	assert_success
	assert_jq '.[0].body | fromjson | .method == "GET" and .body == "" and
		(.headers | has("content-length") | not)'
	run --separate-stderr "$GATHER" -X PUT "$BASE/echo"
	assert_success
	assert_jq '.[0].body | fromjson | .method == "PUT"'
	run --separate-stderr "$GATHER" --request DELETE "$BASE/echo" "$BASE/echo"
	assert_success
	assert_jq 'map(.body | fromjson | .method) == ["DELETE", "DELETE"]'
	run --separate-stderr "$GATHER" -XPATCH "$BASE/echo"
	assert_success
	assert_jq '.[0].body | fromjson | .method == "PATCH"'
}

@test "-X HEAD gets the status and no body, without waiting for one" {
	t=$(now)
	run --separate-stderr "$GATHER" -t 5 -X HEAD "$BASE/size/100"
	took=$(since "$t")
	assert_success
	assert_jq '.[0] | .ok and .status == 200 and .size == 0'
	fcmp "$took" '<' 3 || fail "HEAD took $took s"
}

@test "an invalid method is a usage error" {
	gather_usage_error -X 'G T' "$BASE/ok"
}

@test "-H adds headers, repeatable, each sent once with its value" {
	run --separate-stderr "$GATHER" -H 'X-One: 1' --header 'X-Two: two words' \
		-H 'X-Three:3' "$BASE/header-list"
	assert_success
	assert_equal "$(sent_header 0 x-one)" "1 1"
	assert_equal "$(sent_header 0 x-two)" "1 two words"
	assert_equal "$(sent_header 0 x-three)" "1 3"
}

@test "-H replaces a default header of the same name" {
	run --separate-stderr "$GATHER" -H 'Accept: text/x-test' \
		-H 'User-Agent: by-header' "$BASE/header-list"
	assert_success
	assert_equal "$(sent_header 0 accept)" "1 text/x-test"
	assert_equal "$(sent_header 0 user-agent)" "1 by-header"
}

@test "-H Content-Type with -d replaces the form type: one is sent" {
	run --separate-stderr "$GATHER" -H 'Content-Type: application/json' \
		-d '{"a":1}' "$BASE/header-list"
	assert_success
	assert_equal "$(sent_header 0 content-type)" "1 application/json"
	assert_equal "$(sent_header 0 content-length)" "1 7"
}

@test "-H without a colon or with a bad name is a usage error" {
	# With CR or LF: hostile.bats, header injection.
	for h in 'NoColon' 'Bad Name: x'; do
		gather_usage_error -H "$h" "$BASE/ok"
	done
}

@test "-d sends a form body with POST by default" {
	run --separate-stderr "$GATHER" -d 'a=1&b=x y' "$BASE/echo"
	assert_success
	assert_jq '.[0].body | fromjson | .method == "POST" and
		.body == "a=1&b=x y" and
		.headers["content-length"] == "9" and
		.headers["content-type"] == "application/x-www-form-urlencoded"'
}

@test "repeated -d are joined with &, and --data is -d" {
	run --separate-stderr "$GATHER" -d a=1 --data b=2 -d c=3 "$BASE/echo"
	assert_success
	assert_jq '.[0].body | fromjson | .method == "POST" and
		.body == "a=1&b=2&c=3"'
}

@test "-X with -d sends that method with the body" {
	run --separate-stderr "$GATHER" -X PUT -d payload "$BASE/echo"
	assert_success
	assert_jq '.[0].body | fromjson | .method == "PUT" and .body == "payload"'
}

@test "-d @file sends the file's bytes unchanged: NUL, CR LF, high bytes" {
	f="$BATS_TEST_TMPDIR/data.bin"
	printf 'a\0b\r\nc\n\r\xff\xfe\0\0end\r\n' >"$f"
	random_seed
	random_bytes 3000 >>"$f"
	printf '\n\n' >>"$f"
	run --separate-stderr "$GATHER" --body base64 -d "@$f" "$BASE/rawbody"
	assert_success
	assert_jq --argjson n "$(wc -c <"$f")" '.[0] | .ok and .status == 200 and
		.size == $n'
	rec 0 .body | jq -r . | base64 -d >"$BATS_TEST_TMPDIR/got.bin"
	cmp "$f" "$BATS_TEST_TMPDIR/got.bin"
	# POST by default, as with -d DATA.
	run --separate-stderr "$GATHER" -d "@$f" "$BASE/echo"
	assert_success
	assert_jq --arg n "$(wc -c <"$f")" '.[0].body | fromjson |
		.method == "POST" and .headers["content-length"] == $n'
}

@test "-d @file joins with other -d by &" {
	printf 'x=\0\r\n' >"$BATS_TEST_TMPDIR/part"
	run --separate-stderr "$GATHER" --body base64 -d a=1 \
		-d "@$BATS_TEST_TMPDIR/part" -d z "$BASE/rawbody"
	assert_success
	rec 0 .body | jq -r . | base64 -d >"$BATS_TEST_TMPDIR/got"
	printf 'a=1&x=\0\r\n&z' >"$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

@test "-d @missing is a usage error and fetches nothing" {
	reset_stats
	gather_usage_error -d "@$BATS_TEST_TMPDIR/missing" "$BASE/ok"
	assert_nothing_fetched
}

@test "-A and --user-agent set the User-Agent" {
	run --separate-stderr "$GATHER" -A 'my agent/1.0' "$BASE/header-list"
	assert_success
	assert_equal "$(sent_header 0 user-agent)" "1 my agent/1.0"
	run --separate-stderr "$GATHER" --user-agent x "$BASE/header-list"
	assert_success
	assert_equal "$(sent_header 0 user-agent)" "1 x"
}

@test "the default User-Agent is gather/ and the version -V prints first" {
	version=$("$GATHER" -V | head -n 1 | awk '{ print $2 }')
	[[ "$version" =~ ^[0-9]+\.[0-9]+ ]] || fail "-V printed no version: $version"
	run --separate-stderr "$GATHER" "$BASE/header-list"
	assert_success
	assert_equal "$(sent_header 0 user-agent)" "1 gather/$version"
}

@test "User-Agent and Accept-Encoding are each sent once: by default, after a redirect to another origin, with -H elsewhere" {
	version=$("$GATHER" -V | head -n 1 | awk '{ print $2 }')
	# What libcurl asks for itself: every coding it decodes, in its order.
	ae=$(curl -q -s --compressed "$BASE/header-list" |
		jq -r 'map(select(.[0] | ascii_downcase == "accept-encoding")) |
		.[0][1]')
	[[ "$ae" == *gzip* ]] || fail "curl asked for '$ae'"
	local other="http://localhost:$PORT/header-list"
	run --separate-stderr "$GATHER" -t 10 "$BASE/header-list" \
		"$BASE/redirect-to?url=$other"
	assert_success
	for i in 0 1; do
		assert_equal "$(sent_header $i user-agent)" "1 gather/$version"
		assert_equal "$(sent_header $i accept-encoding)" "1 $ae"
	done
	# -H keeps its headers to their origin; another one gets the defaults.
	run --separate-stderr "$GATHER" -t 10 -H 'User-Agent: mine' \
		-H 'Accept-Encoding: gzip' -H 'X-Key: k' \
		"$BASE/header-list" "$BASE/redirect-to?url=$other"
	assert_success
	assert_equal "$(sent_header 0 user-agent)" "1 mine"
	assert_equal "$(sent_header 0 accept-encoding)" "1 gzip"
	assert_equal "$(sent_header 1 user-agent)" "1 gather/$version"
	assert_equal "$(sent_header 1 accept-encoding)" "1 $ae"
	assert_equal "$(sent_header 1 x-key)" "0 "
	# A body does not change them.
	run --separate-stderr "$GATHER" -d x=1 -A 'with body' "$BASE/header-list"
	assert_success
	assert_equal "$(sent_header 0 user-agent)" "1 with body"
	assert_equal "$(sent_header 0 accept-encoding)" "1 $ae"
}

@test "-A '' and -H 'User-Agent:' send no User-Agent; -H 'User-Agent;' an empty one" {
	run --separate-stderr "$GATHER" -A '' "$BASE/header-list"
	assert_success
	assert_equal "$(sent_header 0 user-agent)" "0 "
	run --separate-stderr "$GATHER" -H 'User-Agent:' -H 'Accept-Encoding:' \
		"$BASE/header-list"
	assert_success
	assert_equal "$(sent_header 0 user-agent)" "0 "
	assert_equal "$(sent_header 0 accept-encoding)" "0 "
	run --separate-stderr "$GATHER" -H 'User-Agent;' "$BASE/header-list"
	assert_success
	assert_equal "$(sent_header 0 user-agent)" "1 "
}

@test "a request object's User-Agent and Accept-Encoding replace the defaults" {
	run --separate-stderr "$GATHER" "{\"url\": \"$BASE/header-list\",
		\"headers\": {\"User-Agent\": \"obj/1\",
		\"Accept-Encoding\": \"gzip\"}}" "$BASE/gzip/100"
	assert_success
	assert_equal "$(sent_header 0 user-agent)" "1 obj/1"
	assert_equal "$(sent_header 0 accept-encoding)" "1 gzip"
	assert_jq '.[1] | .size == 100 and .body == ("a" * 100)'
}

# ---- request objects --------------------------------------------------------

@test "a request object sets url, method, headers and body" {
	run --separate-stderr "$GATHER" \
		"{\"url\": \"$BASE/echo\", \"method\": \"PUT\",
		  \"headers\": {\"X-Obj\": \"o\", \"X-Two\": \"t\"},
		  \"body\": \"h\u00e9 \\\"q\\\"\\n\"}"
	assert_success
	assert_jq --arg u "$BASE/echo" '.[0] | .url == $u and .ok and
		(has("id") | not) and
		(.body | fromjson | .method == "PUT" and .body == "hé \"q\"\n" and
		 .headers["x-obj"] == "o" and .headers["x-two"] == "t")'
}

@test "headers may be an array of \"Name: value\" strings" {
	run --separate-stderr "$GATHER" \
		"{\"url\": \"$BASE/header-list\", \"headers\": [\"X-A: 1\", \"X-B:two\"]}"
	assert_success
	assert_equal "$(sent_header 0 x-a)" "1 1"
	assert_equal "$(sent_header 0 x-b)" "1 two"
}

@test "a body that is not a string is sent as its JSON text" {
	run --separate-stderr "$GATHER" \
		"{\"url\": \"$BASE/echo\", \"body\": {\"a\": [1, 2.5, \"x\"], \"b\": null}}" \
		"{\"url\": \"$BASE/echo\", \"body\": [true, false]}" \
		"{\"url\": \"$BASE/echo\", \"body\": 42}"
	assert_success
	assert_jq 'map(.body | fromjson | .body | fromjson) ==
		[{"a": [1, 2.5, "x"], "b": null}, [true, false], 42]'
	# With a body and no method, the method is POST, as with -d.
	assert_jq 'map(.body | fromjson | .method) == ["POST", "POST", "POST"]'
}

@test "a string body is sent as is, NUL and all" {
	run --separate-stderr "$GATHER" --body base64 \
		"{\"url\": \"$BASE/rawbody\", \"body\": \"a\\u0000b\\r\\n\\u00e9\"}"
	assert_success
	rec 0 .body | jq -r . | base64 -d >"$BATS_TEST_TMPDIR/got"
	printf 'a\0b\r\n\xc3\xa9' >"$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

@test "object fields replace the options for that record only" {
	run --separate-stderr "$GATHER" -X PUT -d cli-body -H 'X-Cli: c' \
		-H 'X-Both: from-cli' \
		"{\"url\": \"$BASE/echo\", \"method\": \"PATCH\", \"body\": \"obj-body\",
		  \"headers\": {\"x-both\": \"from-object\"}}" \
		"$BASE/echo"
	assert_success
	assert_jq '.[0].body | fromjson | .method == "PATCH" and
		.body == "obj-body" and .headers["x-cli"] == "c" and
		.headers["x-both"] == "from-object"'
	assert_jq '.[1].body | fromjson | .method == "PUT" and
		.body == "cli-body" and .headers["x-both"] == "from-cli"'
}

@test "an object header replaces the -H one of the same name: one is sent" {
	run --separate-stderr "$GATHER" -H 'X-Dup: cli' -H 'Accept: text/cli' \
		"{\"url\": \"$BASE/header-list\", \"headers\": {\"X-DUP\": \"obj\"}}" \
		"{\"url\": \"$BASE/header-list\", \"headers\": [\"x-dup: arr\", \"accept: text/obj\"]}"
	assert_success
	assert_equal "$(sent_header 0 x-dup)" "1 obj"
	assert_equal "$(sent_header 0 accept)" "1 text/cli"
	assert_equal "$(sent_header 1 x-dup)" "1 arr"
	assert_equal "$(sent_header 1 accept)" "1 text/obj"
}

@test "an object timeout replaces -t for that record" {
	t=$(now)
	run --separate-stderr "$GATHER" -t 0.3 \
		"{\"url\": \"$BASE/delay/700\", \"timeout\": 5}" \
		"$BASE/delay/700" \
		"{\"url\": \"$BASE/hang\", \"timeout\": 0.4, \"id\": \"h\"}"
	took=$(since "$t")
	assert_failure 1
	assert_jq 'map(.ok) == [true, false, false]'
	assert_jq '.[0].body == "delay 700"'
	assert_jq '.[1].error.kind == "timeout" and .[1].time.total < 0.65'
	assert_jq '.[2] | .error.kind == "timeout" and .id == "h" and
		.time.total >= 0.35 and .time.total < 3'
	fcmp "$took" '<' 4 || fail "run took $took s"
}

@test "id is echoed untouched whatever JSON it is" {
	in="$BATS_TEST_TMPDIR/in"
	cat >"$in" <<EOF
{"url": "$BASE/ok", "id": 7}
{"url": "$BASE/ok", "id": "seven"}
{"url": "$BASE/ok", "id": {"a": [1, {"b": null}], "c": "\u00e9"}}
{"url": "$BASE/ok", "id": null}
{"url": "$BASE/ok", "id": [1, "two", false]}
{"url": "$BASE/ok", "id": -1.5e3}
{"url": "$BASE/ok", "id": false}
{"url": "$BASE/ok", "id": ""}
{"url": "$BASE/ok"}
$BASE/ok
EOF
	run --separate-stderr "$GATHER" -i "$in"
	assert_success
	assert_equal "${#lines[@]}" 10
	assert_jq '.[0:8] | all(has("id"))'
	assert_jq '.[0:8] | map(.id) == [7, "seven",
		{"a": [1, {"b": null}], "c": "é"}, null, [1, "two", false], -1500,
		false, ""]'
	# null is kept as a key, not dropped: check the raw line too.
	[[ "${lines[3]}" == *'"id":null'* ]] || fail "no \"id\":null in ${lines[3]}"
	assert_jq '.[8:] | all(has("id") | not)'
}

@test "id numbers and strings come back exactly as written" {
	# 2^53 + 1 and a 19-digit id (a database or snowflake id) are not
	# doubles; neither is "echoed untouched" if parsed into one.
	run --separate-stderr "$GATHER" \
		"{\"url\": \"$BASE/ok\", \"id\": 9007199254740993}" \
		"{\"url\": \"$BASE/ok\", \"id\": 1729781234567890123}" \
		"{\"url\": \"$BASE/ok\", \"id\": 1.10}" \
		"{\"url\": \"$BASE/ok\", \"id\": \"a\\u0000b\"}"
	assert_success
	[[ "${lines[0]}" == *'"id":9007199254740993,'* ]] ||
		fail "id 9007199254740993 came back as: $(grep -o '"id":[^,]*' <<<"${lines[0]}")"
	[[ "${lines[1]}" == *'"id":1729781234567890123,'* ]] ||
		fail "id 1729781234567890123 came back as: $(grep -o '"id":[^,]*' <<<"${lines[1]}")"
	# A number equal in value is fine for a decimal like 1.10.
	assert_jq '.[2].id == 1.1'
	# A string with an escaped NUL keeps it and what follows.
	assert_jq '.[3].id == "a\u0000b"'
}

@test "id is echoed on failed records too" {
	port=$(closed_port)
	run --separate-stderr "$GATHER" -t 0.3 \
		"{\"url\": \"http://127.0.0.1:$port/\", \"id\": {\"k\": 1}}" \
		"{\"url\": \"$BASE/hang\", \"id\": [null]}" \
		"{\"url\": \"$BASE/ok\", \"id\": 3, \"nope\": 1}" \
		"{\"url\": \"ftp://127.0.0.1:$port/\", \"id\": \"f\"}" \
		"{\"url\": \"http://[::1\", \"id\": null}"
	assert_failure 1
	assert_jq 'map(.ok) == [false, false, false, false, false]'
	assert_jq 'map(.error.kind) == ["connect", "timeout", "bad_input",
		"unsupported_protocol", "invalid_url"]'
	assert_jq 'map(.id) == [{"k": 1}, [null], 3, "f", null] and all(has("id"))'
}

@test "bad request objects are bad_input and the run goes on" {
	in="$BATS_TEST_TMPDIR/in"
	cat >"$in" <<EOF
{"url": "$BASE/ok"
{"url": "$BASE/ok"} trailing
{"url": "$BASE/ok"}{"url": "$BASE/ok"}
{"url": 5, "id": 3}
{"id": 4}
{"url": null}
{"url": "$BASE/ok", "bogus": 1}
{"url": "$BASE/ok", "headers": {"Bad Name": "v"}}
{"url": "$BASE/ok", "headers": {"X-A": "a\r\nX-B: b"}}
{"url": "$BASE/ok", "headers": {"X-A": "a\nb"}}
{"url": "$BASE/ok", "headers": ["X-A: a\r\nX-B: b"]}
{"url": "$BASE/ok", "headers": ["NoColon"]}
{"url": "$BASE/ok", "headers": {"": "v"}}
{"url": "$BASE/ok", "headers": {"X-A": 5}}
{"url": "$BASE/ok", "headers": "X-A: a"}
{"url": "$BASE/ok", "method": 5}
{"url": "$BASE/ok", "method": "G T"}
{"url": "$BASE/ok", "timeout": "soon"}
{"url": "$BASE/ok", "timeout": -1}
$BASE/ok
EOF
	reset_stats
	run --separate-stderr "$GATHER" -i "$in"
	assert_failure 1
	assert_equal "${#lines[@]}" 20
	assert_jq 'map(.index) == [range(20)]'
	assert_jq '.[0:19] | all(.ok == false and .error.kind == "bad_input" and
		(.error.message | type == "string" and length > 0) and
		.status == null)'
	assert_jq '.[19] | .ok and .body == "ok"'
	# The bad records fetched nothing: only the last one reached the server.
	assert_equal "$(hits /ok)" 1
	# The url of a bad object is its line as given.
	assert_jq --arg u "{\"id\": 4}" '.[4].url == $u'
	assert_jq '.[3].id == 3'
}

# ---- redirects --------------------------------------------------------------

@test "redirects are followed by default, and with -L" {
	for flag in "" -L --location; do
		run --separate-stderr "$GATHER" $flag "$BASE/redirect/3"
		assert_success
		assert_jq --arg u "$BASE/redirect/3" --arg e "$BASE/redirect/0" '.[0] |
			.ok and .status == 200 and .redirects == 3 and .url == $u and
			.effective_url == $e and .body == "done"'
	done
}

@test "a redirect to another path gives that effective_url" {
	run --separate-stderr "$GATHER" "$BASE/redirect-to?url=/size/5" \
		"$BASE/redirect-to?url=$BASE/echo%3Fq%3D1" \
		"$BASE/redirect-to?url=%2Fok"
	assert_success
	assert_jq --arg b "$BASE" '.[2] | .redirects == 1 and
		.effective_url == "\($b)/ok" and .body == "ok"'
	assert_jq --arg b "$BASE" '.[0] | .redirects == 1 and
		.effective_url == "\($b)/size/5" and .body == "aaaaa"'
	assert_jq --arg b "$BASE" '.[1] | .redirects == 1 and
		.effective_url == "\($b)/echo?q=1" and
		(.body | fromjson | .path == "/echo?q=1")'
}

@test "--no-location records the 302 itself" {
	reset_stats
	run --separate-stderr "$GATHER" --no-location "$BASE/redirect/2"
	assert_success
	assert_jq --arg u "$BASE/redirect/2" '.[0] | .ok and .status == 302 and
		.redirects == 0 and .effective_url == $u and .body == "redirect" and
		.error == null'
	assert_equal "$(hits /redirect/1)" 0
}

@test "--max-redirs N: N redirects are fine, N+1 is too_many_redirects" {
	run --separate-stderr "$GATHER" --max-redirs 2 \
		"$BASE/redirect/2" "$BASE/redirect/3"
	assert_failure 1
	assert_jq '.[0] | .ok and .status == 200 and .redirects == 2'
	assert_jq '.[1] | .ok == false and .error.kind == "too_many_redirects" and
		.error.curl_code == 47'
	run --separate-stderr "$GATHER" --max-redirs 0 "$BASE/redirect/1" "$BASE/ok"
	assert_failure 1
	assert_jq '.[0].error.kind == "too_many_redirects" and .[1].ok'
}

@test "the default limit is 10 redirects" {
	run --separate-stderr "$GATHER" "$BASE/redirect/10" "$BASE/redirect/11"
	assert_failure 1
	assert_jq '.[0] | .ok and .redirects == 10 and .status == 200'
	assert_jq '.[1] | .ok == false and .error.kind == "too_many_redirects"'
}

@test "-H headers are not sent to another origin on a redirect" {
	local other="http://localhost:$PORT/echo"
	run --separate-stderr "$GATHER" -t 10 -H 'X-Api-Key: secret' \
		-H 'Authorization: Bearer tok' \
		"$BASE/redirect-to?url=$other" "$BASE/redirect-to?url=/echo"
	assert_success
	assert_jsonl --ordered -n 2
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
	assert_jsonl --ordered -n 2
	assert_jq '(.[0].body | fromjson | .headers | has("x-api-key") | not)
		and (.[1].body | fromjson | .headers["x-api-key"] == "k")'
}

@test "--location-trusted sends -H headers to another origin" {
	run --separate-stderr "$GATHER" -t 10 --location-trusted \
		-H 'X-Api-Key: secret' \
		"$BASE/redirect-to?url=http://localhost:$PORT/echo"
	assert_success
	assert_jsonl --ordered -n 1
	assert_jq '.[0].redirects == 1 and
		(.[0].body | fromjson | .headers["x-api-key"] == "secret")'
}

# ---- --proto ----------------------------------------------------------------

@test "a redirect to file:// is unsupported_protocol and reads nothing" {
	run --separate-stderr "$GATHER" "$BASE/redirect-to?url=file:///etc/passwd"
	assert_failure 1
	assert_jq '.[0] | .ok == false and .error.kind == "unsupported_protocol" and
		.size == 0 and ((has("body") | not) or .body == "")'
	refute_output --partial 'root:'
}

@test "a redirect to gopher://, ftp:// or dict:// connects nowhere" {
	start_listener
	run --separate-stderr "$GATHER" \
		"$BASE/redirect-to?url=gopher://127.0.0.1:$LPORT/1x" \
		"$BASE/redirect-to?url=ftp://127.0.0.1:$LPORT/x" \
		"$BASE/redirect-to?url=dict://127.0.0.1:$LPORT/x"
	assert_failure 1
	assert_jq 'map(.error.kind) == ["unsupported_protocol",
		"unsupported_protocol", "unsupported_protocol"]'
	assert_jq 'all(.size == 0)'
	assert_equal "$(listener_count)" 0
}

@test "--proto is the exact set allowed, for the URL and for redirects" {
	reset_stats
	run --separate-stderr "$GATHER" --proto https "$BASE/ok"
	assert_failure 1
	assert_jq '.[0] | .ok == false and .error.kind == "unsupported_protocol"'
	assert_equal "$(hits /ok)" 0
	# =http: an https redirect target is refused.
	run --separate-stderr "$GATHER" --proto =http \
		"$BASE/ok" "$BASE/redirect-to?url=https://127.0.0.1:$PORT/ok"
	assert_failure 1
	assert_jq '.[0].ok and .[1].error.kind == "unsupported_protocol"'
	assert_jq '.[1].redirects <= 1 and .[1].size == 0'
	# =http,https is the default set.
	run --separate-stderr "$GATHER" --proto =http,https "$BASE/redirect/1"
	assert_success
}

@test "--proto with file allowed lets a redirect read the file" {
	# The control for the tests above: file:// works once allowed.
	printf 'local file\n' >"$BATS_TEST_TMPDIR/f.txt"
	run --separate-stderr "$GATHER" --proto http,file \
		"$BASE/redirect-to?url=file://$BATS_TEST_TMPDIR/f.txt"
	assert_success
	assert_jq --arg e "file://$BATS_TEST_TMPDIR/f.txt" '.[0] | .ok and
		.redirects == 1 and .effective_url == $e and .body == "local file\n"'
	# And the listener does see a connection to a protocol allowed.
	start_listener
	run --separate-stderr "$GATHER" -t 5 --proto http,dict \
		"$BASE/redirect-to?url=dict://127.0.0.1:$LPORT/x"
	assert_jq '.[0].redirects == 1'
	assert_equal "$(listener_count)" 1
}

@test "a protocol --proto refuses is unsupported_protocol naming --proto" {
	run --separate-stderr "$GATHER" --proto http -t 10 "ftp://127.0.0.1/x" \
		"https://127.0.0.1:1/" "$BASE/redirect-to?url=ftp://127.0.0.1/y" \
		"$BASE/ok"
	assert_failure 1
	assert_jsonl --ordered -n 4
	assert_jq '.[0:3] | all(.[]; .error.kind == "unsupported_protocol" and
		(.error.message | contains("--proto")))'
	assert_jq '.[2].error.message | contains("redirect")'
	assert_jq '.[3].ok'
}

@test "bad --proto lists are usage errors" {
	reset_stats
	for p in bogus '' '=' 'http,,https' 'http,bogus' 'all' '-all,http'; do
		gather_usage_error --proto "$p" "$BASE/ok"
	done
	assert_nothing_fetched
}

# ---- compression (--max-body on decoded bytes: limits.bats) ------------------------------------------------------------

@test "compression is asked for and decoded by default" {
	run --separate-stderr "$GATHER" "$BASE/echo" "$BASE/gzip/5000"
	assert_success
	assert_jq '.[0].body | fromjson | .headers["accept-encoding"] |
		split(", ") | contains(["gzip", "deflate"])'
	assert_jq '.[1] | .size == 5000 and .body == ("a" * 5000)'
	run --separate-stderr "$GATHER" --compressed "$BASE/gzip/5000"
	assert_success
	assert_jq '.[0] | .size == 5000 and .body == ("a" * 5000)'
}

@test "--no-compressed asks for nothing and keeps the raw bytes" {
	run --separate-stderr "$GATHER" --no-compressed "$BASE/echo" \
		"$BASE/gzip/5000"
	assert_success
	assert_jq '.[0].body | fromjson | .headers | has("accept-encoding") | not'
	curl -q -s -o "$BATS_TEST_TMPDIR/raw.gz" "$BASE/gzip/5000"
	assert_jq --argjson n "$(wc -c <"$BATS_TEST_TMPDIR/raw.gz")" \
		'.[1] | .size == $n and .body_encoding == "base64"'
	rec 1 .body | jq -r . | base64 -d >"$BATS_TEST_TMPDIR/got.gz"
	cmp "$BATS_TEST_TMPDIR/raw.gz" "$BATS_TEST_TMPDIR/got.gz"
	# The last of --compressed and --no-compressed wins.
	run --separate-stderr "$GATHER" --no-compressed --compressed "$BASE/gzip/10"
	assert_success
	assert_jq '.[0] | .size == 10 and .body == "aaaaaaaaaa"'
}
