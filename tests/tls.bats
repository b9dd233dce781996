#!/usr/bin/env bats
# TLS, HTTP/2 and proxies against a real nginx (tests/nginx.bash) that
# serves static files over https with a certificate from a test CA.

bats_require_minimum_version 1.5.0
load helper
load nginx

setup_file() {
	start_server
	start_nginx
}
teardown_file() {
	stop_nginx
	stop_server
}

@test "https with --cacert: HTTP/2 by default, the bytes served" {
	require_nginx
	run --separate-stderr "$GATHER" --cacert "$NGINX_CA" \
		"$NGINX_BASE/small.txt" "$NGINX_BASE/data.bin"
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_jq --arg u "$NGINX_BASE/small.txt" '.[0] |
		.ok == true and .status == 200 and .http_version == "2" and
		.effective_url == $u and .content_type == "text/plain" and
		.size == 11 and .body == "small file\n" and .error == null'
	# The binary file arrives whole: compare with the file served.
	assert_jq '.[1] | .ok and .http_version == "2" and .size == 5000 and
		.body_encoding == "base64"'
	rec 1 .body | jq -r . | base64 -d >"$BATS_TEST_TMPDIR/data.bin"
	cmp "$BATS_TEST_TMPDIR/data.bin" "$NGINX_DIR/www/data.bin"
	# The TLS handshake took time and is reported.
	assert_jq '.[0].time | .tls > 0 and .tls <= .ttfb and .tls >= .connect'
	# nginx saw HTTP/2 too.
	grep -q ' HTTP/2.0 /small.txt 200$' "$NGINX_LOG"
}

@test "20 URLs with -c 20 share one HTTP/2 connection" {
	require_nginx
	nginx_clear_log
	run --separate-stderr "$GATHER" -c 20 --cacert "$NGINX_CA" \
		$(for i in {0..19}; do echo "$NGINX_BASE/f$i.txt"; done)
	assert_success
	assert_equal "${#lines[@]}" 20
	assert_jq 'map(.http_version) | unique == ["2"]'
	assert_jq 'to_entries | all(.key == .value.index and
		.value.body == "file \(.key)\n")'
	nginx_wait_log 20
	assert_equal "$(grep -c ' HTTP/2.0 /f[0-9]*.txt 200$' "$NGINX_LOG")" 20
	assert_equal "$(nginx_connections '^/f[0-9]+[.]txt$')" 1
}

@test "the same 20 URLs over --http1.1 need several connections" {
	require_nginx
	# The control for the test above: counting connections in the log
	# does tell one shared connection from many.
	nginx_clear_log
	run --separate-stderr "$GATHER" -c 20 --http1.1 --cacert "$NGINX_CA" \
		$(for i in {0..19}; do echo "$NGINX_BASE/f$i.txt"; done)
	assert_success
	assert_jq 'map(.http_version) | unique == ["1.1"]'
	nginx_wait_log 20
	n=$(nginx_connections '^/f[0-9]+[.]txt$')
	((n > 1)) || fail "20 HTTP/1.1 transfers at once used $n connection"
}

@test "--http2-prior-knowledge speaks HTTP/2 without TLS" {
	require_nginx
	nginx_clear_log
	run --separate-stderr "$GATHER" --http2-prior-knowledge \
		"$NGINX_H2C/small.txt" "$NGINX_H2C/f2.txt"
	assert_success
	assert_jq 'map(.http_version) == ["2", "2"]'
	assert_jq 'map(.body) == ["small file\n", "file 2\n"]'
	assert_jq 'map(.time.tls) == [0, 0]'
	nginx_wait_log 2
	assert_equal "$(grep -c ' HTTP/2.0 ' "$NGINX_LOG")" 2
}

@test "--http1.1 speaks HTTP/1.1 over TLS" {
	require_nginx
	nginx_clear_log
	run --separate-stderr "$GATHER" --http1.1 --cacert "$NGINX_CA" \
		"$NGINX_BASE/small.txt" "$NGINX_BASE/f1.txt"
	assert_success
	assert_jq 'map(.http_version) == ["1.1", "1.1"]'
	assert_jq 'map(.body) == ["small file\n", "file 1\n"]'
	nginx_wait_log 2
	assert_equal "$(grep -c ' HTTP/1.1 ' "$NGINX_LOG")" 2
	assert_equal "$(grep -c ' HTTP/2.0 ' "$NGINX_LOG")" 0
}

@test "an unknown CA is error kind tls, and nothing is fetched" {
	require_nginx
	nginx_clear_log
	run --separate-stderr "$GATHER" "$NGINX_BASE/small.txt"
	assert_failure 1
	assert_jq --arg u "$NGINX_BASE/small.txt" '.[0] |
		.ok == false and .status == null and .error.kind == "tls" and
		(.error.curl_code | IN(35, 51, 58, 60, 77, 83, 90, 91)) and
		(.error.message | length > 0) and .size == 0 and
		((has("body") | not) or .body == "")'
	assert_equal "$(wc -l <"$NGINX_LOG")" 0
}

@test "a CA file that is not the server's is error kind tls" {
	require_nginx
	# The test server's CA is its own; give gather some other valid CA.
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 1 -subj "/CN=other" \
		-keyout "$BATS_TEST_TMPDIR/o.key" -out "$BATS_TEST_TMPDIR/o.pem" \
		>/dev/null 2>&1
	run --separate-stderr "$GATHER" --cacert "$BATS_TEST_TMPDIR/o.pem" \
		"$NGINX_BASE/small.txt"
	assert_failure 1
	assert_jq '.[0] | .ok == false and .error.kind == "tls"'
}

@test "-k and --insecure skip verification" {
	require_nginx
	run --separate-stderr "$GATHER" -k "$NGINX_BASE/small.txt"
	assert_success
	assert_jq '.[0] | .ok and .status == 200 and .http_version == "2" and
		.body == "small file\n"'
	run --separate-stderr "$GATHER" --insecure "$NGINX_BASE/f3.txt"
	assert_success
	assert_jq '.[0] | .ok and .body == "file 3\n"'
}

@test "a request object over https gets the record's id and options" {
	require_nginx
	run --separate-stderr "$GATHER" -k \
		"{\"url\": \"$NGINX_BASE/f7.txt\", \"id\": \"seven\"}"
	assert_success
	assert_jq '.[0] | .id == "seven" and .ok and .body == "file 7\n" and
		.http_version == "2"'
}

@test "-I over HTTP/2: lower-case names from nginx" {
	require_nginx
	run --separate-stderr "$GATHER" -k -I "$NGINX_BASE/small.txt"
	assert_success
	assert_jq '.[0].headers | .["content-type"] == "text/plain" and
		.["content-length"] == "11" and (.server | startswith("nginx")) and
		(keys | all(. == ascii_downcase))'
}

# helper.bash sets no_proxy=* against proxies from the environment; libcurl,
# like curl, lets no_proxy override -x too, so these tests run without it.

@test "-x to a port where nothing listens is error kind connect" {
	port=$(closed_port)
	run --separate-stderr env -u no_proxy -u NO_PROXY \
		"$GATHER" -x "http://127.0.0.1:$port" "$BASE/ok"
	assert_failure 1
	assert_jq '.[0] | .ok == false and .status == null and
		.error.kind == "connect" and .error.curl_code == 7'
}

@test "--proxy to a port where nothing listens fails https too" {
	require_nginx
	port=$(closed_port)
	nginx_clear_log
	run --separate-stderr env -u no_proxy -u NO_PROXY \
		"$GATHER" --proxy "127.0.0.1:$port" -k "$NGINX_BASE/small.txt"
	assert_failure 1
	assert_jq '.[0] | .ok == false and .error.kind == "connect"'
	# It did not go around the proxy.
	assert_equal "$(wc -l <"$NGINX_LOG")" 0
}

@test "-x sends plain http through the proxy" {
	# The test server answers a proxy request (absolute URI) like any
	# other, so /echo shows what the proxy was asked: the full URL of a
	# host that does not even resolve.
	run --separate-stderr env -u no_proxy -u NO_PROXY \
		"$GATHER" -x "$BASE" "http://gather-proxy-test.invalid/echo"
	assert_success
	assert_jq '.[0] | .ok and .status == 200 and
		.url == "http://gather-proxy-test.invalid/echo" and
		(.body | fromjson | .path == "http://gather-proxy-test.invalid/echo"
		and .headers.host == "gather-proxy-test.invalid" and
		(.headers["user-agent"] | startswith("gather/")) and
		(.headers["accept-encoding"] | split(", ") | index("gzip")))'
	run --separate-stderr env -u no_proxy -u NO_PROXY \
		"$GATHER" -x "$BASE" -A 'by proxy/1' "http://gather-proxy-test.invalid/header-list"
	assert_success
	assert_jq '.[0].body | fromjson | map(select(.[0] | ascii_downcase ==
		"user-agent")) == [["User-Agent", "by proxy/1"]]'
}

@test "a proxy from http_proxy in the environment is used, as libcurl does" {
	# gather skips libcurl's look at the environment only when no proxy
	# variable is set; with one set, it must still be honoured.
	run --separate-stderr env -u no_proxy -u NO_PROXY \
		http_proxy="$BASE" "$GATHER" "http://gather-proxy-test.invalid/echo"
	assert_success
	assert_jq '.[0] | .ok and
		(.body | fromjson | .path == "http://gather-proxy-test.invalid/echo")'
	# And without it, the name does not resolve: no proxy was used.
	run --separate-stderr env -u no_proxy -u NO_PROXY -u http_proxy \
		-u all_proxy -u ALL_PROXY \
		"$GATHER" "http://gather-proxy-test.invalid/echo"
	assert_failure 1
	assert_jq '.[0].error.kind == "dns"'
}
