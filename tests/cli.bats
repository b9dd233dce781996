#!/usr/bin/env bats
# The command line: usage errors, exit statuses, --help, --version and the
# messages on stderr.

bats_require_minimum_version 1.5.0
load helper

setup_file() { start_server; }
teardown_file() { stop_server; }

# Every test starts with the server's counters at zero, so that a test of
# usage errors can end by checking that none of them fetched anything.
setup() { reset_stats; }

@test "an unknown option is a usage error" {
	gather_usage_error --no-such-option "$BASE/ok"
	gather_usage_error -Z "$BASE/ok"
	gather_usage_error "$BASE/ok" --bogus=1
	assert_nothing_fetched
}

@test "an option without its value is a usage error" {
	gather_usage_error "$BASE/ok" -c
	gather_usage_error "$BASE/ok" --timeout
	gather_usage_error "$BASE/ok" --max-body
	assert_nothing_fetched
}

@test "-c must be a whole number from 1 to 100000" {
	gather_usage_error -c 0 "$BASE/ok"
	gather_usage_error -c abc "$BASE/ok"
	gather_usage_error -c -1 "$BASE/ok"
	gather_usage_error -c 1.5 "$BASE/ok"
	gather_usage_error -c 100001 "$BASE/ok"
	gather_usage_error -c '' "$BASE/ok"
	gather_usage_error --concurrency=8x "$BASE/ok"
	assert_nothing_fetched
	# 100000 parses; it runs only where that many descriptors are allowed.
	# What it needs counts the multi handles' descriptors too: more than
	# -c, and more than the hard limit when it is refused.
	run --separate-stderr "$GATHER" -c 100000 "$BASE/ok"
	hard=$(ulimit -Hn)
	if ((status == 0)); then
		[[ "$hard" == unlimited ]] || ((hard >= 100032)) ||
			fail "-c 100000 ran with a hard limit of $hard"
	else
		assert_usage_error '^gather: -c 100000 needs about [0-9]+ file '
		need=${stderr#*needs about }
		need=${need%% *}
		((need >= 100032 && need > hard)) ||
			fail "needs $need, with a hard limit of $hard"
	fi
}

@test "-t and --connect-timeout must be non-negative seconds" {
	gather_usage_error -t -1 "$BASE/ok"
	gather_usage_error -t abc "$BASE/ok"
	gather_usage_error -t 1s "$BASE/ok"
	gather_usage_error --connect-timeout x "$BASE/ok"
	gather_usage_error --connect-timeout -2 "$BASE/ok"
	assert_nothing_fetched
	run --separate-stderr "$GATHER" -t 0 --connect-timeout 0.5 "$BASE/ok"
	assert_success
	run --separate-stderr "$GATHER" -t 2.5 --connect-timeout 0 "$BASE/ok"
	assert_success
}

@test "--body must be one of the modes" {
	gather_usage_error --body wrong "$BASE/ok"
	gather_usage_error --body '' "$BASE/ok"
	assert_nothing_fetched
}

@test "--max-body must be a size" {
	gather_usage_error --max-body 12X "$BASE/ok"
	gather_usage_error --max-body -1 "$BASE/ok"
	gather_usage_error --max-body k "$BASE/ok"
	gather_usage_error --max-body 1T "$BASE/ok"
	assert_nothing_fetched
}

@test "a flag given a value is a usage error" {
	gather_usage_error --quiet=yes "$BASE/ok"
	assert_nothing_fetched
}

@test "option values can be attached" {
	run --separate-stderr "$GATHER" -c1 -t5 --timeout=5 --body=none \
		"$BASE/size/7"
	assert_success
	assert_jq '.[0].size == 7 and (.[0] | has("body") | not)'
}

@test "an input file that cannot be opened: exit 3 and one line" {
	run --separate-stderr "$GATHER" -i /nonexistent/urls.txt
	# The message names the file.
	assert_one_line_error 3 '/nonexistent/urls\.txt'
}

@test "an input that is a directory: exit 3" {
	run --separate-stderr "$GATHER" -i "$BATS_TEST_TMPDIR"
	assert_one_line_error 3
}

@test "exit 0 when every record is ok, 1 when one is not" {
	run --separate-stderr "$GATHER" "$BASE/ok" "$BASE/status/404"
	assert_success
	port=$(closed_port)
	run --separate-stderr "$GATHER" "$BASE/ok" "http://127.0.0.1:$port/"
	assert_failure 1
	assert_equal "${#lines[@]}" 2
}

@test "-V prints gather's version and those of libcurl, libev and cJSON" {
	run --separate-stderr "$GATHER" -V
	assert_success
	assert_equal "${#lines[@]}" 1
	assert_output --regexp '^gather [0-9]+\.[0-9]+'
	curl_v=$(curl-config --version 2>/dev/null | awk '{ print $2 }')
	if [[ -n "$curl_v" ]]; then
		assert_output --partial "libcurl/$curl_v"
	fi
	if [[ -r /usr/include/ev.h ]]; then
		ev_v=$(awk '/define EV_VERSION_MAJOR/ { ma = $3 }
			/define EV_VERSION_MINOR/ { mi = $3 }
			END { print ma "." mi }' /usr/include/ev.h)
		assert_output --regexp "libev[ /]$ev_v"
	fi
	if [[ -r /usr/include/cjson/cJSON.h ]]; then
		cj_v=$(awk '/define CJSON_VERSION_(MAJOR|MINOR|PATCH)/ { v = v sep $3; sep = "." }
			END { print v }' /usr/include/cjson/cJSON.h)
		assert_output --regexp "cJSON[ /]$cj_v"
	fi
	run --separate-stderr "$GATHER" --version
	assert_success
	assert_output --regexp '^gather '
}

@test "-h and --help print usage on stdout and exit 0" {
	for opt in -h --help; do
		run --separate-stderr "$GATHER" "$opt"
		assert_success
		assert_output --partial 'Usage: gather'
		assert_no_stderr
	done
}

@test "--help fetches nothing even with URLs given" {
	run --separate-stderr "$GATHER" "$BASE/ok" --help
	assert_success
	assert_output --partial 'Usage: gather'
	assert_equal "$(stat_field requests)" 0
}

@test "-v logs one line per finished transfer on stderr" {
	run --separate-stderr "$GATHER" -v "$BASE/ok" "$BASE/status/404" \
		"$BASE/reset"
	assert_failure 1
	assert_equal "${#lines[@]}" 3
	assert_jsonl
	assert_equal "$(printf '%s\n' "$stderr" | grep -c .)" 3
}

@test "-q keeps stderr silent, even when records fail" {
	port=$(closed_port)
	run --separate-stderr "$GATHER" -q "$BASE/ok" "http://127.0.0.1:$port/" \
		"ftp://x/" 'http://exa mple.com/'
	assert_failure 1
	assert_equal "${#lines[@]}" 4
	assert_no_stderr
}

@test "a run without problems writes nothing on stderr" {
	run --separate-stderr "$GATHER" "$BASE/ok" "$BASE/utf8"
	assert_success
	assert_no_stderr
}

@test "-v lines show control bytes in a URL escaped, never raw" {
	url="$BASE/a"$'\e[2Jb\rc\nd\x7fe\\f'
	run --separate-stderr "$GATHER" -v "$url" "$BASE/ok"
	assert_failure 1
	assert_equal "${#lines[@]}" 2
	# One line per record, the URL's bytes as \xHH and its \ as \\.
	assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 2
	printf '%s\n' "$stderr" | grep -qF "$BASE/a\\x1b[2Jb\\x0dc\\x0ad\\x7fe\\\\f" ||
		fail "no escaped URL in: $stderr"
	if printf '%s' "$stderr" | LC_ALL=C grep -q $'[\e\r\x7f]'; then
		fail "a raw control byte on stderr: $stderr"
	fi
	# The record keeps the URL as given.
	assert_jq --arg u "$url" '.[0].url == $u'
}

@test "--help and --version to a full device: exit 1 and one line" {
	for opt in --help --version; do
		run --separate-stderr bash -c '"$GATHER" "$1" >/dev/full' _ "$opt"
		assert_one_line_error 1
		assert_equal "$stderr" \
			'gather: cannot write output: No space left on device'
	done
}

@test "-d @/dev/stdin is refused as -d @- is: stdin carries the URLs" {
	for name in /dev/stdin /dev/fd/0 /proc/self/fd/0 -; do
		run --separate-stderr bash -c \
			'echo "$2" | "$GATHER" -d "@$1" "$2"' _ "$name" "$BASE/ok"
		assert_usage_error
		assert_equal "$stderr" "gather: -d @$name: reading data from \
stdin is not supported (stdin may carry the URLs)"
	done
	# The same pipe under a name of its own.
	run --separate-stderr bash -c 'echo x | bash -c \
		'\''exec "$GATHER" -d "@/proc/$$/fd/0" "$1"'\'' _ "$1"' _ "$BASE/ok"
	assert_usage_error 'reading data from stdin is not supported'
	assert_nothing_fetched
}

@test "-d @FILE larger than 64 MiB is refused without reading it all" {
	truncate -s 65M "$BATS_TEST_TMPDIR/big"
	for file in /dev/zero "$BATS_TEST_TMPDIR/big"; do
		t=$(now)
		run --separate-stderr "$GATHER" -d "@$file" "$BASE/ok"
		took=$(since "$t")
		assert_usage_error
		assert_equal "$stderr" "gather: -d @$file: larger than \
67108864 bytes"
		assert_took "$took" '<' 5 "-d @$file"
	done
	assert_nothing_fetched
	# A small one is sent.
	head -c 1000 /dev/zero >"$BATS_TEST_TMPDIR/small"
	run --separate-stderr "$GATHER" --body none -d "@$BATS_TEST_TMPDIR/small" \
		"$BASE/ok"
	assert_success
}

@test "an alias is its option, under -o and without: -m, --max-time, --retry, -s, --silent, -f" {
	local out t r q f
	for out in "" "$BATS_TEST_TMPDIR/dl"; do
		set -- ${out:+-o "$out"}
		# -o makes -t 0 the default unless a limit is given, in any of
		# its names: /hang ends as timeout, long before --deadline.
		for t in "-t 1" "--timeout=1" "-m 1" "-m1" "--max-time 1" \
			"--max-time=1"; do
			# shellcheck disable=SC2086 # an option and its value
			run --separate-stderr "$GATHER" "$@" $t --deadline 20 \
				"$BASE/hang"
			assert_failure 1
			assert_jq '.[0].error.kind == "timeout"' ||
				fail "$t with '$*' did not end as timeout"
		done
		for r in "--retries 2" "--retry 2" "--retry=2"; do
			# shellcheck disable=SC2086
			run --separate-stderr "$GATHER" "$@" $r --retry-delay 0.01 \
				"$BASE/status/503"
			assert_jq '.[0].attempts == 3' || fail "$r with '$*'"
		done
		for q in -q --quiet -s --silent -vs; do
			run --separate-stderr "$GATHER" "$@" -v $q "$BASE/ok"
			assert_success
			assert_no_stderr
		done
		# The control: -v alone says something.
		run --separate-stderr "$GATHER" "$@" -v "$BASE/ok"
		[[ -n "$stderr" ]] || fail "-v printed nothing"
		for f in -f --fail; do
			run --separate-stderr "$GATHER" "$@" --no-fail $f \
				"$BASE/status/404"
			assert_failure 1
			assert_jq '.[0].error.kind == "http"' || fail "$f with '$*'"
		done
		run --separate-stderr "$GATHER" "$@" --no-fail "$BASE/status/404"
		assert_success
	done
	# In --help and the completions an alias is shown as its own row.
	run "$GATHER" --help
	assert_line --regexp '^  -m, --max-time SEC +the same as -t'
	assert_line --regexp '^      --retry N +the same as --retries'
	assert_line --regexp '^  -s, --silent +the same as -q'
}

# ---- coming from curl, wget and jq -------------------------------------------
# What hurts a user who comes from curl, wget and jq: the progress line
# beside a pipe, the total of -i files, repeated -i and - for stdin, JSON
# bodies and --json, curl's aliases, --retry-on and --retry-all-errors,
# the messages, and bash completion of --stats= in a real bash.

# Run the shell command line CMD under a pseudo-terminal (stdin, stdout
# and stderr are the terminal unless CMD redirects them); $output is what
# the terminal saw.
pty_sh() {
	run script -qfec "$1" /dev/null </dev/null
}

# Four records that each take 300 ms, in $BATS_TEST_TMPDIR/list.
slow_list() {
	urls 4 /delay/300 >"$BATS_TEST_TMPDIR/list"
}

# ---- 1. the progress line -------------------------------------------------

@test "progress: drawn on a terminal when stdout is a regular file" {
	slow_list
	pty_sh "$(printf %q "$GATHER") -c 2 -i $BATS_TEST_TMPDIR/list >$BATS_TEST_TMPDIR/out"
	assert_success
	assert_output --regexp 'done [0-9]/4 [0-9]+%  ok'
	run jq -s length "$BATS_TEST_TMPDIR/out"
	assert_output 4
}

@test "progress: drawn on a terminal when stdout is /dev/null" {
	slow_list
	pty_sh "$(printf %q "$GATHER") -c 2 -i $BATS_TEST_TMPDIR/list >/dev/null"
	assert_success
	assert_output --regexp 'done [0-9]/4 [0-9]+%  ok'
	[[ "$output" == *$'\rdone 4  ok 4  failed 0  in '*$'s\033[K\r' ]] ||
		fail "no final count" <<<"$output"
}

@test "progress: not drawn when stdout is a pipe, as gather | jq" {
	slow_list
	pty_sh "$(printf %q "$GATHER") -c 2 -i $BATS_TEST_TMPDIR/list | jq -M -c .index"
	assert_success
	refute_output --partial 'done'
	refute_output --partial $'\r\033[K'
	# Only jq's lines reached the terminal, whole.
	assert_equal "$(printf '%s' "$output" | tr -d '\r')" $'0\n1\n2\n3'
}

@test "progress: --progress forces the line beside a pipe" {
	slow_list
	pty_sh "$(printf %q "$GATHER") --progress -c 2 -i $BATS_TEST_TMPDIR/list | jq -c .index >$BATS_TEST_TMPDIR/out"
	assert_success
	assert_output --regexp 'done [0-9]/4'
	run cat "$BATS_TEST_TMPDIR/out"
	assert_output $'0\n1\n2\n3'
}

@test "progress: a -v line clears the line first and the line is drawn again after" {
	slow_list
	pty_sh "$(printf %q "$GATHER") -v -c 2 -i $BATS_TEST_TMPDIR/list >/dev/null"
	assert_success
	assert_output --partial 'done '
	# Each of the four -v lines starts on a cleared line, never glued on.
	cleared=$(printf '%s' "$output" | grep -c $'\r\033\\[Kgather: \\[[0-3]\\] 200 ')
	all=$(printf '%s' "$output" | grep -c 'gather: \[[0-3]\] 200 ')
	assert_equal "$all" 4
	assert_equal "$cleared" 4
	# Drawn again after a -v line, and a final count at the end.
	[[ "$output" == *$'\r\n\rdone '* ]] || fail "not redrawn after -v" <<<"$output"
	[[ "$output" == *$'\rdone 4  ok 4  failed 0  in '*$'s\033[K\r' ]] ||
		fail "no final count" <<<"$output"
}

# ---- 2. the total of -i files ---------------------------------------------

@test "progress: -i FILE has its total counted up front, blank and # lines skipped" {
	{
		echo "# a comment"
		echo
		echo "$BASE/delay/300?i=0"
		echo "   "
		echo "  # indented comment"
		echo "$BASE/delay/300?i=1"
		printf '%s' "$BASE/delay/300?i=2"	# no final newline
	} >"$BATS_TEST_TMPDIR/list"
	urls 2 /delay/300 >"$BATS_TEST_TMPDIR/list2"
	pty_sh "$(printf %q "$GATHER") -c 2 -i $BATS_TEST_TMPDIR/list -i $BATS_TEST_TMPDIR/list2 >/dev/null"
	assert_success
	assert_output --regexp 'done [0-9]/5 [0-9]+%'
	assert_output --partial 'ETA'
	refute_output --regexp 'done [0-9]/[0-46-9]'
}

@test "progress: a pipe on stdin still shows a bare count" {
	slow_list
	pty_sh "$(printf %q "$GATHER") -c 4 -i - <$BATS_TEST_TMPDIR/list >/dev/null"
	assert_success
	# A file on stdin is a regular file: counted too.
	assert_output --regexp 'done [0-9]/4'
	pty_sh "cat $BATS_TEST_TMPDIR/list | $(printf %q "$GATHER") -c 4 >/dev/null"
	assert_success
	assert_output --regexp 'done [0-9]+  ok'
	refute_output --partial 'ETA'
}

# ---- 3. input ---------------------------------------------------------------

@test "-i is repeatable: the files in order, one index sequence" {
	printf '%s\n' "$BASE/p/a0" "# skipped" "$BASE/p/a1" >"$BATS_TEST_TMPDIR/a"
	printf '%s\n' "$BASE/p/b0" "" "$BASE/p/b1" >"$BATS_TEST_TMPDIR/b"
	run --separate-stderr "$GATHER" -i "$BATS_TEST_TMPDIR/a" \
		-i "$BATS_TEST_TMPDIR/b" "$BASE/p/u0"
	assert_success
	assert_jq --arg b "$BASE" 'map([.index, .url]) == [
		[0, "\($b)/p/u0"], [1, "\($b)/p/a0"], [2, "\($b)/p/a1"],
		[3, "\($b)/p/b0"], [4, "\($b)/p/b1"]]'
	# One that cannot be opened stops the run before anything is fetched.
	reset_stats
	run --separate-stderr "$GATHER" -i "$BATS_TEST_TMPDIR/a" \
		-i "$BATS_TEST_TMPDIR/nope"
	assert_failure 3
	[[ "$stderr" == *"cannot open '$BATS_TEST_TMPDIR/nope'"* ]] || fail "$stderr"
	assert_equal "$(hits /p/a0)" 0
}

@test "a URL argument - reads stdin at its place" {
	run --separate-stderr "$GATHER" "$BASE/p/first" - "$BASE/p/last" \
		<<<"$BASE/p/in0
$BASE/p/in1"
	assert_success
	assert_jq --arg b "$BASE" 'map(.url) == ["\($b)/p/first",
		"\($b)/p/in0", "\($b)/p/in1", "\($b)/p/last"] and all(.ok)'
	refute_output --partial 'resolve host'
}

@test "no input argument and stdin a terminal: one hint line on stderr" {
	pty_sh "$(printf %q "$GATHER") >$BATS_TEST_TMPDIR/out"
	assert_success
	assert_output --regexp '^gather: reading URLs from the terminal, one a line; end with Ctrl-D'
	assert_equal "$(printf '%s' "$output" | grep -c gather:)" 1
	# Not with -q, nor when stdin is not a terminal.
	pty_sh "$(printf %q "$GATHER") -q >$BATS_TEST_TMPDIR/out"
	assert_output ''
	run --separate-stderr "$GATHER" </dev/null
	assert_success
	assert_no_stderr
}

# ---- 4. JSON bodies ---------------------------------------------------------

@test "a request object's JSON object or array body goes out as application/json" {
	run --separate-stderr "$GATHER" --body json <<EOF
{"url": "$BASE/echo", "body": {"name": "x"}}
{"url": "$BASE/echo", "body": [1, 2]}
{"url": "$BASE/echo", "body": "a=b"}
{"url": "$BASE/echo", "body": {"n": 1}, "headers": {"Content-Type": "text/x"}}
EOF
	assert_success
	assert_jq 'map(.body.headers["content-type"]) == ["application/json",
		"application/json", "application/x-www-form-urlencoded", "text/x"]'
	# Sent as written.
	assert_jq 'map(.body.body) == ["{\"name\": \"x\"}", "[1, 2]", "a=b",
		"{\"n\": 1}"] and all(.body.method == "POST")'
	# A -H type wins over the JSON default too.
	run --separate-stderr "$GATHER" --body json -H 'Content-Type: text/y' \
		<<<"{\"url\": \"$BASE/echo\", \"body\": {\"a\": 1}}"
	assert_jq '.[0].body.headers["content-type"] == "text/y"'
}

@test "--json sends the body with Content-Type and Accept application/json" {
	run --separate-stderr "$GATHER" --body json --json '{"a": 1}' "$BASE/echo"
	assert_success
	assert_jq '.[0].body | .method == "POST" and .body == "{\"a\": 1}" and
		.headers["content-type"] == "application/json" and
		.headers.accept == "application/json"'
	# As curl: repeated pieces are joined as they are; @file reads a file.
	printf '[1,' >"$BATS_TEST_TMPDIR/part"
	run --separate-stderr "$GATHER" --body json \
		--json "@$BATS_TEST_TMPDIR/part" --json '2]' "$BASE/echo"
	assert_jq '.[0].body.body == "[1,2]"'
	# -H sets either header instead, -X another method.
	run --separate-stderr "$GATHER" --body json -X PUT -H 'Accept: text/z' \
		--json '[]' "$BASE/echo"
	assert_jq '.[0].body | .method == "PUT" and .headers.accept == "text/z" and
		.headers["content-type"] == "application/json"'
	# Mixed with -d, a -d piece is joined by &, as curl does.
	run --separate-stderr "$GATHER" --body json --json '{}' -d 'x=1' "$BASE/echo"
	assert_jq '.[0].body.body == "{}&x=1"'
}

# ---- 5. curl's aliases ------------------------------------------------------

@test "curl's aliases: -f, -m and --max-time, -s and --silent, --retry" {
	run --separate-stderr "$GATHER" -f "$BASE/status/404"
	assert_failure 1
	assert_jq '.[0].error.kind == "http"'
	for opt in -m --max-time; do
		run --separate-stderr "$GATHER" "$opt" 0.2 "$BASE/delay/3000"
		assert_failure 1
		assert_jq '.[0].error.kind == "timeout" and .[0].time.total < 2'
	done
	for opt in -s --silent; do
		run --separate-stderr "$GATHER" "$opt" -v "$BASE/ok"
		assert_success
		assert_no_stderr
	done
	reset_stats
	run --separate-stderr "$GATHER" --retry 2 --retry-delay 0.01 \
		"$BASE/status/503"
	assert_jq '.[0].attempts == 3'
	assert_equal "$(hits /status/503)" 3
}

# ---- 6. retry rules ---------------------------------------------------------

@test "--retry-on replaces the retryable set: kinds, statuses, ranges, !" {
	reset_stats
	run --separate-stderr "$GATHER" --retries 2 --retry-delay 0.01 \
		--retry-on 4xx,!403 "$BASE/status/404" "$BASE/status/403" \
		"$BASE/status/503"
	assert_success
	# 404 is in 4xx; 403 was taken out; 503 is no longer in the set.
	assert_jq 'map(.attempts) == [3, 1, 1]'
	assert_equal "$(hits /status/404)" 3
	assert_equal "$(hits /status/503)" 1
	# Removals alone trim the default set.
	run --separate-stderr "$GATHER" --retries 2 --retry-delay 0.01 \
		--retry-on '!503' "$BASE/status/503" "$BASE/status/500"
	assert_jq 'map(.attempts) == [1, 3]'
	# A kind: connection refused is retried only when connect is named.
	port=$(closed_port)
	run --separate-stderr "$GATHER" --retries 1 --retry-delay 0.01 \
		--retry-on timeout "http://127.0.0.1:$port/"
	assert_jq '.[0].error.kind == "connect" and .[0].attempts == 1'
	run --separate-stderr "$GATHER" --retries 1 --retry-delay 0.01 \
		--retry-on timeout,connect "http://127.0.0.1:$port/"
	assert_jq '.[0].attempts == 2'
	run --separate-stderr "$GATHER" --retry-on 'timeout,6xx' "$BASE/ok"
	assert_failure 2
	[[ "$stderr" == "gather: --retry-on: unknown item '6xx'"* ]] || fail "$stderr"
}

@test "--retry-all-errors retries every failure but those no attempt can mend" {
	run --separate-stderr "$GATHER" --retries 2 --retry-delay 0.01 \
		--retry-all-errors --max-body 10 "$BASE/size/100" \
		'http://[::1' '{not json' 'gopher://127.0.0.1/'
	assert_failure 1
	assert_jq 'map([.error.kind, .attempts]) == [["too_large", 3],
		["invalid_url", 1], ["bad_input", 0], ["unsupported_protocol", 1]]'
	# An HTTP status is a failure only with --fail, as in curl.
	reset_stats
	run --separate-stderr "$GATHER" --retries 2 --retry-delay 0.01 \
		--retry-all-errors "$BASE/status/404"
	assert_jq '.[0].attempts == 1 and .[0].ok'
	run --separate-stderr "$GATHER" --retries 2 --retry-delay 0.01 \
		--retry-all-errors -f "$BASE/status/404"
	assert_jq '.[0].attempts == 3 and .[0].error.kind == "http"'
	assert_equal "$(hits /status/404)" 4
}

# ---- 7. messages ------------------------------------------------------------

@test "an unknown long option suggests the nearest one" {
	run --separate-stderr "$GATHER" --concurency 4 "$BASE/ok"
	assert_failure 2
	assert_equal "$stderr" "gather: unknown option '--concurency': did you mean --concurrency? (see gather --help)"
	run --separate-stderr "$GATHER" --retry-all "$BASE/ok"
	[[ "$stderr" == *'did you mean --retry-all-errors?'* ]] || fail "$stderr"
	run --separate-stderr "$GATHER" --zzzzzz "$BASE/ok"
	assert_failure 2
	assert_equal "$stderr" "gather: unknown option '--zzzzzz' (see gather --help)"
}

@test "a refused protocol's message names --proto" {
	run --separate-stderr "$GATHER" ftp://127.0.0.1/x \
		"$BASE/redirect-to?url=ftp://127.0.0.1/y"
	assert_failure 1
	assert_equal "${#lines[@]}" 2
	assert_jq 'all(.error.kind == "unsupported_protocol" and
		(.error.message | test("--proto http,https")))'
}

@test "--resume reads a --format json output" {
	run --separate-stderr "$GATHER" --format json -f "$BASE/p/r0" \
		"$BASE/status/500" "$BASE/p/r2"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/prev.json"
	reset_stats
	run --separate-stderr "$GATHER" --resume "$BATS_TEST_TMPDIR/prev.json" \
		-f "$BASE/p/r0" "$BASE/status/500" "$BASE/p/r2"
	assert_failure 1
	assert_jq 'map(.index) == [1]'
	assert_equal "$(hits /p/r0)" 0
}

@test "an explicit --stats is printed despite -q and -s" {
	run --separate-stderr "$GATHER" -q --stats=json "$BASE/ok" "$BASE/ok"
	assert_success
	[[ "$stderr" == '{"records":2,'* ]] || fail "no summary: $stderr"
	run --separate-stderr "$GATHER" --stats -s -v "$BASE/ok"
	assert_success
	[[ "$stderr" == "records:  1"* ]] || fail "no summary: $stderr"
	[[ "$stderr" != *'gather: ['* ]] || fail "-v line despite -s: $stderr"
}

# ---- 8. bash completion in a real bash ---------------------------------------

# Type each line after "gather " into an interactive bash on a
# pseudo-terminal, then TAB, then ^T (bound to write the edited line to a
# file); print each line as readline left it.
real_bash_complete() {
	cat >"$BATS_TEST_TMPDIR/drive.py" <<'EOF'
import os, pty, select, sys, time
comp, buf = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execvp("bash", ["bash", "--norc", "--noprofile", "-i"])
def drain():
    while select.select([fd], [], [], 0)[0]:
        try:
            if not os.read(fd, 4096):
                return
        except OSError:
            return
os.write(fd, ("PS1='$ '; source %s; bind -x '\"\\C-t\": "
              "printf \"%%s\\n\" \"$READLINE_LINE\" >| %s'\n"
              % (comp, buf)).encode())
for line in sys.argv[3:]:
    if os.path.exists(buf):
        os.unlink(buf)
    os.write(fd, ("gather " + line + "\t\x14").encode())
    end = time.monotonic() + 10
    while not os.path.exists(buf) or os.path.getsize(buf) == 0:
        if time.monotonic() > end:
            break
        select.select([fd], [], [], 0.02)
        drain()
    print(open(buf).read().rstrip("\n") if os.path.exists(buf)
          else "(nothing for: %s)" % line)
    os.write(fd, b"\x15")
os.write(fd, b"complete -p gather >| %s.p; exit\n" % buf.encode())
os.waitpid(pid, 0)
print(open(buf + ".p").read().rstrip("\n"))
EOF
	python3 "$BATS_TEST_TMPDIR/drive.py" "$BATS_TEST_DIRNAME/../completions/gather.bash" \
		"$BATS_TEST_TMPDIR/buf" "$@"
}

@test "bash completion: --stats=<TAB> completes in a real bash" {
	command -v bash >/dev/null
	# bash splits words at '=' by default: what broke --stats=.
	run bash -i -c 'printf "%s" "$COMP_WORDBREAKS"' </dev/null
	[[ "$output" == *=* ]] || fail "no = in COMP_WORDBREAKS: $output"
	run real_bash_complete '--stats=j' '--stats=t' '--body=b' '--format=jsonl' \
		'--retry-a' '--max-t' '--stats j'
	assert_success
	assert_line -n 0 'gather --stats=json '
	assert_line -n 1 'gather --stats=text '
	assert_line -n 2 'gather --body=base64 '
	assert_line -n 3 'gather --format=jsonl '
	assert_line -n 4 'gather --retry-all-errors '
	assert_line -n 5 'gather --max-time '
	# --stats takes its value only after '=': a word after it is a URL.
	assert_line -n 6 'gather --stats j'
	assert_line -n 7 'complete -F _gather gather'
}

@test "bash completion: -d @fi<TAB> completes file names after the @" {
	cd "$BATS_TEST_TMPDIR"
	mkdir sub
	: >file-one.json
	# '@' is a word break in bash by default: what broke -d @FILE.
	run bash -i -c 'printf "%s" "$COMP_WORDBREAKS"' </dev/null
	[[ "$output" == *@* ]] || fail "no @ in COMP_WORDBREAKS: $output"
	run real_bash_complete '-d @fi' '--data=@fi' '--json @su'
	assert_success
	assert_line -n 0 'gather -d @file-one.json '
	assert_line -n 1 'gather --data=@file-one.json '
	assert_line -n 2 'gather --json @sub/'
}

# Call _gather as bash would with COMP_WORDS set to the words given (the
# last one is completed); print COMPREPLY sorted, one a line.
comp_words() {
	bash --norc -c 'source "$1"; shift; COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _gather
		printf "%s\n" "${COMPREPLY[@]}" | LC_ALL=C sort' \
		_ "$BATS_TEST_DIRNAME/../completions/gather.bash" "$@"
}

@test "bash completion: -d @ split at the @ (COMP_WORDS) gives @ and the names" {
	cd "$BATS_TEST_TMPDIR"
	: >fa.txt
	: >fb.txt
	: >other
	# gather -d @f<TAB>: the words are -d, @, f; readline keeps the @ in
	# the text it replaces (@ is one of its special prefixes).
	run comp_words gather -d @ f
	assert_output $'@fa.txt\n@fb.txt'
	# gather -d @<TAB>: the word is @ itself; every name.
	run comp_words gather -d @
	assert_output $'@fa.txt\n@fb.txt\n@other'
	# gather --data=@f<TAB>: the words are --data, =@, f.
	run comp_words gather --data =@ f
	assert_output $'@fa.txt\n@fb.txt'
	# Not after an option that takes no @FILE, nor after a URL's @.
	run comp_words gather -H @ f
	assert_output ''
	run comp_words gather http://user @ f
	assert_output ''
	# Without @ in COMP_WORDBREAKS the word is whole: -d @f.
	run comp_words gather -d @f
	assert_output $'@fa.txt\n@fb.txt'
}

# ---- 9. curl, wget and GNU parallel habits -----------------------------------

# Run gather with the arguments before the last and $BASE/p/habit; assert
# exit 2, the one line "gather: " + the last argument on stderr, no
# output and nothing fetched.
assert_hint() {
	local msg="${!#}"
	reset_stats
	run --separate-stderr "$GATHER" "${@:1:$#-1}" "$BASE/p/habit"
	assert_failure 2
	assert_equal "$stderr" "gather: $msg"
	assert_output ""
	assert_equal "$(stat_field requests)" 0
}

@test "hint: -Z (curl) names -c" {
	assert_hint -Z "-Z is curl's --parallel: transfers always run in parallel here; -c N sets how many at once"
}

@test "hint: --parallel (curl) names -c" {
	assert_hint --parallel "--parallel is curl's -Z: transfers always run in parallel here; -c N sets how many at once"
}

@test "hint: --parallel-max (curl) names -c, with the value attached or not" {
	assert_hint --parallel-max 8 "--parallel-max is curl's: use -c N, transfers in flight at most"
	assert_hint --parallel-max=8 "--parallel-max is curl's: use -c N, transfers in flight at most"
}

@test "hint: -P (GNU parallel, xargs) names -c, also as -P8 and in a cluster" {
	assert_hint -P 8 "-P is GNU parallel's and xargs' jobs: use -c N, transfers in flight at most"
	assert_hint -P8 "-P is GNU parallel's and xargs' jobs: use -c N, transfers in flight at most"
	assert_hint -qP8 "-P is GNU parallel's and xargs' jobs: use -c N, transfers in flight at most"
}

@test "hint: --max-threads (wget2) names -c" {
	assert_hint --max-threads 8 "--max-threads is wget2's: use -c N, transfers in flight at most"
}

@test "hint: -O (curl) names -o DIR" {
	assert_hint -O "-O is curl's --remote-name: use -o DIR (each body a file in DIR; --name '{name}' names it after the URL)"
}

@test "hint: --directory-prefix (wget) names -o DIR" {
	assert_hint --directory-prefix dl "--directory-prefix is wget's -P: use -o DIR"
}

@test "hint: -w and --write-out (curl) name jq" {
	assert_hint -w '%{http_code}' "-w is curl's --write-out: each record is JSON already: pick fields with jq, as gather URL | jq -r '[.status, .time.total] | @tsv'"
	assert_hint --write-out '%{http_code}' "--write-out is curl's -w: each record is JSON already: pick fields with jq, as gather URL | jq -r '[.status, .time.total] | @tsv'"
}

@test "hint: --head (curl) names -X HEAD, not --header" {
	assert_hint --head "--head is curl's -I: use -X HEAD"
}

@test "hint: --tries (wget) names --retries" {
	assert_hint --tries 3 "--tries is wget's -t: use --retries N (-t is a timeout here)"
	assert_hint --tries=3 "--tries is wget's -t: use --retries N (-t is a timeout here)"
}

@test "hint: --keep-order (GNU parallel) says input order is the default" {
	assert_hint --keep-order "--keep-order is GNU parallel's -k: input order is the default here (-u writes records as they finish)"
}

@test "hint: --input-file (wget) names -i" {
	assert_hint --input-file list "--input-file is wget's -i: use -i FILE"
}

@test "hint: a -H value that is a URL, as after --head became --header" {
	assert_hint -H http://example.com/page "-H: 'http://example.com/page' is a URL, not a header 'Name: value' (-H takes a value)"
	assert_hint --header "$BASE/ok" "--header: '$BASE/ok' is a URL, not a header 'Name: value' (-H takes a value)"
	# A header whose value holds a URL is a header.
	run --separate-stderr "$GATHER" -H "Referer: $BASE/x" "$BASE/echo"
	assert_success
	assert_jq --arg r "$BASE/x" '.[0].body | fromjson | .headers.referer == $r'
}

@test "hint: json or text right after --stats, which takes its value after =" {
	assert_hint --stats json "--stats takes its value only after '=': --stats=json ('json' alone would be fetched as a URL)"
	assert_hint --stats text "--stats takes its value only after '=': --stats=text ('text' alone would be fetched as a URL)"
	# A URL after --stats, and json after --, are URLs as before.
	run --separate-stderr "$GATHER" --stats=json "$BASE/ok"
	assert_success
	run --separate-stderr "$GATHER" --stats "$BASE/ok"
	assert_success
	[[ "$stderr" == "records:  1"* ]] || fail "$stderr"
	run --separate-stderr "$GATHER" --stats -- json
	assert_failure 1
	assert_jq '.[0].url == "json"'
}

@test "hint: --name and --continue without -o are refused" {
	assert_hint --name '{name}' "--name needs -o"
	assert_hint --continue "--continue needs -o"
	run --separate-stderr "$GATHER" -o "$BATS_TEST_TMPDIR/d" --name '{name}' \
		"$BASE/p/named"
	assert_success
	[[ -f "$BATS_TEST_TMPDIR/d/named" ]] || fail "no file"
}

@test "hint: a --resume or --revalidate FILE that '>' made stdout is refused; '>>' is fine" {
	f="$BATS_TEST_TMPDIR/r.jsonl"
	"$GATHER" "$BASE/p/s0" "$BASE/status/500" >"$f"
	reset_stats
	for opt in --resume --revalidate; do
		run sh -c '"$1" "$2" "$3" "$4/p/s0" "$4/status/500" >"$3"' _ \
			"$GATHER" "$opt" "$f" "$BASE"
		assert_failure 2
		assert_output "gather: $opt $f: the file is also stdout, which '>' has emptied; write to another file, or append with '>>'"
	done
	assert_equal "$(stat_field requests)" 0
	# Appending reads FILE whole first: index 1 is rerun and appended.
	"$GATHER" -f "$BASE/p/s0" "$BASE/status/500" >"$f" || true
	reset_stats
	run sh -c '"$1" -f --resume "$2" "$3/p/s0" "$3/status/500" >>"$2"' _ \
		"$GATHER" "$f" "$BASE"
	assert_failure 1
	assert_equal "$(stat_field requests)" 1
	run jq -s -c 'map([.index, .ok])' "$f"
	assert_output '[[0,true],[1,false],[1,false]]'
}

# ---- 10. warnings for values that mean something else in curl and wget --------

@test "warning: -u USER:PASSWORD (curl's -u) warns once, without the password, and runs" {
	run --separate-stderr "$GATHER" -u ann:secret "$BASE/ok"
	assert_failure 1
	assert_equal "$stderr" "gather: warning: -u is --unordered here, so the word after it is fetched as a URL; for basic authentication use --user USER:PASSWORD"
	assert_jq 'map(.url) == ["ann:secret", "'"$BASE"'/ok"] and .[1].ok'
	# -q silences it; a host:port after -u is no credential.
	run --separate-stderr "$GATHER" -q -u ann:secret "$BASE/ok"
	assert_no_stderr
	run --separate-stderr "$GATHER" -u "127.0.0.1:$PORT" "$BASE/ok"
	assert_success
	assert_no_stderr
	assert_jq 'map(.status) == [200, 200]'
}

@test "warning: -o NAME.json (curl's -o FILE) warns and makes the directory" {
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr "$GATHER" -o out.json "$BASE/p/o1"
	assert_success
	assert_equal "$stderr" "gather: warning: -o is a directory here: 'out.json' is made a directory with a file per record; for one output file write gather URL > FILE"
	[[ -d out.json && -f out.json/0 ]] || fail "no out.json/0"
	run --separate-stderr "$GATHER" -o downloads "$BASE/p/o2"
	assert_success
	assert_no_stderr
	run --separate-stderr "$GATHER" -q -o quiet.json "$BASE/p/o3"
	assert_success
	assert_no_stderr
}

@test "warning: -t with a small whole number (wget's tries) warns and is seconds" {
	run --separate-stderr "$GATHER" -t 3 "$BASE/delay/100"
	assert_success
	assert_equal "$stderr" "gather: warning: -t 3 is a timeout in seconds per attempt here (wget's -t is tries: use --retries N)"
	run --separate-stderr "$GATHER" -t1 "$BASE/delay/1500"
	assert_failure 1
	assert_jq '.[0].error.kind == "timeout" and .[0].attempts == 1'
	[[ "$stderr" == "gather: warning: -t 1 is a timeout"* ]] || fail "$stderr"
	# Unambiguous forms say nothing.
	for t in "--timeout 3" "-t 10" "-t 2.5" "-t 0" "-q -t 3"; do
		# shellcheck disable=SC2086
		run --separate-stderr "$GATHER" $t "$BASE/ok"
		assert_success
		assert_no_stderr
	done
}

# ---- 11. --resume and --revalidate, repeatable ---------------------------------

@test "--resume is repeatable: files in order, an index's last record wins" {
	a="$BATS_TEST_TMPDIR/a.jsonl"
	b="$BATS_TEST_TMPDIR/b.jsonl"
	"$GATHER" -f "$BASE/p/m0" "$BASE/status/500" "$BASE/status/503" >"$a" || true
	# The rerun of the failures: index 1 is now another URL, and ok.
	"$GATHER" -f --resume "$a" "$BASE/p/m0" "$BASE/p/m1" "$BASE/status/503" \
		>"$b" || true
	run jq -s -c 'map([.index, .ok])' "$b"
	assert_output '[[1,true],[2,false]]'
	reset_stats
	run --separate-stderr "$GATHER" -f --resume "$a" --resume "$b" \
		"$BASE/p/m0" "$BASE/p/m1" "$BASE/status/503"
	assert_failure 1
	assert_jq 'map(.index) == [2]'
	assert_equal "$(hits /p/m1)" 0
	assert_equal "$(stat_field requests)" 1
	# The other order: a's failure of index 1 is the last word on it.
	reset_stats
	run --separate-stderr "$GATHER" -f --resume "$b" --resume "$a" \
		"$BASE/p/m0" "$BASE/p/m1" "$BASE/status/503"
	assert_failure 1
	assert_jq 'map([.index, .ok]) == [[1, true], [2, false]]'
	assert_equal "$(hits /p/m0)" 0
	assert_equal "$(hits /p/m1)" 1
	# A later failure undoes an earlier success, in one file too.
	cat "$a" "$a" >"$BATS_TEST_TMPDIR/aa.jsonl"
	jq -c 'if .index == 0 then .ok = false else . end' "$a" >>"$BATS_TEST_TMPDIR/aa.jsonl"
	reset_stats
	run --separate-stderr "$GATHER" -f --resume "$BATS_TEST_TMPDIR/aa.jsonl" \
		"$BASE/p/m0" "$BASE/status/500" "$BASE/status/503"
	assert_failure 1
	assert_jq 'map(.index) == [0, 1, 2]'
	# A missing second file is refused like a missing first one.
	run --separate-stderr "$GATHER" --resume "$a" --resume "$BATS_TEST_TMPDIR/none" "$BASE/ok"
	assert_failure 2
	[[ "$stderr" == "gather: --resume: cannot open '$BATS_TEST_TMPDIR/none'"* ]] || fail "$stderr"
}

@test "--revalidate is repeatable: files in order, a URL's last record wins" {
	a="$BATS_TEST_TMPDIR/a.jsonl"
	b="$BATS_TEST_TMPDIR/b.jsonl"
	"$GATHER" -c 1 "$BASE/cond/rr1" "$BASE/cond/rr2" >"$a"
	curl -q -s --max-time 5 "$BASE/cond-bump/rr2" >/dev/null
	"$GATHER" "$BASE/cond/rr2" >"$b"
	run jq -r .etag "$b"
	assert_output '"rr2-v2"'
	run --separate-stderr "$GATHER" -c 1 --revalidate "$a" --revalidate "$b" \
		"$BASE/cond/rr1" "$BASE/cond/rr2"
	assert_success
	assert_jq 'map([.status, .not_modified]) == [[304, true], [304, true]]'
	# The other order: a's rr2 (v1) is the last word, and is stale.
	run --separate-stderr "$GATHER" -c 1 --revalidate "$b" --revalidate "$a" \
		"$BASE/cond/rr1" "$BASE/cond/rr2"
	assert_success
	assert_jq 'map([.status, .not_modified, .etag]) ==
		[[304, true, "\"rr1-v1\""], [200, false, "\"rr2-v2\""]]'
	run curl -q -s --max-time 5 "$BASE/cond-seen/rr2"
	assert_output --partial 'rr2-v1'
}

# ---- 12. progress beside records on the same terminal -------------------------

@test "progress: --progress with stdout on the same terminal draws only a final count" {
	slow_list
	pty_sh "$(printf %q "$GATHER") --progress --body none -c 2 -i $BATS_TEST_TMPDIR/list"
	assert_success
	refute_output --partial 'in flight'
	refute_output --partial $'\033[K'
	# The four records whole, one a line, then the count.
	assert_equal "$(printf '%s\n' "$output" | tr -d '\r' | grep -c '^{"index":[0-3],.*}$')" 4
	assert_regex "$(printf '%s' "$output" | tr -d '\r' | tail -n 1)" \
		'^done 4  ok 4  failed 0  in [0-9]+\.[0-9]s$'
	# Without --progress nothing but the records.
	pty_sh "$(printf %q "$GATHER") --body none -c 2 -i $BATS_TEST_TMPDIR/list"
	assert_success
	refute_output --partial 'done'
	# With --stats, its summary instead of the count.
	pty_sh "$(printf %q "$GATHER") --progress --stats --body none -c 2 -i $BATS_TEST_TMPDIR/list"
	assert_success
	refute_output --partial 'done 4'
	assert_output --partial 'records:  4'
}
