#!/usr/bin/env bats
# Credentials, cookies and connections that cannot leak: --netrc
# credentials stay on their origin across redirects, -b cannot read stdin,
# the cookie jar is written by gather (never through a link, and a jar that
# cannot be written is an error), and a server's stray bytes on a kept
# connection never become another record's answer.  Two test servers on
# 127.0.0.1: the usual one and OTHER_PORT, another origin for redirects.

bats_require_minimum_version 1.5.0
load helper

setup_file() {
	start_server
	local pf="$BATS_FILE_TMPDIR/other.port" i
	python3 "$BATS_TEST_DIRNAME/server.py" --port-file "$pf" \
		3>&- </dev/null >"$BATS_FILE_TMPDIR/other.log" 2>&1 &
	OTHER_PID=$!
	for ((i = 0; i < 100; i++)); do
		[[ -s "$pf" ]] && break
		sleep 0.1
	done
	[[ -s "$pf" ]] || return 1
	OTHER_PORT=$(<"$pf")
	export OTHER_PID OTHER_PORT
}

teardown_file() {
	if [[ -n "${OTHER_PID:-}" ]]; then
		kill "$OTHER_PID" 2>/dev/null || true
		wait "$OTHER_PID" 2>/dev/null || true
	fi
	stop_server
}

teardown() {
	stop_bg
}

# The Authorization header /echo saw for record INDEX, or null.
auth_of() {
	rec "$1" '.body | fromjson | .headers.authorization'
}

# "Basic " and the base64 of USER:PASSWORD, quoted as jq prints it.
basic_json() {
	printf '"Basic %s"' "$(printf '%s' "$1" | base64 -w0)"
}

# ---- --netrc ------------------------------------------------------------------

@test "--netrc credentials never reach another port or host on a redirect" {
	local netrc="$BATS_TEST_TMPDIR/netrc" other="http://127.0.0.1:$OTHER_PORT/echo"
	printf 'machine 127.0.0.1 login nu password np\n' >"$netrc"
	# Record 0 goes to the same host on another port (another origin),
	# record 1 to another host that only the default entry covers, 2 stays
	# on the origin (the control), 3 asks the origin directly.
	printf 'machine 127.0.0.1 login nu password np\ndefault login du password dp\n' \
		>"$netrc.default"
	run --separate-stderr "$GATHER" -c 1 --netrc-file "$netrc.default" \
		--resolve "other.test:$OTHER_PORT:127.0.0.1" \
		"$BASE/redirect-to?url=$other" \
		"$BASE/redirect-to?url=http://other.test:$OTHER_PORT/echo" \
		"$BASE/redirect-to?url=$BASE/echo" "$BASE/echo"
	assert_success
	assert_jq 'map(.redirects) == [1, 1, 1, 0]'
	assert_equal "$(auth_of 0)" null
	assert_equal "$(auth_of 1)" null
	assert_equal "$(auth_of 2)" "$(basic_json nu:np)"
	assert_equal "$(auth_of 3)" "$(basic_json nu:np)"
	# --netrc reads ~/.netrc, with the same rule.
	mkdir "$BATS_TEST_TMPDIR/home"
	cp "$netrc" "$BATS_TEST_TMPDIR/home/.netrc"
	HOME="$BATS_TEST_TMPDIR/home" run --separate-stderr "$GATHER" --netrc \
		"$BASE/redirect-to?url=$other"
	assert_success
	assert_equal "$(auth_of 0)" null
	# --location-trusted: the user trusts the other origin.
	run --separate-stderr "$GATHER" --location-trusted --netrc-file "$netrc" \
		"$BASE/redirect-to?url=$other"
	assert_success
	assert_equal "$(auth_of 0)" "$(basic_json nu:np)"
}

@test "--netrc-file: the first entry for the host wins over the URL's login" {
	local netrc="$BATS_TEST_TMPDIR/netrc"
	cat >"$netrc" <<'EOF'
# a comment line
machine other.test login o password op
macdef init
cd /pub
machine 127.0.0.1 login evil password evil

machine 127.0.0.1
	login "first user" password "p \"q\" \\ r"  # after the entry
machine 127.0.0.1 login second password second
default login d password dp
EOF
	run --separate-stderr "$GATHER" -c 1 --netrc-file "$netrc" \
		"$BASE/echo" "http://url:pw@127.0.0.1:$PORT/echo"
	assert_success
	assert_equal "$(auth_of 0)" "$(basic_json 'first user:p "q" \ r')"
	assert_equal "$(auth_of 1)" "$(basic_json 'first user:p "q" \ r')"
	# A host with no entry and no default: no credentials.
	printf 'machine example.test login a password b\n' >"$netrc"
	run --separate-stderr "$GATHER" --netrc-file "$netrc" "$BASE/echo"
	assert_success
	assert_equal "$(auth_of 0)" null
}

@test "a netrc file gather cannot read as netrc is a usage error" {
	local netrc="$BATS_TEST_TMPDIR/netrc" bad
	for bad in 'machine 127.0.0.1 login' 'login x password y' \
		'machine 127.0.0.1 login x passwd y' \
		'machine 127.0.0.1 password "open'; do
		printf '%s\n' "$bad" >"$netrc"
		run --separate-stderr "$GATHER" --netrc-file "$netrc" "$BASE/echo"
		assert_usage_error "--netrc: .*netrc: line 1: "
	done
	reset_stats
	mkdir "$BATS_TEST_TMPDIR/home"
	printf 'machine\n' >"$BATS_TEST_TMPDIR/home/.netrc"
	HOME="$BATS_TEST_TMPDIR/home" run --separate-stderr "$GATHER" --netrc \
		"$BASE/echo"
	assert_usage_error "a value is missing"
	assert_nothing_fetched
	# No ~/.netrc at all: no credentials, as in curl.
	rm "$BATS_TEST_TMPDIR/home/.netrc"
	HOME="$BATS_TEST_TMPDIR/home" run --separate-stderr "$GATHER" --netrc \
		"$BASE/echo"
	assert_success
	assert_equal "$(auth_of 0)" null
}

# ---- -b and stdin ---------------------------------------------------------------

@test "-b -, -b /dev/stdin and any name of stdin are refused like -d @-" {
	local name
	ln -s /proc/self/fd/0 "$BATS_TEST_TMPDIR/in-link"
	reset_stats
	for name in - /dev/stdin /dev/fd/0 "$BATS_TEST_TMPDIR/in-link"; do
		run --separate-stderr "$GATHER" -b "$name" <<<"$BASE/echo"
		assert_usage_error "-b .*: reading cookies from stdin is not supported"
	done
	assert_nothing_fetched
	# A pipe as stdin, named through /proc: the same file as stdin.
	run --separate-stderr bash -c 'printf "%s\n" "$1" | "$0" -b /proc/self/fd/0' \
		"$GATHER" "$BASE/echo"
	assert_usage_error "stdin"
	# A cookie file that is not stdin still loads.
	printf '127.0.0.1\tFALSE\t/\tFALSE\t0\tk\tv\n' >"$BATS_TEST_TMPDIR/c"
	run --separate-stderr "$GATHER" -b "$BATS_TEST_TMPDIR/c" <<<"$BASE/echo"
	assert_success
	assert_equal "$(rec 0 '.body | fromjson | .headers.cookie')" '"k=v"'
}

# ---- --cookie-jar -------------------------------------------------------------

@test "--cookie-jar replaces a symlink at its path and never writes its target" {
	local d="$BATS_TEST_TMPDIR/d"
	mkdir "$d"
	printf 'keep me\n' >"$d/target"
	ln -s target "$d/live"
	ln -s missing "$d/dangling"
	for jar in live dangling; do
		run --separate-stderr "$GATHER" --cookie-jar "$d/$jar" "$BASE/headers"
		assert_success
		[[ -f "$d/$jar" && ! -L "$d/$jar" ]] || fail "$jar is still a link"
		grep -qP '^127\.0\.0\.1\tFALSE\t/\tFALSE\t0\ta\t1$' "$d/$jar"
	done
	assert_equal "$(cat "$d/target")" "keep me"
	[[ ! -e "$d/missing" ]] || fail "the dangling link's target was made"
	# The jar is its owner's alone, and no temp file is left beside it.
	assert_equal "$(stat -c %a "$d/live")" 600
	assert_equal "$(find "$d" -name '.*' | wc -l)" 0
	# A hard link to the jar keeps what it had.
	ln "$d/live" "$d/hard"
	run --separate-stderr "$GATHER" --cookie-jar "$d/live" -b 'x=1' "$BASE/ok"
	assert_success
	grep -q $'\ta\t1$' "$d/hard" || fail "the hard link was written through"
}

@test "a cookie jar that cannot be written is one line and exit 1" {
	local d="$BATS_TEST_TMPDIR/d"
	mkdir "$d"
	reset_stats
	run --separate-stderr "$GATHER" --cookie-jar "$d/no/such/jar" "$BASE/headers"
	assert_one_line_error 1 "--cookie-jar .*/no/such/jar: cannot write: No such file"
	run --separate-stderr "$GATHER" --cookie-jar "$d" "$BASE/headers"
	assert_one_line_error 1 "--cookie-jar .*: is a directory"
	mkfifo "$d/fifo"
	run --separate-stderr "$GATHER" --cookie-jar "$d/fifo" "$BASE/headers"
	assert_one_line_error 1 "not a regular file"
	# Said before the run: nothing was fetched.
	assert_nothing_fetched
	# A directory that goes away during the run: the records, then the
	# error, and exit 1.
	mkdir "$d/gone"
	start_bg "$GATHER" -c 1 --cookie-jar "$d/gone/jar" "$BASE/headers" \
		"$BASE/delay/1500"
	wait_until 10 hits_at_least /delay/1500 1 || fail "the run did not start"
	rmdir "$d/gone"
	wait_bg 20
	assert_equal "$BG_STATUS" 1
	load_bg_output
	assert_jsonl -n 2
	assert_jq 'all(.ok)'
	[[ "$stderr" == "gather: --cookie-jar $d/gone/jar: cannot write: No such file or directory" ]] ||
		fail "stderr: $stderr"
}

@test "the cookie jar is written when --deadline ends the run" {
	local jar="$BATS_TEST_TMPDIR/jar"
	run --separate-stderr "$GATHER" -c 1 --deadline 1 --cookie-jar "$jar" \
		"$BASE/headers" "$BASE/hang"
	assert_equal "$status" 1
	assert_jq '.[1].error.kind == "deadline"'
	grep -qP '\ta\t1$' "$jar" || fail "no cookie in the jar"
}

# ---- what one response leaves on a connection ---------------------------------

@test "bytes past Content-Length in the same read: the connection is not reused" {
	run --separate-stderr "$GATHER" -c 1 "$BASE/excess" "$BASE/echo" \
		"$BASE/ok"
	assert_success
	assert_jq '.[0].body == "ok" and .[0].size == 2'
	# The next record is its own answer, on a new connection ...
	assert_jq '(.[1].body | fromjson | .path) == "/echo"'
	assert_jq '.[1].connection_reused == false'
	# ... which, clean, is then reused (the control).
	assert_jq '.[2].body == "ok" and .[2].connection_reused'
}

@test "stray bytes on an idle kept connection are not taken as the next answer" {
	# /stray-idle sends a whole response 20 ms after its answer; --rate 2
	# starts the next request 500 ms later, when they wait on the idle
	# connection.  libcurl 7.88.1 alone would reuse it and answer record
	# 1 with "stray".
	run --separate-stderr "$GATHER" -c 1 --rate 2 "$BASE/stray-idle" \
		"$BASE/echo" "$BASE/ok"
	assert_success
	assert_jq '.[0].body == "ok"'
	assert_jq '(.[1].body | fromjson | .path) == "/echo"'
	assert_jq '.[1].connection_reused == false and .[1].attempts == 1'
	assert_jq '.[2].body == "ok" and .[2].connection_reused'
	# The control: without stray bytes the idle connection is reused.
	run --separate-stderr "$GATHER" -c 1 --rate 2 "$BASE/ok" "$BASE/echo"
	assert_success
	assert_jq '.[1].connection_reused and
		(.[1].body | fromjson | .path) == "/echo"'
}
