#!/usr/bin/env bats
# Paths a user can reach that the other files leave out, found with
# `make coverage`: hostile netrc files, cookie jar names, reports and
# merges that cannot be written, bytes a report must escape, a long
# record cut short in a merge, request objects through -j workers.

bats_require_minimum_version 1.5.0
load helper

setup_file() { start_server; }
teardown_file() { stop_server; }
teardown() { stop_bg; }

# The Authorization header /echo saw for record INDEX, or null.
auth_of() {
	rec "$1" '.body | fromjson | .headers.authorization'
}

# "Basic " and the base64 of USER:PASSWORD, quoted as jq prints it.
basic_json() {
	printf '"Basic %s"' "$(printf '%s' "$1" | base64 -w0)"
}

# ---- --netrc-file -------------------------------------------------------------

@test "--netrc-file missing, a directory or over 1 MiB: a usage error naming why" {
	local d="$BATS_TEST_TMPDIR"
	reset_stats
	run --separate-stderr "$GATHER" --netrc-file "$d/none" "$BASE/echo"
	assert_usage_error "^gather: --netrc-file: cannot read '$d/none': No such file or directory$"
	mkdir "$d/dir"
	run --separate-stderr "$GATHER" --netrc-file "$d/dir" "$BASE/echo"
	assert_usage_error "^gather: --netrc(-file)?: cannot read '$d/dir': Is a directory$"
	head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$d/big"
	run --separate-stderr "$GATHER" --netrc-file "$d/big" "$BASE/echo"
	assert_usage_error "^gather: --netrc(-file)?: cannot read '$d/big': File too large$"
	# One byte less is read (and holds no entry).
	truncate -s $((1024 * 1024)) "$d/big"
	assert_nothing_fetched
	run --separate-stderr "$GATHER" --netrc-file "$d/big" "$BASE/echo"
	assert_success
	assert_equal "$(auth_of 0)" null
}

@test "--netrc-file: a macdef ends at a CRLF blank line or the file's end" {
	local netrc="$BATS_TEST_TMPDIR/netrc"
	printf 'macdef init\r\ncd /pub\r\n\r\nmachine 127.0.0.1 login a password b\n' >"$netrc"
	run --separate-stderr "$GATHER" --netrc-file "$netrc" "$BASE/echo"
	assert_success
	assert_equal "$(auth_of 0)" "$(basic_json a:b)"
	# A macdef to the end of the file: the entry before it holds.
	printf 'machine 127.0.0.1 login c password d\nmacdef init\ncd /pub\nmachine 127.0.0.1 login x password y\n' >"$netrc"
	run --separate-stderr "$GATHER" --netrc-file "$netrc" "$BASE/echo"
	assert_success
	assert_equal "$(auth_of 0)" "$(basic_json c:d)"
	# An open quote where a keyword is due, on line 2.
	printf 'machine 127.0.0.1 login c password d\n"login x\n' >"$netrc"
	run --separate-stderr "$GATHER" --netrc-file "$netrc" "$BASE/echo"
	assert_usage_error "^gather: --netrc(-file)?: .*: line [23]: a quote is not closed$"
}

# ---- --cookie-jar ---------------------------------------------------------------

@test "--cookie-jar NAME with no directory is written in the current one" {
	local d="$BATS_TEST_TMPDIR/cwd"
	mkdir "$d"
	run --separate-stderr bash -c 'cd "$1" && "$GATHER" --cookie-jar jar "$2/headers"' \
		_ "$d" "$BASE"
	assert_success
	grep -qP '^127\.0\.0\.1\tFALSE\t/\tFALSE\t0\ta\t1$' "$d/jar"
	assert_equal "$(ls -A "$d")" jar
}

@test "--cookie-jar: a name too long for its temp file is refused before the run" {
	local name
	reset_stats
	# Short parts (lstat then says ENAMETOOLONG), 4,100 bytes in all.
	name="$BATS_TEST_TMPDIR/$(printf 'd/%.0s' {1..2050})jar"
	run --separate-stderr "$GATHER" --cookie-jar "$name" "$BASE/headers"
	# The line is cut at its buffer's end, before ": name too long".
	assert_one_line_error 1 "^gather: --cookie-jar $BATS_TEST_TMPDIR/d/d/d/"
	assert_nothing_fetched
}

# ---- reports that cannot be written ---------------------------------------------

@test "--junit past ulimit -f: 'cannot write' once, every record out, no file left" {
	local d="$BATS_TEST_TMPDIR" q
	# 300 cases of a 10,000-byte name: 3 MB of report, over the 2 MiB
	# limit (which leaves room for what a --coverage build writes at exit).
	q=$(head -c 10000 /dev/zero | tr '\0' q)
	awk -v b="$BASE" -v q="$q" 'BEGIN { for (k = 0; k < 300; k++)
		printf "%s/p/%d?%s\n", b, k, q }' >"$d/in"
	# SIGXFSZ ignored, as a shell script may have it: write() says EFBIG.
	run --separate-stderr bash -c 'trap "" XFSZ; ulimit -f 2048 &&
		"$GATHER" -c 8 --junit "$1/r.xml" -i "$1/in" |
		jq -c "[.index, .ok]" >"$1/out"; exit "${PIPESTATUS[0]}"' _ "$d"
	assert_equal "$status" 1
	assert_equal "$(jq -s -c 'map(.[0]) == [range(300)] and all(.[1])' "$d/out")" true
	[[ "$stderr" =~ ^"gather: --junit: cannot write '$d/r.xml': File too large"$ ]] ||
		fail "stderr: $stderr"
	# Whole or not at all: no FILE, no temp file beside it.
	[[ ! -e "$d/r.xml" ]] || fail "a partial report was left"
	assert_equal "$(find "$d" -name 'r.xml*' | wc -l)" 0
}

@test "--merge into /dev/full: small, over 1 MiB and large merges, each format: one line, exit 1" {
	local d="$BATS_TEST_TMPDIR" c name formats f
	"$GATHER" "$BASE/p/a" "$BASE/p/b" >"$d/one"
	"$GATHER" "$BASE/size/2000000" >"$d/big"
	urls 3000 /p/record-with-a-longer-name >"$d/in"
	"$GATHER" -c 16 -i "$d/in" >"$d/many"
	# A record copied whole or as tap; a large merge fails at its first write.
	for c in "one|jsonl json tap" "big|jsonl tap" "many|jsonl tap"; do
		IFS='|' read -r name formats <<<"$c"
		for f in $formats; do
			run --separate-stderr bash -c '"$GATHER" --format "$1" --merge "$2" >/dev/full' \
				_ "$f" "$d/$name"
			assert_one_line_error 1 '^gather: cannot write output: No space left on device$'
		done
	done
}

@test "--merge: a record over 1 MiB that its file ends inside is exit 2 naming it" {
	local d="$BATS_TEST_TMPDIR"
	"$GATHER" "$BASE/p/a" "$BASE/size/2000000" >"$d/full"
	head -c 1800000 "$d/full" >"$d/cut"
	"$GATHER" "$BASE/p/a" >"$d/small"
	run --separate-stderr "$GATHER" --merge "$d/small" "$d/cut"
	assert_equal "$status" 2
	assert_equal "$stderr" "gather: --merge: '$d/cut' line 2 is cut short"
	# What came before it was written.
	assert_equal "$(jq -c .index <<<"$(head -n 1 <<<"$output")")" 0
}

# ---- bytes a report escapes -----------------------------------------------------

@test "tap and junit: a URL with invalid UTF-8 and DEL stays one valid line and valid XML" {
	local d="$BATS_TEST_TMPDIR"
	printf '%s/status/404?a=\xff\xfe\n{"url": "%s/status/500?b=\\u007f"}\n' \
		"$BASE" "$BASE" >"$d/in"
	run --separate-stderr "$GATHER" -c 1 --fail --format tap --junit "$d/r.xml" -i "$d/in"
	assert_equal "$status" 1
	# Two "not ok" lines, each one line of valid UTF-8.
	assert_equal "$(grep -c '^not ok ' <<<"$output")" 2
	printf '%s\n' "$output" | iconv -f UTF-8 -t UTF-8 >/dev/null ||
		fail "tap output is not valid UTF-8"
	grep -q $'^not ok 1 - .*a=\uFFFD\uFFFD' <<<"$output" ||
		fail "no U+FFFD for the bad bytes: $output"
	run xmllint --noout "$d/r.xml"
	assert_success
	run python3 -c 'import sys, xml.etree.ElementTree as E
cs = E.parse(sys.argv[1]).getroot().iter("testcase")
print("|".join(c.get("name") for c in cs))' "$d/r.xml"
	assert_success
	[[ "$output" == *"a="$'\uFFFD\uFFFD'*"|"*"b="$'\x7f'* ]] || fail "names: $output"
	# CR and LF in a name are character references: the attribute keeps them.
	run --separate-stderr "$GATHER" --junit "$d/r2.xml" "{\"url\": \"$BASE/x\\r\\ny\"}"
	assert_failure 1
	grep -q 'name="[^"]*/x&#13;&#10;y"' "$d/r2.xml" || fail "$(cat "$d/r2.xml")"
	run python3 -c 'import sys, xml.etree.ElementTree as E
print(repr(next(E.parse(sys.argv[1]).getroot().iter("testcase")).get("name")[-4:]))' "$d/r2.xml"
	assert_output "'x\\r\\ny'"
}

# ---- -j -------------------------------------------------------------------------

@test "-j 2: request objects' method, headers, body and id reach the server as with -j 1" {
	local d="$BATS_TEST_TMPDIR" j
	awk -v b="$BASE" 'BEGIN { for (k = 0; k < 12; k++)
		printf "{\"url\": \"%s/echo?k=%d\", \"method\": \"PUT\", \"headers\": {\"X-K\": \"v%d\"}, \"body\": \"b%d\", \"id\": \"r%d\"}\n", b, k, k, k, k }' >"$d/in"
	for j in 1 2; do
		run --separate-stderr "$GATHER" -j "$j" -c 4 -i "$d/in"
		assert_success
		assert_jsonl -n 12 --ordered
		assert_jq 'all(.[]; .ok and (.body | fromjson) as $e |
			$e.method == "PUT" and $e.headers["x-k"] == "v\(.index)" and
			$e.body == "b\(.index)" and .id == "r\(.index)")'
		jq -c '{index, id, s: (.body | fromjson | [.method, .path, .body])}' \
			<<<"$output" >"$d/out$j"
	done
	cmp "$d/out1" "$d/out2"
}

# ---- -o -------------------------------------------------------------------------

@test "-o DIR that is a file, under a file or too long: 'cannot use directory', exit 2" {
	local d="$BATS_TEST_TMPDIR" long
	: >"$d/file"
	reset_stats
	run --separate-stderr "$GATHER" -o "$d/file" "$BASE/ok"
	assert_usage_error "^gather: cannot use directory '$d/file': Not a directory$"
	run --separate-stderr "$GATHER" -o "$d/file/sub" "$BASE/ok"
	assert_usage_error "^gather: cannot use directory '$d/file/sub': Not a directory$"
	long="$d/$(printf 'd/%.0s' {1..2050})"
	run --separate-stderr "$GATHER" -o "$long" "$BASE/ok"
	# The line is cut at its buffer's end, before the reason.
	assert_usage_error "^gather: cannot use directory '$d/d/d/d/"
	assert_nothing_fetched
	[[ ! -e "$d/d" ]] || fail "a part of the long name was made"
}

@test "--continue: a 206 whose total is * or that starts a byte late is never used" {
	cd "$BATS_TEST_TMPDIR"
	local how why
	for how in star offset; do
		why='no Content-Range with a total'
		[[ $how == offset ]] && why='does not start at byte 60000'
		# The first attempt is cut at 60000, the retry's 206 lies.
		run --separate-stderr "$GATHER" -o "out-$how" --retries 1 \
			--retry-delay 0.01 "$BASE/lie/100000?cut=60000&how=$how"
		assert_failure 1
		assert_jq --arg w "$why" '.[0] | .ok == false and .attempts == 2 and
			.error.kind == "other" and .file == null and
			(.error.message | contains($w))'
		assert_equal "$(ls -A "out-$how")" ""
	done
}

# ---- credentials, JSON strings ---------------------------------------------------

@test "--netrc-file: an IPv6 URL's host matches its machine without brackets" {
	local netrc="$BATS_TEST_TMPDIR/netrc"
	printf 'machine ::1 login six password pw6\n' >"$netrc"
	run --separate-stderr "$GATHER" --netrc-file "$netrc" \
		--connect-to "[::1]:$PORT:127.0.0.1:$PORT" "http://[::1]:$PORT/echo"
	assert_success
	assert_equal "$(auth_of 0)" "$(basic_json six:pw6)"
}

@test "request objects: a surrogate pair is its character; a lone one is bad_input" {
	run --separate-stderr "$GATHER" \
		"{\"url\": \"$BASE/echo\", \"method\": \"POST\", \"body\": \"a\\ud83d\\ude00b\"}" \
		"{\"url\": \"$BASE/echo\", \"method\": \"POST\", \"body\": \"a\\ud800b\"}"
	assert_failure 1
	assert_equal "$(rec 0 '.body | fromjson | .body')" "\"a$(printf '\U0001F600')b\""
	assert_equal "$(rec 1 '.error.kind')" '"bad_input"'
}

@test "--revalidate: a URL with invalid UTF-8 finds its record, written repaired" {
	local d="$BATS_TEST_TMPDIR"
	printf '%s/cond/bad8?q=\xff\n' "$BASE" >"$d/in"
	"$GATHER" -i "$d/in" >"$d/first.jsonl"
	jq -e '.status == 200 and (.url | endswith("q=\uFFFD"))' "$d/first.jsonl" >/dev/null ||
		fail "first run: $(cat "$d/first.jsonl")"
	run --separate-stderr "$GATHER" --revalidate "$d/first.jsonl" -i "$d/in"
	assert_success
	assert_jq '.[0] | .status == 304 and .not_modified == true'
}

# ---- --stats json -----------------------------------------------------------------

@test "--stats json lists the hosts whose limit came down under --adaptive" {
	urls 30 /shed/t1/1 >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -c 8 --adaptive --retries 40 \
		--retry-delay 0.05 --retry-max-delay 0.3 --body none --stats=json \
		-i "$BATS_TEST_TMPDIR/in"
	assert_success
	run jq -e --arg h "127.0.0.1:$PORT" '.slowed | length == 1 and
		.[0].host == $h and .[0].lowest == 1 and .[0].final >= 1' <<<"$stderr"
	assert_success
}

# ---- usage errors of option values ----------------------------------------------

@test "--resolve, --connect-to, -H, -X and --proto: each bad value is one usage line" {
	local -a cases=(
		"--resolve|:80:1.2.3.4|expected HOST:PORT:ADDR"
		"--resolve|h|expected HOST:PORT:ADDR"
		"--resolve|h:80|expected HOST:PORT:ADDR"
		"--resolve|h:123456:1.2.3.4|expected HOST:PORT:ADDR"
		"--resolve|h:0:1.2.3.4|expected HOST:PORT:ADDR"
		"--resolve|h:8a:1.2.3.4|expected HOST:PORT:ADDR"
		"--resolve|h:80:|'' is not an IP address"
		"--resolve|h:80:1.2.3.4,|'' is not an IP address"
		"--resolve|h:80:[]|'\[\]' is not an IP address"
		"--resolve|h:80:1.2.3.4,[::1],999.1.1.1|'999.1.1.1' is not an IP address"
		"--resolve|h:80:$(printf '1%.0s' {1..60})|is not an IP address"
		"--connect-to|h|expected HOST1:PORT1:HOST2:PORT2"
		"--connect-to|h:80:h2|expected HOST1:PORT1:HOST2:PORT2"
		"--connect-to|h:8x:h2:80|expected HOST1:PORT1:HOST2:PORT2"
		"--connect-to|h:80:h2:70000|expected HOST1:PORT1:HOST2:PORT2"
		"--connect-to|h:80:h2:80 |expected HOST1:PORT1:HOST2:PORT2"
		"-H|a b: c|expected 'Name: value'"
		"-H|: v|expected 'Name: value'"
		"-H|Name|expected 'Name: value'"
		"-H|$(printf 'N\x7f: v')|expected 'Name: value'"
		"-H|$(printf 'N: v\rX: y')|expected 'Name: value'"
		"-X||expected a method such as GET or POST"
		"-X|GE T|expected a method such as GET or POST"
		"-X|$(printf 'G\x7f')|expected a method such as GET or POST"
		"--proto|$(printf 'gophers,%.0s' {1..40})http|list too long"
		"--proto|http,nope|unknown protocol 'nope'"
	)
	local c opt val why
	reset_stats
	for c in "${cases[@]}"; do
		IFS='|' read -r opt val why <<<"$c"
		[[ -n "$why" ]] || fail "case without a reason: $c"
		run --separate-stderr "$GATHER" "$opt" "$val" "$BASE/ok"
		assert_usage_error "^gather: $opt: .*$why"
	done
	assert_nothing_fetched
	# The same values, good: each run fetches.
	run --separate-stderr "$GATHER" --resolve "h.test:$PORT:127.0.0.1,[::1]" \
		--connect-to "x.test::127.0.0.1:$PORT" -H 'N;' -X GET \
		--proto http,https "http://h.test:$PORT/ok" "http://x.test:$PORT/ok"
	assert_success
	assert_jq 'length == 2 and all(.ok and .body == "ok")'
}

# ---- request objects ----------------------------------------------------------------

@test "request objects: each bad member is bad_input with its reason, named by url and id" {
	local d="$BATS_TEST_TMPDIR" u="$BASE/ok"
	cat >"$d/in" <<EOT
{"url": 5}
{"url": "a\u0000b"}
{"method": 5, "url": "$u"}
{"method": "GE T", "url": "$u"}
{"timeout": "x", "url": "$u"}
{"timeout": -1, "url": "$u"}
{"timeout": 1e10, "url": "$u"}
{"sha256": "$(printf 'z%.0s' {1..64})", "url": "$u"}
{"headers": {"X": 5}, "url": "$u"}
{"headers": ["X: 1", 5], "url": "$u"}
{"headers": ["X 1"], "url": "$u"}
{"headers": {"X Y": "1"}, "url": "$u"}
{"headers": {"X": "a\rb"}, "url": "$u"}
{"url": "$u", "url": "$u"}
{"zz": 1, "url": "$u", "id": 7}
{"user": "a:b", "bearer": "t", "url": "$u"}
{"id": 1}
{"url": "$BASE/echo", "timeout": 0.5, "headers": {"X-A": "  v"}, "id": {"a": [1, 2]}}
EOT
	reset_stats
	run --separate-stderr "$GATHER" -i "$d/in"
	assert_failure 1
	assert_jsonl -n 18 --ordered
	run jq -c -s 'map(.error.message)' <<<"$output"
	assert_output '["a request object needs a string \"url\"","a NUL (\\u0000) in a request object'"'"'s url","method must be a word such as POST","method must be a word such as POST","timeout must be a number of seconds","timeout must be a number of seconds","timeout must be a number of seconds","sha256 must be a string of 64 hex digits","header values must be strings","headers must be \"Name: value\" strings","headers must be \"Name: value\" strings","invalid header name or value","invalid header name or value","field \"url\" given twice","unknown field \"zz\" in the request object","\"user\" and \"bearer\" exclude each other","a request object needs a string \"url\"",null]'
	run --separate-stderr "$GATHER" -i "$d/in"
	assert_jq --arg u "$u" 'map(select(.ok | not)) | all(.error.kind == "bad_input") and
		(.[2:16] | all(.url == $u)) and .[14].id == 7 and .[16].id == 1 and
		.[16].url == "{\"id\": 1}"'
	# The good one: its header value without the blanks before it, its id echoed; only it was fetched.
	assert_jq '.[17] | .ok and .id == {"a": [1, 2]} and
		(.body | fromjson | .headers["x-a"]) == "v"'
	assert_equal "$(stat_field requests)" 2
}

# ---- -o names of long URLs ------------------------------------------------------------

@test "-o: a URL over 1 KiB marks its file by hash: the same URL replaces it, another does not" {
	local d="$BATS_TEST_TMPDIR/o" q
	q=$(head -c 1100 /dev/zero | tr '\0' q)
	run --separate-stderr "$GATHER" -o "$d" --name '{name}' "$BASE/p/f?a=$q"
	assert_success
	assert_jq --arg d "$d" '.[0].file == "\($d)/f"'
	assert_equal "$(cat "$d/f")" "$(curl -q -s "$BASE/p/f?a=$q")"
	# Its own file: written over in place.
	run --separate-stderr "$GATHER" -o "$d" --name '{name}' "$BASE/p/f?a=$q"
	assert_success
	assert_jq --arg d "$d" '.[0].file == "\($d)/f"'
	# Another long URL with the same name: a file of its own beside it.
	run --separate-stderr "$GATHER" -o "$d" --name '{name}' "$BASE/p/f?b=$q"
	assert_success
	assert_jq --arg d "$d" '.[0].file == "\($d)/f.1"'
	assert_equal "$(ls "$d" | tr '\n' ' ')" "f f.1 "
}

@test "-j 0 (one per CPU), -j 4 with one record, -j 3 on empty input, bad lines through -j 2" {
	run --separate-stderr "$GATHER" -j 0 "$BASE/p/a" "$BASE/p/b"
	assert_success
	assert_jsonl -n 2 --ordered
	assert_jq 'all(.ok)'
	run --separate-stderr "$GATHER" -j 4 "$BASE/p/a"
	assert_success
	assert_jq 'length == 1 and .[0].ok and .[0].index == 0'
	run --separate-stderr bash -c ': | "$GATHER" -j 3'
	assert_success
	assert_output ''
	assert_no_stderr
	run --separate-stderr bash -c 'printf "%s/p/x\nnot a url\n{\"url\": 5}\n" "$1" |
		"$GATHER" -j 2' _ "$BASE"
	assert_failure 1
	assert_jsonl -n 3 --ordered
	assert_jq '.[0].ok and .[1].error.kind == "invalid_url" and
		.[2].error.kind == "bad_input"'
}

@test "--merge: a bad line after a record another file replaces is exit 2 naming it" {
	local d="$BATS_TEST_TMPDIR"
	"$GATHER" "$BASE/p/a" "$BASE/p/b" >"$d/first"
	{ head -n 1 "$d/first"; echo 'not a record'; } >"$d/bad"
	run --separate-stderr "$GATHER" --merge "$d/bad" "$d/first"
	assert_equal "$status" 2
	assert_equal "$stderr" "gather: --merge: '$d/bad' line 2 is not a record of gather's output"
}

@test "--merge: CRLF line ends are read as LF; a long line that is no record is exit 2" {
	local d="$BATS_TEST_TMPDIR"
	"$GATHER" "$BASE/p/a" "$BASE/p/b" >"$d/lf"
	sed 's/$/\r/' "$d/lf" >"$d/crlf"
	run --separate-stderr "$GATHER" --merge "$d/crlf"
	assert_success
	assert_equal "$output" "$(cat "$d/lf")"
	# 2 MB of one line, not JSON at all.
	head -c 2000000 /dev/zero | tr '\0' x >"$d/junk"
	echo >>"$d/junk"
	run --separate-stderr "$GATHER" --merge "$d/lf" "$d/junk"
	assert_equal "$status" 2
	assert_equal "$stderr" "gather: --merge: '$d/junk' line 1 is not a record of gather's output"
	# A long line whose head, up to "status", is no record: an index
	# that is no number.
	{ printf '{"index":"zero","url":"u","ok":true,"status":200,"body":"'
	  head -c 2000000 /dev/zero | tr '\0' y; printf '"}\n'; } >"$d/badhead"
	run --separate-stderr "$GATHER" --merge "$d/lf" "$d/badhead"
	assert_equal "$status" 2
	assert_equal "$stderr" "gather: --merge: '$d/badhead' line 1 is not a record of gather's output"
}

@test "a name that does not resolve: each of its records fails as dns, in turn; others run" {
	local d="$BATS_TEST_TMPDIR"
	awk -v b="$BASE" 'BEGIN { for (k = 0; k < 60; k++)
		if (k % 3 == 2) printf "%s/p/%d\n", b, k
		else printf "http://gather-no-such-host-%d.invalid/x?%d\n", k % 3, k }' >"$d/in"
	run --separate-stderr "$GATHER" -c 8 -i "$d/in"
	assert_failure 1
	assert_jsonl -n 60 --ordered
	assert_jq 'all(.[]; if .index % 3 == 2 then .ok else
		(.ok | not) and .error.kind == "dns" and .attempts == 1 end)'
}

# ---- a terminal -------------------------------------------------------------------

@test "stdout a terminal: records and tap lines are written, each line whole" {
	printf -v cmd '%q ' "$GATHER" -c 1 "$BASE/p/a" "$BASE/p/b"
	run script -qfec "$cmd" /dev/null </dev/null
	assert_success
	output=$(tr -d '\r' <<<"$output")
	assert_jsonl -n 2 --ordered
	assert_jq 'all(.ok)'
	printf -v cmd '%q ' "$GATHER" -c 1 --fail --format tap "$BASE/p/a" "$BASE/status/500"
	run script -qfec "$cmd" /dev/null </dev/null
	assert_equal "$status" 1
	output=$(tr -d '\r' <<<"$output")
	assert_equal "$(head -n 2 <<<"$output")" $'TAP version 13\nok 1 - '"$BASE/p/a"
	assert_equal "$(grep -c '^not ok 2 - ' <<<"$output")" 1
	assert_equal "$(tail -n 1 <<<"$output")" '1..2'
}

@test "progress on a terminal, the run cut by --deadline: the count left says done N/3" {
	printf '%s/delay/3000?i=%d\n' "$BASE" 0 "$BASE" 1 "$BASE" 2 >"$BATS_TEST_TMPDIR/in"
	printf -v cmd '%q ' "$GATHER" -c 1 --deadline 1 -i "$BATS_TEST_TMPDIR/in"
	run script -qfec "stty cols 80; $cmd >$(printf %q "$BATS_TEST_TMPDIR/out")" \
		/dev/null </dev/null
	assert_equal "$status" 1
	last=$(printf '%s' "$output" | tr '\r' '\n' | sed 's/\x1b\[K//g' | grep -a '^done ' | tail -n 1 || true)
	# What was read ends as deadline (a record or so is read ahead of the
	# one slot); the count left says how many of the 3 that was.
	n=$(wc -l <"$BATS_TEST_TMPDIR/out")
	((n >= 1 && n < 3)) || fail "$n records"
	run jq -s -e 'all(.error.kind == "deadline")' "$BATS_TEST_TMPDIR/out"
	assert_success
	[[ "$last" =~ ^"done $n/3  ok 0  failed $n  in "[0-9.]+s$ ]] || fail "last line: '$last'"
}

# ---- -o: NAME taken while the body comes ----------------------------------------


@test "-o: a directory made at NAME during the transfer: the rename fails as io" {
	local d="$BATS_TEST_TMPDIR/o"
	# 4 bytes, 700 ms apart: 2 s after the first for the name to be taken.
	start_bg "$GATHER" -o "$d" "$BASE/drip/4?ms=700"
	wait_until 20 size_at_least "$d/0.part" 1 || fail "no body came"
	mkdir "$d/0"
	wait_bg 30
	assert_equal "$BG_STATUS" 1
	load_bg_output
	assert_jq --arg d "$d" '.[0] | .ok == false and .error.kind == "io" and
		.error.message == "cannot rename '\''\($d)/0.part'\'' to '\''\($d)/0'\'': Is a directory"'
	[[ -d "$d/0" ]] || fail "the directory is gone"
	assert_equal "$(ls -A "$d")" 0
}

@test "-o: another URL's file put at NAME during the transfer is never replaced" {
	local d="$BATS_TEST_TMPDIR/o"
	start_bg "$GATHER" -o "$d" "$BASE/drip/4?ms=700"
	wait_until 20 size_at_least "$d/0.part" 1 || fail "no body came"
	python3 -c 'import os, sys
with open(sys.argv[1], "w") as f:
    f.write("theirs")
os.setxattr(sys.argv[1], "user.gather.url", b"http://other.test/x")' "$d/0"
	wait_bg 30
	assert_equal "$BG_STATUS" 1
	load_bg_output
	assert_jq --arg d "$d" '.[0] | .ok == false and .error.kind == "io" and
		.error.message == "refusing to replace '\''\($d)/0'\'': it belongs to another URL"'
	assert_equal "$(cat "$d/0")" theirs
	assert_equal "$(ls -A "$d")" 0
}

@test "progress on a terminal: an ETA past an hour is shown as H:MM:SS" {
	urls 30000 /p/eta >"$BATS_TEST_TMPDIR/in"
	printf -v cmd '%q ' "$GATHER" -c 4 --rate 2 --deadline 4 -i "$BATS_TEST_TMPDIR/in"
	run script -qfec "stty cols 100; $cmd >/dev/null" /dev/null </dev/null
	assert_equal "$status" 1
	lines=$(printf '%s' "$output" | tr '\r' '\n' | sed 's/\x1b\[K//g' | grep -a '^done ' || true)
	# About 2 records a second, 30,000 to go: hours.
	grep -Eq '^done [0-9]+/30000 0%  .*  ETA [1-9][0-9]?:[0-5][0-9]:[0-5][0-9]$' <<<"$lines" ||
		fail "no ETA in hours: $lines"
}

@test "-j 2: both workers killed: every record read ends as other, none is lost" {
	local pid rc i
	# /hang never answers: no record can end ok before the kill.
	urls 12 /hang >"$BATS_TEST_TMPDIR/in"
	reset_stats
	"$GATHER" -j 2 -c 2 -i "$BATS_TEST_TMPDIR/in" \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	# One host: its records all go to one worker, one at a time.
	for ((i = 0; i < 200; i++)); do
		(( $(stat_field inflight) >= 1 )) && break
		sleep 0.05
	done
	mapfile -t workers < <(pgrep -P "$pid")
	assert_equal "${#workers[@]}" 2
	kill -KILL "${workers[0]}" "${workers[1]}"
	wait "$pid" && rc=0 || rc=$?
	assert_equal "$rc" 1
	output=$(<"$BATS_TEST_TMPDIR/out")
	assert_jsonl --ordered
	# The one in flight and those never sent: all other, naming a death.
	assert_jq 'length == 12 and (map(.index) == [range(12)]) and
		all(.ok == false and .error.kind == "other" and
		    (.error.message | test("^-j: worker [12] \\(pid [0-9]+\\) died: killed by signal 9$")))'
}

@test "--stats over 110 slowed hosts: 100 named, '10 more hosts', the text whole" {
	awk -v p="$PORT" 'BEGIN { for (k = 0; k < 110; k++)
		printf "http://h%d.test:%d/status/503\n", k, p }' >"$BATS_TEST_TMPDIR/in"
	# Every name to the one server: each host's one 503 halves its limit.
	run --separate-stderr "$GATHER" -c 8 --adaptive --connect-to "::127.0.0.1:$PORT" \
		--stats -i "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$(grep -c '^slowed:   h[0-9]*\.test:[0-9]* lowest 1, final 1$' <<<"$stderr")" 100
	assert_equal "$(tail -n 1 <<<"$stderr")" 'slowed:   10 more hosts'
	grep -qx 'records:  110' <<<"$stderr" || fail "$stderr"
	run --separate-stderr "$GATHER" -c 8 --adaptive --connect-to "::127.0.0.1:$PORT" \
		--stats=json -i "$BATS_TEST_TMPDIR/in"
	assert_success
	run jq -e '(.slowed | length) == 100 and .slowed_more == 10 and
		(.slowed | map(.host) | unique | length) == 100' <<<"$stderr"
	assert_success
}

@test "--netrc-file: 'default' alone serves every host; 'account' is read and not sent" {
	local netrc="$BATS_TEST_TMPDIR/netrc"
	printf 'default\n\tlogin dflt\n\taccount acct password "d p"\n' >"$netrc"
	run --separate-stderr "$GATHER" --netrc-file "$netrc" "$BASE/echo" \
		"http://localhost:$PORT/echo"
	assert_success
	assert_equal "$(auth_of 0)" "$(basic_json 'dflt:d p')"
	assert_equal "$(auth_of 1)" "$(basic_json 'dflt:d p')"
	[[ "$output" != *acct* ]] || fail "the account went out: $output"
}
