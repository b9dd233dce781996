#!/usr/bin/env bats
# Strict JSON in and out: request objects that RFC 8259 does not allow are
# bad_input, ids and --body json values go out exactly as written, and -I
# with very many headers stays fast.

bats_require_minimum_version 1.5.0
load helper

setup_file() { start_server; }
teardown_file() {
	stop_server
	if [[ -n "${HDR_PID:-}" ]]; then
		kill "$HDR_PID" 2>/dev/null || true
	fi
}

teardown() {
	if [[ -n "${HDR_PID:-}" ]]; then
		kill "$HDR_PID" 2>/dev/null || true
		wait "$HDR_PID" 2>/dev/null || true
		unset HDR_PID
	fi
}

@test "request objects that are not strict JSON are bad_input, named by their line" {
	u="$BASE/ok"
	cat >"$BATS_TEST_TMPDIR/in" <<-EOF
	{"url": "$u", "id": "\uZZZZ"}
	{"url": "$u", "id": "\u12"}
	{"url": "$u", "id": "\ud800"}
	{"url": "$u", "id": "\udc00x"}
	{"url": "$u", "id": 01}
	{"url": "$u", "id": 00}
	{"url": "$u", "id": -01}
	{"url": "$u", "id": 1.}
	{"url": "$u", "id": -.5}
	{"url": "$u", "id": 1.e5}
	{"url": "$u", "id": .5}
	{"url": "$u", "id": +1}
	{"url": "$u", "id": NaN}
	{"url": "$u", "id": Infinity}
	{"url": "$u", "id": [1, 2,]}
	{"url": "$u",}
	{'url': '$u'}
	{"url": "$u", "id": 'x'}
	{"url": "$u"} // comment
	{"url": "$u", /* c */ "id": 1}
	{"url": "$u"} x
	{"url": "$u", "id": "a	b"}
	{"url": "$u", "url": "$u"}
	{"url": "$u", "id": 7}
	EOF
	printf '{"url": "%s", "id": "a\0b"}\n' "$u" >>"$BATS_TEST_TMPDIR/in"
	printf '{"url": "%s", "id": "\x01"}\n' "$u" >>"$BATS_TEST_TMPDIR/in"
	printf '{"url": "%s", "id": "\xff"}\n' "$u" >>"$BATS_TEST_TMPDIR/in"
	run --separate-stderr timeout 30 "$GATHER" -i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_jsonl -n 27
	# All but the good one (index 23) are refused before any fetch.
	assert_jq 'map(select(.error.kind == "bad_input") | .index) ==
		[range(27) | select(. != 23)]'
	assert_jq '.[23] | .ok and .id == 7'
	assert_jq 'map(select(.index != 23) | .status == null and .attempts == 0)
		| all'
	# Named by the line itself, and never echoing an id it could not read.
	assert_jq --arg u "$u" '.[4].url == "{\"url\": \"" + $u + "\", \"id\": 01}"'
	assert_jq 'map(select(.index != 23 and has("id"))) == []'
	assert_equal "$(hits /ok)" 1
}

@test "ids are echoed exactly as written, strict JSON guaranteed" {
	u="$BASE/ok"
	cat >"$BATS_TEST_TMPDIR/in" <<-EOF
	{"url": "$u", "id": 12345678901234567890123}
	{"url": "$u", "id": 1e999}
	{"url": "$u", "id": -0.0e-7}
	{"url": "$u", "id": "\ud83d\ude00 \u0000 \""}
	{"url": "$u", "id": { "a" : [ 1 , "x y" ] }}
	{"url": "$u", "id":	[1,	2]}
	EOF
	run --separate-stderr "$GATHER" -i "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_jsonl -n 6
	assert_line --index 0 --partial '"id":12345678901234567890123,'
	assert_line --index 1 --partial '"id":1e999,'
	assert_line --index 2 --partial '"id":-0.0e-7,'
	assert_line --index 3 --partial '"id":"\ud83d\ude00 \u0000 \"",'
	assert_line --index 4 --partial '"id":{"a":[1,"x y"]},'
	assert_line --index 5 --partial '"id":[1,2],'
}

@test "\\u0000 in a url, method or header is bad_input; a body keeps it" {
	u="$BASE/ok"
	cat >"$BATS_TEST_TMPDIR/in" <<-EOF
	{"url": "$u\u0000/x"}
	{"url": "$u", "method": "PO\u0000ST"}
	{"url": "$u", "headers": {"X-A": "1\u0000Injected: 2"}}
	{"url": "$u", "headers": {"X-A\u0000B": "1"}}
	{"url": "$u", "headers": ["X-A: 1\u0000Injected: 2"]}
	{"url": "$BASE/rawbody", "body": "a\u0000b\u0000"}
	EOF
	reset_stats
	run --separate-stderr "$GATHER" --body base64 -i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_jsonl -n 6
	assert_jq '.[:5] | all(.error.kind == "bad_input" and .status == null)'
	assert_jq '.[5] | .ok and .size == 4 and .body == "YQBiAA=="'
	assert_equal "$(hits /ok)" 0
}

@test "a request object's url is trimmed like a line" {
	printf '{"url": " \\t %s/ok?t=1 \\r\\n"}\n' "$BASE" >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -i "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_jq --arg u "$BASE/ok?t=1" '.[0].url == $u and .[0].status == 200'
}

@test "nesting 30,000 deep is bad_input, not a crash; the object and 511 inside it are fine" {
	{
		printf '{"url": "%s/ok", "id": ' "$BASE"
		head -c 30000 /dev/zero | tr '\0' '['
		head -c 30000 /dev/zero | tr '\0' ']'
		printf '}\n'
		printf '{"url": "%s/ok", "id": ' "$BASE"
		head -c 511 /dev/zero | tr '\0' '['
		head -c 511 /dev/zero | tr '\0' ']'
		printf '}\n'
	} >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr timeout 30 "$GATHER" -i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_jsonl -n 2
	# jq stops at 256 levels itself: look at the second line as text.
	printf '%s\n' "${lines[0]}" | jq -e '.error.kind == "bad_input" and
		(has("id") | not)'
	deep=$(head -c 511 /dev/zero | tr '\0' '[')
	assert_line --index 1 --partial "\"id\":$deep]"
	assert_line --index 1 --partial '"ok":true'
}

@test "--body json embeds strict JSON exactly as written" {
	printf '%s' '1e999' >"$BATS_TEST_TMPDIR/b1"
	printf '%s' ' { "n" : 12345678901234567890.50 ,
	  "s": "\u00e9\u0000" } ' >"$BATS_TEST_TMPDIR/b2"
	run --separate-stderr "$GATHER" --body json \
		-d @"$BATS_TEST_TMPDIR/b2" "$BASE/rawbody"
	assert_success
	assert_jsonl -n 1
	assert_line --index 0 --partial \
		'"body":{"n":12345678901234567890.50,"s":"\u00e9\u0000"},"body_encoding":"json"'
	run --separate-stderr "$GATHER" --body json \
		-d @"$BATS_TEST_TMPDIR/b1" "$BASE/rawbody"
	assert_success
	assert_line --index 0 --partial '"body":1e999,"body_encoding":"json"'
}

@test "--body json: a body that is not strict JSON falls back to auto" {
	local bodies=('01' '1.' '-.5' 'NaN' '[1,]' "{'a': 1}" '"\ud800"' \
		'{"a": 1} x' '"\uZZZZ"' '[1] // c' '1e5x' '')
	local k
	for ((k = 0; k < ${#bodies[@]}; k++)); do
		printf '%s' "${bodies[k]}" >"$BATS_TEST_TMPDIR/body"
		run --separate-stderr "$GATHER" --body json \
			-d @"$BATS_TEST_TMPDIR/body" "$BASE/rawbody"
		assert_success
		assert_jsonl -n 1
		assert_jq --arg b "${bodies[k]}" \
			'.[0].body_encoding == "utf-8" and .[0].body == $b'
	done
	printf '"\xff"' >"$BATS_TEST_TMPDIR/body"
	run --separate-stderr "$GATHER" --body json \
		-d @"$BATS_TEST_TMPDIR/body" "$BASE/rawbody"
	assert_success
	assert_jq '.[0].body_encoding == "base64" and .[0].body == "Iv8i"'
}

# Start a server on a free port whose answers carry N headers: names
# h0..h(N-1) (with "many") or three names repeated (with "few").
start_header_server() {
	local port_file="$BATS_TEST_TMPDIR/hdr.port" i
	python3 - "$port_file" <<-'PY' >/dev/null 2>&1 3>&- &
	import http.server, sys
	class H(http.server.BaseHTTPRequestHandler):
	    protocol_version = "HTTP/1.1"
	    def do_GET(self):
	        n = int(self.path.split("/")[2])
	        few = self.path.startswith("/few/")
	        self.send_response(200)
	        for i in range(n):
	            self.send_header("h%d" % (i % 3 if few else i),
	                             "%d" % i if few else "")
	        self.send_header("Content-Length", "2")
	        self.end_headers()
	        self.wfile.write(b"ok")
	    def log_message(self, *a):
	        pass
	srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
	with open(sys.argv[1] + ".tmp", "w") as f:
	    f.write(str(srv.server_address[1]))
	import os
	os.rename(sys.argv[1] + ".tmp", sys.argv[1])
	srv.serve_forever()
	PY
	HDR_PID=$!
	for ((i = 0; i < 100; i++)); do
		[[ -s "$port_file" ]] && break
		sleep 0.1
	done
	HDR_BASE="http://127.0.0.1:$(<"$port_file")"
}

@test "-I with 20,000 headers: grouped by name, in linear time" {
	start_header_server
	start=$(now)
	run --separate-stderr timeout 20 "$GATHER" -I "$HDR_BASE/many/20000" \
		"$HDR_BASE/few/5000"
	elapsed=$(since "$start")
	assert_success
	assert_jsonl -n 2
	assert_jq '.[0].headers | length == 20003 and .h0 == "" and
		.h19999 == ""'
	assert_jq '.[1].headers | (.h0 | length) == 1667 and
		.h1[:3] == ["1", "4", "7"] and (.h2 | length) == 1666'
	# Linear work is a small fraction of a second; quadratic takes many.
	fcmp "$elapsed" '<' 8
}
