#!/usr/bin/env bats
# Identity and routing: --resolve, --connect-to, -4/-6, --unix-socket,
# credentials (--user, --oauth2-bearer, --netrc, request objects' "user"
# and "bearer"), the run's one cookie store (-b, --cookie-jar) and client
# certificates (-E, --key).  Every transfer goes to a local server: the test
# server on 127.0.0.1, another on ::1, another on a unix socket, and an
# nginx (tests/nginx.bash, start_nginx_identity) whose certificate names
# example.test and whose second port wants a client certificate.

bats_require_minimum_version 1.5.0
load helper
load nginx

# Start tests/server.py with ARGS under NAME; sets EXTRA_PID and EXTRA_PORT
# (0 on a unix socket).  Returns 1 when it does not start.
start_extra() {
	local name=$1 pf="$BATS_FILE_TMPDIR/$1.port" i
	shift
	python3 "$BATS_TEST_DIRNAME/server.py" --port-file "$pf" "$@" \
		3>&- </dev/null >"$BATS_FILE_TMPDIR/$name.log" 2>&1 &
	EXTRA_PID=$!
	for ((i = 0; i < 100; i++)); do
		[[ -s "$pf" ]] && break
		kill -0 "$EXTRA_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	[[ -s "$pf" ]] || return 1
	EXTRA_PORT=$(<"$pf")
}

setup_file() {
	start_server
	UNIX_SOCK="$BATS_FILE_TMPDIR/http.sock"
	start_extra unix --unix "$UNIX_SOCK" || {
		cat "$BATS_FILE_TMPDIR/unix.log" >&2
		return 1
	}
	UNIX_PID=$EXTRA_PID
	# A server on ::1 alone, when this machine has IPv6 on loopback.
	# The -4/-6 test needs its port free on 127.0.0.1 too: a port the
	# kernel gave on ::1 may be another process's on 127.0.0.1.
	V6_MISSING="no port free on both ::1 and 127.0.0.1"
	local try
	for ((try = 0; try < 5; try++)); do
		if ! start_extra v6 --host ::1; then
			V6_MISSING="no IPv6 on loopback here"
			break
		fi
		if ! (exec 9<>"/dev/tcp/127.0.0.1/$EXTRA_PORT") 2>/dev/null; then
			V6_MISSING=""
			break
		fi
		kill "$EXTRA_PID" 2>/dev/null || true
		wait "$EXTRA_PID" 2>/dev/null || true
	done
	V6_PID=$EXTRA_PID
	V6_PORT=$EXTRA_PORT
	export UNIX_SOCK UNIX_PID V6_PID V6_PORT V6_MISSING
	start_nginx_identity
}

teardown_file() {
	stop_nginx
	local pid
	for pid in "${V6_PID:-}" "${UNIX_PID:-}"; do
		if [[ -n "$pid" ]]; then
			kill "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
	done
	stop_server
}

teardown() {
	stop_bg
}

# Print the request headers that /echo saw for record INDEX, as JSON.
echo_headers() {
	rec "$1" '.body | fromjson | .headers'
}

# Print "Basic " and the base64 of USER:PASSWORD, as a client sends it.
basic() {
	printf 'Basic %s' "$(printf '%s' "$1" | base64 -w0)"
}

# ---- routing ----------------------------------------------------------------

@test "--resolve connects to the address given, with the URL's name as Host" {
	run --separate-stderr "$GATHER" \
		--resolve "example.test:$PORT:127.0.0.1" \
		"http://example.test:$PORT/echo"
	assert_success
	assert_no_stderr
	assert_jq --arg u "http://example.test:$PORT/echo" '.[0] |
		.ok and .status == 200 and .effective_url == $u'
	assert_equal "$(echo_headers 0 | jq -r .host)" "example.test:$PORT"
}

@test "--resolve: repeatable, a * host matches any name, several addresses" {
	run --separate-stderr "$GATHER" -c 1 \
		--resolve "one.test:$PORT:127.0.0.1" \
		--resolve "*:$PORT:127.0.0.1,[::1]" \
		"http://one.test:$PORT/echo" "http://two.test:$PORT/echo"
	assert_success
	assert_equal "$(echo_headers 0 | jq -r .host)" "one.test:$PORT"
	assert_equal "$(echo_headers 1 | jq -r .host)" "two.test:$PORT"
}

@test "--resolve over https verifies the certificate for the name" {
	require_nginx
	# The certificate names example.test (and 127.0.0.1), not wrong.test.
	run --separate-stderr "$GATHER" --cacert "$NGINX_CA" -c 1 \
		--resolve "example.test:$NGINX_PORT:127.0.0.1" \
		--resolve "wrong.test:$NGINX_PORT:127.0.0.1" \
		"https://example.test:$NGINX_PORT/small.txt" \
		"https://wrong.test:$NGINX_PORT/small.txt"
	assert_equal "$status" 1
	assert_jq '.[0] | .ok and .status == 200 and .body == "small file\n"'
	assert_jq '.[1] | .ok == false and .error.kind == "tls" and
		(.error.message | test("wrong.test|name|match"; "i"))'
}

@test "--connect-to sends a host:port's requests to another, Host kept" {
	reset_stats
	run --separate-stderr "$GATHER" -c 1 \
		--connect-to "example.test:80:127.0.0.1:$PORT" \
		--connect-to "::127.0.0.1:$PORT" \
		"http://example.test/echo" "http://any.test:8123/echo"
	assert_success
	assert_equal "$(echo_headers 0 | jq -r .host)" "example.test"
	assert_equal "$(echo_headers 1 | jq -r .host)" "any.test:8123"
	assert_equal "$(hits /echo)" 2
}

@test "-4 and -6 choose the address family of a name that has both" {
	[[ -z "$V6_MISSING" ]] || skip "$V6_MISSING"
	# /etc/hosts here gives localhost 127.0.0.1 only, so --resolve makes
	# a name with both; $PORT listens on 127.0.0.1 alone, $V6_PORT on ::1.
	run --separate-stderr "$GATHER" -4 \
		--resolve "dual.test:$PORT:[::1],127.0.0.1" \
		--resolve "dual.test:$V6_PORT:[::1],127.0.0.1" \
		"http://dual.test:$PORT/ok" "http://dual.test:$V6_PORT/ok"
	assert_jq 'map(.ok) == [true, false] and .[1].error.kind == "connect"'
	run --separate-stderr "$GATHER" -6 \
		--resolve "dual.test:$PORT:[::1],127.0.0.1" \
		--resolve "dual.test:$V6_PORT:[::1],127.0.0.1" \
		"http://dual.test:$PORT/ok" "http://dual.test:$V6_PORT/ok"
	assert_jq 'map(.ok) == [false, true] and .[0].error.kind == "connect"'
	assert_jq '.[1].body == "ok"'
}

@test "--unix-socket talks HTTP over the socket, not TCP" {
	reset_stats
	run --separate-stderr "$GATHER" --unix-socket "$UNIX_SOCK" \
		"http://example.test/echo" "http://127.0.0.1:$PORT/echo"
	assert_success
	assert_equal "$(echo_headers 0 | jq -r .host)" "example.test"
	assert_equal "$(echo_headers 1 | jq -r .host)" "127.0.0.1:$PORT"
	# Nothing reached the TCP server, though record 1 names its port.
	assert_nothing_fetched
	run --separate-stderr "$GATHER" --unix-socket "$BATS_TEST_TMPDIR/none" \
		"http://example.test/ok"
	assert_equal "$status" 1
	assert_jq '.[0].error.kind == "connect"'
}

# ---- credentials --------------------------------------------------------------

@test "--user sends basic authentication, --oauth2-bearer a bearer token" {
	run --separate-stderr "$GATHER" --user 'ann:pa:ss' "$BASE/echo"
	assert_success
	assert_equal "$(echo_headers 0 | jq -r .authorization)" \
		"$(basic 'ann:pa:ss')"
	run --separate-stderr "$GATHER" --oauth2-bearer 'tok.en-1' "$BASE/echo"
	assert_success
	assert_equal "$(echo_headers 0 | jq -r .authorization)" \
		'Bearer tok.en-1'
	run --separate-stderr "$GATHER" "$BASE/echo"
	assert_equal "$(echo_headers 0 | jq -r .authorization)" null
}

@test "--netrc-file and --netrc log in with the host's entry" {
	printf 'machine 127.0.0.1 login nu password np\n' \
		>"$BATS_TEST_TMPDIR/netrc"
	run --separate-stderr "$GATHER" --netrc-file "$BATS_TEST_TMPDIR/netrc" \
		"$BASE/echo"
	assert_success
	assert_equal "$(echo_headers 0 | jq -r .authorization)" \
		"$(basic nu:np)"
	mkdir "$BATS_TEST_TMPDIR/home"
	printf 'machine 127.0.0.1 login hu password hp\n' \
		>"$BATS_TEST_TMPDIR/home/.netrc"
	chmod 600 "$BATS_TEST_TMPDIR/home/.netrc"
	HOME="$BATS_TEST_TMPDIR/home" run --separate-stderr "$GATHER" --netrc \
		"$BASE/echo"
	assert_success
	assert_equal "$(echo_headers 0 | jq -r .authorization)" \
		"$(basic hu:hp)"
	# Without --netrc the file is not read.
	HOME="$BATS_TEST_TMPDIR/home" run --separate-stderr "$GATHER" "$BASE/echo"
	assert_equal "$(echo_headers 0 | jq -r .authorization)" null
}

@test "request objects' user and bearer apply to their record only" {
	run --separate-stderr "$GATHER" -c 1 --oauth2-bearer run-token <<EOF
{"url": "$BASE/echo", "user": "obj:pw"}
{"url": "$BASE/echo", "bearer": "obj-token"}
{"url": "$BASE/echo"}
EOF
	assert_success
	assert_equal "$(echo_headers 0 | jq -r .authorization)" "$(basic obj:pw)"
	assert_equal "$(echo_headers 1 | jq -r .authorization)" \
		'Bearer obj-token'
	assert_equal "$(echo_headers 2 | jq -r .authorization)" \
		'Bearer run-token'
}

@test "bad user and bearer fields are bad_input and fetch nothing" {
	reset_stats
	run --separate-stderr "$GATHER" -c 1 <<EOF
{"url": "$BASE/echo", "user": "no-colon"}
{"url": "$BASE/echo", "user": "a:b\u0000c"}
{"url": "$BASE/echo", "bearer": "a\nb"}
{"url": "$BASE/echo", "bearer": 7}
{"url": "$BASE/echo", "user": "a:b", "bearer": "t"}
EOF
	assert_equal "$status" 1
	assert_jsonl -n 5 --ordered
	assert_jq 'all(.error.kind == "bad_input")'
	assert_jq '.[4].error.message | test("exclude")'
	assert_nothing_fetched
}

@test "a redirect to another origin carries no credentials or cookies" {
	local to="http://other.test:$PORT/echo" run_opts
	run_opts=(-c 1 --resolve "other.test:$PORT:127.0.0.1"
		--cookie-jar "$BATS_TEST_TMPDIR/jar" -b 's=1')
	# Record 0 sets cookies a and b for 127.0.0.1; 1 goes to another
	# host, 2 stays on the origin (the control).
	run --separate-stderr "$GATHER" "${run_opts[@]}" --user u:p \
		"$BASE/headers" "$BASE/redirect-to?url=$to" \
		"$BASE/redirect-to?url=$BASE/echo"
	assert_success
	assert_jq '.[1].redirects == 1 and .[2].redirects == 1'
	echo_headers 1 | jq -e '.host == "other.test:\(env.PORT)" and
		.authorization == null and .cookie == null'
	echo_headers 2 | jq -e --arg a "$(basic u:p)" '.authorization == $a and
		(.cookie | split("; ") | sort) == ["a=1", "b=2", "s=1"]'
	# The same for a bearer token, for --netrc and for request objects.
	printf 'machine 127.0.0.1 login nu password np\n' \
		>"$BATS_TEST_TMPDIR/netrc"
	for how in "--oauth2-bearer tok" \
		"--netrc-file $BATS_TEST_TMPDIR/netrc"; do
		# shellcheck disable=SC2086 # two words each
		run --separate-stderr "$GATHER" "${run_opts[@]}" $how \
			"$BASE/redirect-to?url=$to" "$BASE/redirect-to?url=$BASE/echo"
		assert_success
		echo_headers 0 | jq -e '.authorization == null and .cookie == null'
		echo_headers 1 | jq -e '.authorization != null and .cookie != null'
	done
	run --separate-stderr "$GATHER" "${run_opts[@]}" <<EOF
{"url": "$BASE/redirect-to?url=$to", "user": "o:p"}
{"url": "$BASE/redirect-to?url=$to", "bearer": "ot"}
{"url": "$BASE/redirect-to?url=$BASE/echo", "bearer": "ot"}
EOF
	assert_success
	echo_headers 0 | jq -e '.authorization == null and .cookie == null'
	echo_headers 1 | jq -e '.authorization == null and .cookie == null'
	echo_headers 2 | jq -e '.authorization == "Bearer ot"'
}

@test "--location-trusted sends credentials and -b cookies to the other origin" {
	run --separate-stderr "$GATHER" --location-trusted \
		--resolve "other.test:$PORT:127.0.0.1" --user u:p -b 's=1' \
		"$BASE/redirect-to?url=http://other.test:$PORT/echo"
	assert_success
	echo_headers 0 | jq -e --arg a "$(basic u:p)" \
		'.authorization == $a and .cookie == "s=1"'
}

@test "-v lines show no password, token or cookie" {
	run --separate-stderr "$GATHER" -v --user u:userpw -b 'sid=cookiepw' \
		"http://ann:urlpw@127.0.0.1:$PORT/echo" \
		"http://ann:urlpw@127.0.0.1:$(closed_port)/echo"
	assert_equal "$status" 1
	[[ "$stderr" == *"ann:***@127.0.0.1:$PORT/echo"* ]] ||
		fail "no masked URL in: $stderr"
	[[ "$stderr" != *urlpw* && "$stderr" != *userpw* &&
		"$stderr" != *cookiepw* ]] || fail "a secret in -v lines: $stderr"
	run --separate-stderr "$GATHER" -v --oauth2-bearer tokenpw "$BASE/echo"
	[[ "$stderr" != *tokenpw* ]] || fail "the token in -v lines: $stderr"
}

# ---- cookies ------------------------------------------------------------------

@test "a cookie set by record 0 is sent by record 5 at -c 1; the jar holds it" {
	local jar="$BATS_TEST_TMPDIR/jar"
	run --separate-stderr "$GATHER" -c 1 --cookie-jar "$jar" \
		"$BASE/headers" "$BASE/ok?1" "$BASE/ok?2" "$BASE/ok?3" \
		"$BASE/ok?4" "$BASE/echo"
	assert_success
	echo_headers 5 | jq -e '(.cookie | split("; ") | sort) == ["a=1", "b=2"]'
	head -1 "$jar" | grep -q '^# Netscape HTTP Cookie File'
	grep -qP '^127\.0\.0\.1\tFALSE\t/\tFALSE\t0\ta\t1$' "$jar"
	grep -qP '^127\.0\.0\.1\tFALSE\t/\tFALSE\t0\tb\t2$' "$jar"
	# The control: without a cookie store nothing is sent back.
	run --separate-stderr "$GATHER" -c 1 "$BASE/headers" "$BASE/echo"
	assert_equal "$(echo_headers 1 | jq -r .cookie)" null
}

@test "-b FILE loads a cookie file once; -b FILE --cookie-jar FILE" {
	local jar="$BATS_TEST_TMPDIR/jar"
	# No file yet: nothing is loaded, the jar is written at the end.
	run --separate-stderr "$GATHER" -c 1 -b "$jar" --cookie-jar "$jar" \
		"$BASE/echo" "$BASE/headers"
	assert_success
	assert_equal "$(echo_headers 0 | jq -r .cookie)" null
	# The next run starts with what the first one got, and -b DATA too.
	printf '127.0.0.1\tFALSE\t/\tFALSE\t0\tz\t9\n' >>"$jar"
	run --separate-stderr "$GATHER" -b "$jar" -b 'q=1; r=2' "$BASE/echo"
	assert_success
	echo_headers 0 | jq -e '(.cookie | split("; ") | sort) ==
		["a=1", "b=2", "q=1", "r=2", "z=9"]'
	# -b DATA alone goes on every request, and is no file.
	run --separate-stderr "$GATHER" -b 'k=v' "$BASE/echo"
	assert_equal "$(echo_headers 0 | jq -r .cookie)" k=v
}

@test "the cookie jar is written after SIGINT and after SIGTERM" {
	local sig jar
	for sig in INT TERM; do
		jar="$BATS_TEST_TMPDIR/jar.$sig"
		reset_stats
		start_bg "$GATHER" -c 1 --cookie-jar "$jar" "$BASE/headers" \
			"$BASE/hang"
		wait_until 10 hits_at_least /hang 1 ||
			fail "the run did not reach /hang"
		kill -"$sig" "$BG_PID"
		wait_bg 10
		[[ "$sig" == INT ]] && assert_equal "$BG_STATUS" 130
		[[ "$sig" == TERM ]] && assert_equal "$BG_STATUS" 143
		grep -qP '\ta\t1$' "$jar" || fail "no cookie in the jar after SIG$sig"
	done
}

# ---- client certificates ------------------------------------------------------

@test "a client certificate opens the location that requires one" {
	require_nginx
	local u="https://127.0.0.1:$NGINX_CLIENT_PORT/client/ok.txt"
	run --separate-stderr "$GATHER" --cacert "$NGINX_CA" \
		-E "$NGINX_DIR/client.pem" --key "$NGINX_DIR/client.key" "$u"
	assert_success
	assert_jq '.[0] | .ok and .status == 200 and .body == "client ok\n"'
	run --separate-stderr "$GATHER" --cacert "$NGINX_CA" "$u"
	assert_equal "$status" 1
	assert_jq '.[0] | .ok == false and .status == null and
		.error.kind == "tls"'
	# The key's password after the file's name, as curl takes it.
	run --separate-stderr "$GATHER" --cacert "$NGINX_CA" \
		--cert "$NGINX_DIR/client.pem:secret" \
		--key "$NGINX_DIR/client-enc.key" "$u"
	assert_success
	assert_jq '.[0].body == "client ok\n"'
	run --separate-stderr "$GATHER" --cacert "$NGINX_CA" \
		--cert "$NGINX_DIR/client.pem:wrong" \
		--key "$NGINX_DIR/client-enc.key" "$u"
	assert_equal "$status" 1
	assert_jq '.[0].error.kind == "tls"'
}

# ---- usage errors -------------------------------------------------------------

@test "malformed identity and routing options are usage errors" {
	gather_usage_error --resolve example.test:80 "$BASE/"
	gather_usage_error --resolve example.test:x:127.0.0.1 "$BASE/"
	gather_usage_error --resolve example.test:80:not-an-ip "$BASE/"
	gather_usage_error --connect-to a:80:b "$BASE/"
	gather_usage_error --connect-to a:http:b:80 "$BASE/"
	gather_usage_error --unix-socket '' "$BASE/"
	run --separate-stderr "$GATHER" --user ann "$BASE/"
	assert_usage_error 'USER:PASSWORD'
	gather_usage_error --oauth2-bearer $'a\nb' "$BASE/"
	run --separate-stderr "$GATHER" --user a:b --oauth2-bearer t "$BASE/"
	assert_usage_error 'exclude each other'
	gather_usage_error --netrc-file "$BATS_TEST_TMPDIR/none" "$BASE/"
	gather_usage_error --cookie-jar - "$BASE/"
	gather_usage_error -b $'a=1\r\nX: y' "$BASE/"
	run --separate-stderr "$GATHER" -E "$BATS_TEST_TMPDIR/none.pem" "$BASE/"
	assert_usage_error 'cannot read'
	gather_usage_error --key "$BATS_TEST_TMPDIR/none.key" "$BASE/"
}
