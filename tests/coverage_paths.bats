#!/usr/bin/env bats
# Paths a user can reach that the other files did not walk (found with
# make coverage): output that cannot be written, descriptor limits, input
# that cannot be read, option values that are refused, every JSON escape
# of a request object, and the fields a request object may not have.

bats_require_minimum_version 1.5.0
load helper

setup_file() { start_server; }
teardown_file() { stop_server; }

@test "stdout on /dev/full: one line 'cannot write output', exit 1" {
	run --separate-stderr bash -c '"$GATHER" "$1/ok" "$1/ok" >/dev/full' _ "$BASE"
	assert_failure 1
	assert_equal "$stderr" "gather: cannot write output: No space left on device"
}

@test "--format json on /dev/full: the same one line, exit 1" {
	run --separate-stderr bash -c '"$GATHER" --format json "$1/ok" >/dev/full' _ "$BASE"
	assert_failure 1
	assert_equal "$stderr" "gather: cannot write output: No space left on device"
}

@test "--help on /dev/full: 'cannot write output', exit 1" {
	run --separate-stderr bash -c '"$GATHER" --help >/dev/full'
	assert_failure 1
	assert_equal "$stderr" "gather: cannot write output: No space left on device"
}

@test "--help and --version with stdout closed: exit 141 and silence" {
	run --separate-stderr bash -c '"$GATHER" --help >&-'
	assert_equal "$status" 141
	assert_equal "$stderr" ""
	run --separate-stderr bash -c '"$GATHER" --version >&-'
	assert_equal "$status" 141
	assert_equal "$stderr" ""
}

@test "ulimit -n 20: -c 4 cannot fit at all; the message says raise it" {
	run --separate-stderr bash -c 'ulimit -n 20 && "$GATHER" -c 4 "$1/ok"' _ "$BASE"
	assert_usage_error '^gather: -c 4 needs about [0-9]+ file descriptors but only 20 are allowed; raise ulimit -n$'
	need=${stderr#*needs about }
	((${need%% *} > 20)) || fail "$stderr"
}

@test "ulimit -n 60: -c 40 does not fit; the message names the -c that does" {
	run --separate-stderr bash -c 'ulimit -n 60 && "$GATHER" -c 40 "$1/ok"' _ "$BASE"
	assert_usage_error 'only 60 are allowed; use -c [0-9]+ or raise ulimit -n$'
	fits=${stderr#*use -c }
	fits=${fits%% *}
	((fits > 1 && fits < 40)) || fail "$stderr"
	# One more than it names does not fit.
	run --separate-stderr bash -c 'ulimit -n 60 && "$GATHER" -c "$2" "$1/ok"' _ "$BASE" $((fits + 1))
	assert_usage_error "use -c $fits or raise ulimit -n\$"
	# And the -c it names then runs.
	run --separate-stderr bash -c 'ulimit -n 60 && "$GATHER" -c "$2" "$1/ok"' _ "$BASE" "$fits"
	assert_success
	assert_jq '.[0].ok and .[0].body == "ok"'
}

@test "-i DIRECTORY: one line 'cannot read', exit 3, no record" {
	run --separate-stderr "$GATHER" -i "$BATS_TEST_TMPDIR"
	assert_one_line_error 3 "cannot read '.*': is a directory"
}

@test "input whose read fails (/proc/self/mem): 'cannot read input', exit 3" {
	run --separate-stderr "$GATHER" -i /proc/self/mem
	assert_one_line_error 3 '^gather: cannot read input: Input/output error$'
}

@test "--speed-limit with --speed-time: a fast transfer is untouched" {
	run --separate-stderr "$GATHER" --speed-limit 1k --speed-time 5 "$BASE/size/3000"
	assert_success
	assert_jq '.[0].ok and .[0].size == 3000'
}

@test "refused option values: --stats=xml, --hash ',', --cacert, --cert, -d @DIR" {
	reset_stats
	gather_usage_error --stats=xml "$BASE/ok"
	assert_usage_error "^gather: --stats: expected --stats or --stats=json, not 'xml'$"
	gather_usage_error --hash , "$BASE/ok"
	assert_usage_error "^gather: --hash: expected sha256, sha1 or md5"
	gather_usage_error --cacert "$BATS_TEST_TMPDIR/none.pem" "$BASE/ok"
	assert_usage_error "^gather: --cacert: cannot read '.*none.pem': No such file"
	gather_usage_error --cert '' "$BASE/ok"
	assert_usage_error "^gather: --cert: expected a file$"
	gather_usage_error --cert ':secret' "$BASE/ok"
	assert_usage_error '^gather: --cert: expected FILE\[:PASSWORD\]$'
	gather_usage_error --cert 'a\:b:secret' "$BASE/ok"
	assert_usage_error "^gather: --cert: cannot read 'a:b': No such file"
	gather_usage_error -d "@$BATS_TEST_TMPDIR" "$BASE/ok"
	assert_usage_error "^gather: -d: cannot read '.*': Is a directory$"
	assert_nothing_fetched
}

@test "every JSON escape in a request object's body reaches the server as its bytes" {
	printf '{"url": "%s/rawbody", "method": "POST", "body": "%s"}\n' "$BASE" \
		'\b\f\u00E9\u20AC\ud83d\uDE00\/\t\r\n\\\"\u0041' >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" --body base64 -i "$BATS_TEST_TMPDIR/in"
	assert_success
	got=$(printf '%s\n' "$output" | jq -r '.body' | base64 -d | od -An -tx1 | tr -d ' \n')
	assert_equal "$got" "080cc3a9e282acf09f98802f090d0a5c2241"
}

@test "request objects: bad sha256 and unknown fields are bad_input, in order" {
	{
		printf '{"url": "%s/ok", "sha256": "xyz"}\n' "$BASE"
		printf '{"url": "%s/ok", "bogus": 1}\n' "$BASE"
		printf '{"url": "%s/ok"}\n' "$BASE"
	} >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_jq 'length == 3 and (map(.index) == [0, 1, 2])'
	assert_jq '.[0].error.kind == "bad_input" and
		.[0].error.message == "sha256 must be a string of 64 hex digits"'
	assert_jq '.[1].error.kind == "bad_input" and
		.[1].error.message == "unknown field \"bogus\" in the request object"'
	assert_jq '.[2].ok and .[2].body == "ok"'
}

@test "-o: a NAME.part that is a FIFO, a directory, a hard link or a symlink is refused" {
	local d="$BATS_TEST_TMPDIR/out"
	mkdir -p "$d/1.part"
	mkfifo "$d/0.part"
	printf 'keep\n' >"$BATS_TEST_TMPDIR/other"
	ln "$BATS_TEST_TMPDIR/other" "$d/2.part"
	ln -s "$BATS_TEST_TMPDIR/other" "$d/3.part"
	run --separate-stderr "$GATHER" -o "$d" "$BASE/ok" "$BASE/ok" "$BASE/ok" "$BASE/ok"
	assert_failure 1
	assert_jq --arg d "$d" 'map(.error.kind) == ["io", "io", "io", "io"] and
		map(.error.message) == [
		"refusing to write '\''\($d)/0'\'': not a regular file",
		"refusing to write '\''\($d)/1'\'': not a regular file",
		"refusing to write '\''\($d)/2'\'': has other hard links",
		"refusing to write '\''\($d)/3'\'': is a symbolic link"]'
	assert_equal "$(cat "$BATS_TEST_TMPDIR/other")" keep
	[[ -p "$d/0.part" && -d "$d/1.part" && -L "$d/3.part" ]]
	[[ ! -e "$d/0" && ! -e "$d/1" && ! -e "$d/2" && ! -e "$d/3" ]]
}

@test "-o under ulimit -f: a body past the limit is an io error, the next file is whole" {
	local d="$BATS_TEST_TMPDIR/out"
	# SIGXFSZ ignored, as a shell script may have it: write() says EFBIG.
	# 2 MiB: room for what a --coverage build writes at its exit.
	run --separate-stderr bash -c 'trap "" XFSZ; ulimit -f 2048 &&
		"$GATHER" -o "$1" "$2/size/3000000" "$2/size/100"' _ "$d" "$BASE"
	assert_failure 1
	assert_jq --arg d "$d" '.[0].ok == false and .[0].error.kind == "io" and
		.[0].error.message == "cannot write '\''\($d)/0'\'': File too large"'
	assert_jq '.[1].ok and .[1].size == 100'
	[[ ! -e "$d/0" ]] || fail "a partial body was renamed into place"
	assert_equal "$(stat -c %s "$d/1")" 100
	# With the limit gone, --continue finishes the .part to the whole body.
	run --separate-stderr "$GATHER" -o "$d" --continue "$BASE/file/3000000"
	assert_success
	assert_jq '.[0].ok and .[0].size == 3000000'
	assert_equal "$(stat -c %s "$d/0")" 3000000
}

@test "stdout under ulimit -f: 'cannot write output: File too large', exit 1" {
	run --separate-stderr bash -c 'trap "" XFSZ; ulimit -f 2048 &&
		"$GATHER" "$1/size/3000000" >"$2"' _ "$BASE" "$BATS_TEST_TMPDIR/out.jsonl"
	assert_failure 1
	assert_equal "$stderr" "gather: cannot write output: File too large"
}

@test "-I: a folded header line continues the value before it" {
	run --separate-stderr "$GATHER" -I "$BASE/raw/folded-late"
	assert_success
	assert_jq '.[0].ok and .[0].body == "ok" and .[0].headers["x-fold"] == "a b" and
		.[0].headers["content-length"] == "2"'
}

@test "ulimit -v: a body memory cannot hold is 'out of memory', the next record fine" {
	if ldd "$GATHER" | grep -q libasan; then
		skip "ASan reserves more address space than ulimit -v leaves"
	fi
	# 600 MB of zeros, gzip-encoded (cheap for the server), into 400 MB.
	run --separate-stderr bash -c 'ulimit -v 400000 &&
		"$GATHER" --max-body 2G "$1/bomb/600000000" "$1/ok"' _ "$BASE"
	assert_failure 1
	assert_jq '.[0].ok == false and .[0].error.kind == "other" and
		(.[0].error.message | startswith("out of memory for the body (")) and
		.[0].size < 600000000'
	assert_jq '.[1].ok and .[1].body == "ok"'
}

@test "--progress --shard 1/3: the total counts only the shard's records" {
	# Slow enough (1.5 s at -c 1) for the progress line to be drawn.
	seq 0 9 | sed "s|^|$BASE/delay/500?i=|" >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" --progress -c 1 --shard 1/3 \
		-i "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_jq 'map(.index) == [1, 4, 7]'
	totals=$(printf '%s' "$stderr" | tr '\r' '\n' | grep -o 'done [0-9]*/[0-9]*' |
		sed 's|.*/||' | sort -u)
	assert_equal "$totals" 3
}

@test "--resolve +HOST:PORT:ADDR and --connect-to with an IPv6 HOST1 reach the server" {
	run --separate-stderr "$GATHER" --resolve "+example.test:$PORT:127.0.0.1" \
		"http://example.test:$PORT/ok"
	assert_success
	assert_jq '.[0].ok and .[0].body == "ok" and .[0].remote_ip == "127.0.0.1"'
	run --separate-stderr "$GATHER" --connect-to "[2001:db8::1]:80:127.0.0.1:$PORT" \
		"http://[2001:db8::1]/ok"
	assert_success
	assert_jq '.[0].ok and .[0].body == "ok" and .[0].remote_port == '"$PORT"
}

@test "--connect-to with an unclosed [ in either host is a usage error" {
	gather_usage_error --connect-to "[2001:db8::1:80:127.0.0.1:$PORT" "$BASE/ok"
	assert_usage_error '^gather: --connect-to: expected HOST1:PORT1:HOST2:PORT2, not '
	gather_usage_error --connect-to "example.test:80:[::1:$PORT" "$BASE/ok"
	assert_usage_error '^gather: --connect-to: expected HOST1:PORT1:HOST2:PORT2, not '
}

@test "--retry-on '!reset' takes one kind out of the default; unknown items are refused" {
	run --separate-stderr "$GATHER" --retries 2 --retry-delay 0 --retry-on '!reset' \
		"$BASE/reset" "$BASE/status/503"
	assert_failure 1
	assert_jq '.[0].error.kind == "reset" and .[0].attempts == 1'
	assert_jq '.[1].ok and .[1].status == 503 and .[1].attempts == 3'
	gather_usage_error --retry-on bogus "$BASE/ok"
	assert_usage_error "^gather: --retry-on: unknown item 'bogus': expected an error kind"
}

@test "request objects with truncated literals and bad numbers are bad_input, one each" {
	{
		printf '{"url": tru}\n{"url": nul}\n{"url": fals}\n'
		for n in 1. - 1e 01 '1.5e+'; do
			printf '{"url": "%s/ok", "timeout": %s}\n' "$BASE" "$n"
		done
		printf '{"url": "%s/ok", "timeout": 1.5e+0}\n' "$BASE"
	} >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_jq 'length == 9 and map(.index) == [range(9)]'
	assert_jq '.[:8] | all(.ok == false and .error.kind == "bad_input" and
		.error.message == "malformed request object (not strict JSON)")'
	assert_jq '.[8].ok and .[8].body == "ok"'
}

@test "--revalidate: an asctime Last-Modified (after blanks) goes back as an HTTP date" {
	printf '  \t{"index":0,"url":"%s/echo","ok":true,"etag":null,"last_modified":"Tue Dec  1 10:00:00 2026"}\n' \
		"$BASE" >"$BATS_TEST_TMPDIR/prev"
	run --separate-stderr "$GATHER" --revalidate "$BATS_TEST_TMPDIR/prev" "$BASE/echo"
	assert_success
	assert_jq '.[0].body | fromjson | .headers["if-modified-since"] ==
		"Tue, 01 Dec 2026 10:00:00 GMT"'
}

@test "--revalidate and --resume refuse a FILE that is a directory or not our output" {
	gather_usage_error --revalidate "$BATS_TEST_TMPDIR" "$BASE/ok"
	assert_usage_error "^gather: --revalidate: cannot read '.*': Is a directory$"
	gather_usage_error --resume "$BATS_TEST_TMPDIR" "$BASE/ok"
	assert_usage_error "^gather: --resume: cannot read '.*': Is a directory$"
	printf '[{"index":0}]\n' >"$BATS_TEST_TMPDIR/arr"
	gather_usage_error --revalidate "$BATS_TEST_TMPDIR/arr" "$BASE/ok"
	assert_usage_error "line 1 is not a record of gather's output$"
}

@test "--stats: bytes past a MiB are shown in MiB too" {
	run --separate-stderr "$GATHER" --stats "$BASE/size/2000000"
	assert_success
	[[ "$stderr" == *$'bytes:    2000000 (1.9 MiB)\n'* ]] || fail "stderr: $stderr"
}

@test "--stats: a status past 599 is counted as other; --fail makes it an http failure" {
	run --separate-stderr "$GATHER" --stats=json "$BASE/raw/status999" "$BASE/ok"
	assert_success
	assert_jq '.[0].ok and .[0].status == 999'
	printf '%s\n' "$stderr" | jq -e '.status == {"other": 1, "2xx": 1} and .ok == 2' >/dev/null ||
		fail "stderr: $stderr"
	run --separate-stderr "$GATHER" --fail "$BASE/raw/status999"
	assert_failure 1
	assert_jq '.[0].ok == false and .[0].status == 999 and .[0].error.kind == "http"'
}

@test "progress on a 30-column terminal: every drawn line fits in 29 columns" {
	seq 0 5 | sed "s|^|$BASE/delay/400?i=|" >"$BATS_TEST_TMPDIR/in"
	printf -v cmd '%q ' "$GATHER" -c 1 -i "$BATS_TEST_TMPDIR/in"
	run script -qfec "stty cols 30; $cmd >$(printf %q "$BATS_TEST_TMPDIR/out")" \
		/dev/null </dev/null
	assert_success
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/out")" 6
	# Each drawing is \r LINE \e[K; take the LINEs.
	lines=$(printf '%s' "$output" | tr '\r' '\n' | sed -n 's/\x1b\[K$//p' | grep -v '^$' || true)
	[[ -n "$lines" ]] || fail "no progress line drawn: $(printf '%q' "$output")"
	while IFS= read -r l; do
		((${#l} <= 29)) || fail "a line of ${#l} columns: '$l'"
	done <<<"$lines"
	grep -q '^done ' <<<"$lines" || fail "lines: $lines"
}

@test "stderr closed: -v lines go nowhere, and never into a file of -o" {
	local d="$BATS_TEST_TMPDIR/out"
	run --separate-stderr bash -c '"$GATHER" -v -o "$1" "$2/size/5000" "$2/ok" 2>&-' \
		_ "$d" "$BASE"
	assert_success
	assert_jq 'length == 2 and all(.ok)'
	assert_equal "$(stat -c %s "$d/0")" 5000
	assert_equal "$(tr -d a <"$d/0" | wc -c)" 0
	assert_equal "$(cat "$d/1")" ok
}

@test "--no-compressed --max-body 1k: a Content-Length over it is refused before the body" {
	run --separate-stderr "$GATHER" --no-compressed --max-body 1k "$BASE/size/2048" \
		"$BASE/size/1024"
	assert_failure 1
	assert_jq '.[0].ok == false and .[0].error.kind == "too_large" and
		.[0].error.message == "Content-Length larger than 1024 bytes" and .[0].size == 0'
	assert_jq '.[1].ok and .[1].size == 1024'
}

@test "-v with a URL over 512 bytes: its line is whole and escaped, one line" {
	local long
	long=$(printf 'a%.0s' {1..700})
	run --separate-stderr "$GATHER" -v "$BASE/p/$long?q=\\x"
	assert_success
	assert_equal "${#stderr_lines[@]}" 1
	[[ "$stderr" == "gather: [0] 200 "*"s $BASE/p/$long?q=\\\\x" ]] ||
		fail "not the whole escaped line: ${stderr: -80}"
}

@test "-v under allocation failures: a long line is cut, never replaced by another" {
	local long
	long=$(printf 'a%.0s' {1..700})
	[[ "$GATHER" != */obj/asan/* ]] || skip "LD_PRELOAD and ASan do not mix"
	make -s -C "$BATS_TEST_DIRNAME/.." obj/faultinj.so >/dev/null
	# Every allocation of 700 bytes or more fails, -v's line's too: the
	# line is cut at 511 bytes of text, and is still its own.
	run --separate-stderr env LD_PRELOAD="$BATS_TEST_DIRNAME/../obj/faultinj.so" \
		GATHER_FAULT='malloc:>700' "$GATHER" -v "$BASE/p/$long"
	assert_equal "${#stderr_lines[@]}" 1
	[[ "$stderr" == "gather: [0] 200 "*"s $BASE/p/aaa"* ]] || fail "$stderr"
	((${#stderr} == 519)) || fail "${#stderr} bytes"
}

@test "--name: {host}, {id} (an object compact, a string made safe) and {name}; {path} drops leading dots" {
	cd "$BATS_TEST_TMPDIR"
	printf '%s\n' '{"url":"'$BASE'/p/..hid","id":{"b":[1,2]}}' \
		'{"url":"'$BASE'/p/a/c/","id":"x/y\u0001z"}' \
		'{"url":"'$BASE'/","id":7}' >in.jsonl
	run --separate-stderr "$GATHER" -o names --name '{host}-{id}-{name}' - <in.jsonl
	assert_success
	assert_jq 'map(.file) == ["names/127.0.0.1-{\"b\":[1,2]}-..hid",
		"names/127.0.0.1-x_y_z-index.html", "names/127.0.0.1-7-index.html"]'
	assert_equal "$(cat 'names/127.0.0.1-x_y_z-index.html')" "p"
	run --separate-stderr "$GATHER" -o paths --name '{path}' - <in.jsonl
	assert_success
	assert_jq 'map(.file) == ["paths/p/__hid", "paths/p/a/c/index.html",
		"paths/index.html"]'
	assert_equal "$(cat paths/p/__hid)" "p"
}

@test "--name: a name over 200 bytes is cut at a character boundary" {
	cd "$BATS_TEST_TMPDIR"
	long=$(printf 'é%.0s' $(seq 1 150))
	run --separate-stderr "$GATHER" -o long --name "$long{index}" "$BASE/ok"
	assert_success
	assert_jq --arg f "long/${long:0:100}" '.[0].file == $f'
	assert_equal "$(cat "long/${long:0:100}")" "ok"
}

@test "host lookups: 12 names of --resolve, 3 URLs each, at -c 36 all pass in order" {
	local args=() urls=() i j
	for i in $(seq 1 12); do
		args+=(--resolve "h$i.test:$PORT:127.0.0.1")
		for j in 1 2 3; do urls+=("http://h$i.test:$PORT/p/$j"); done
	done
	run --separate-stderr "$GATHER" -c 36 "${args[@]}" "${urls[@]}"
	assert_success
	assert_jq 'length == 36 and all(.ok and .body == "p") and
		map(.index) == [range(36)] and .[35].url == "http://h12.test:'$PORT'/p/3"'
}

@test "host lookups: a name that fails fails every waiter as dns; user@address and [::1] need none" {
	run --separate-stderr "$GATHER" -c 6 --retries 0 \
		http://nonexistent.invalid/a http://nonexistent.invalid/b \
		http://nonexistent.invalid/c http://nonexistent.invalid/d \
		"http://u:p@127.0.0.1:$PORT/ok" "http://[::1]:1/x"
	assert_failure 1
	assert_jq 'map([.index, .ok, .error.kind]) == [[0, false, "dns"],
		[1, false, "dns"], [2, false, "dns"], [3, false, "dns"],
		[4, true, null], [5, false, "connect"]]'
}
