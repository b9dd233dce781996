#!/usr/bin/env bats
# What hurts a user who comes from curl, wget and jq: the progress line
# beside a pipe, the total of -i files, repeated -i and - for stdin, JSON
# bodies and --json, curl's aliases, --retry-on and --retry-all-errors,
# the messages, and bash completion of --stats= in a real bash.

bats_require_minimum_version 1.5.0
load helper

setup_file() { start_server; }
teardown_file() { stop_server; }

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
