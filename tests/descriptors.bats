#!/usr/bin/env bats
# Descriptors: gather keeps its connections (in flight and cached idle),
# its multi handles' own descriptors and -o's files under RLIMIT_NOFILE.
# Under a limit of a few hundred, the largest -c the start-up check allows
# runs a list over several host names (idle connections to one name are
# closed before new ones to another are opened) with every record ok; a
# larger -c is refused at start, naming that largest -c.

bats_require_minimum_version 1.5.0
load helper

LIMIT=300

setup_file() {
	start_server
}

teardown_file() {
	stop_server
}

# The --resolve options naming h1.test .. h$1.test as the test server.
resolves() {
	local i
	for ((i = 1; i <= $1; i++)); do
		printf -- '--resolve\nh%d.test:%s:127.0.0.1\n' "$i" "$PORT"
	done
}

# $1 URLs of path $2 going round hosts h1.test .. h$3.test.
host_urls() {
	local i
	for ((i = 0; i < $1; i++)); do
		printf 'http://h%d.test:%s%s?%d\n' $((i % $3 + 1)) "$PORT" "$2" "$i"
	done
}

# gather under a soft and hard limit of $LIMIT open files.
limited() {
	prlimit --nofile="$LIMIT:$LIMIT" "$GATHER" "$@"
}

# The largest -c the start-up check allows under $LIMIT, with options "$@".
largest_c() {
	limited -c 100000 "$@" --body none "$BASE/ok" 2>&1 >/dev/null |
		sed -n 's/.*use -c \([0-9]*\) or raise.*/\1/p'
}

@test "-c above the limit is refused at start with the largest -c that works" {
	run --separate-stderr limited -c 100000 --body none "$BASE/ok"
	assert_usage_error
	[[ $stderr == *"-c 100000 needs about "*" file descriptors but only $LIMIT are allowed; use -c "* ]] ||
		fail "unexpected: $stderr"
	c=$(largest_c)
	[[ $c =~ ^[0-9]+$ ]] || fail "no -c in: $stderr"
	# Close to the limit: one descriptor a slot, a margin of a few dozen.
	(( c > LIMIT - 64 && c < LIMIT )) || fail "largest -c $c under $LIMIT"
	# That -c starts; one more is refused.
	run --separate-stderr limited -c "$c" --body none "$BASE/ok"
	assert_success
	assert_jq 'length == 1 and .[0].ok'
	run --separate-stderr limited -c $((c + 1)) --body none "$BASE/ok"
	assert_failure 2
	[[ $stderr == *"use -c $c or raise"* ]] || fail "unexpected: $stderr"
}

@test "-o counts a file a slot: about half the -c" {
	c=$(largest_c)
	co=$(largest_c -o "$BATS_TEST_TMPDIR/dl")
	[[ $co =~ ^[0-9]+$ ]] || fail "no -c under -o"
	(( co * 2 <= c + 8 && co * 2 >= c - 8 )) || fail "-o: $co, without: $c"
}

@test "the largest -c over 8 host names: every record ok, the server within the limit" {
	c=$(largest_c)
	n=$((c * 6))
	host_urls "$n" /delay/50 8 >"$BATS_TEST_TMPDIR/list"
	reset_stats
	run --separate-stderr limited -c "$c" --body none $(resolves 8) \
		-i "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_equal "${#lines[@]}" "$n"
	assert_jq "length == $n and all(.ok and .status == 200) and
		map(.index) == [range($n)]"
	stats=$(curl -q -s --max-time 5 "$BASE/stats")
	[[ $(jq .requests <<<"$stats") -eq $n ]] || fail "server: $stats"
	# Many at once (the delay keeps them open), never more than the limit.
	max_open=$(jq .max_open <<<"$stats")
	(( max_open > c / 4 )) || fail "only $max_open connections at once: $stats"
	(( max_open <= LIMIT )) || fail "$max_open connections at once: $stats"
}

@test "the largest -c over 8 host names: transfers wait for their own host's connections" {
	# With every descriptor given out, a transfer waits in its host's
	# lane for one of that host's connections to be free, rather than
	# closing another host's idle connection to open one: about one
	# connection a slot for the whole run, not one a transfer.
	c=$(largest_c)
	n=$((c * 6))
	host_urls "$n" /delay/50 8 >"$BATS_TEST_TMPDIR/list"
	reset_stats
	run --separate-stderr limited -c "$c" --body none $(resolves 8) \
		-i "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_jq "length == $n and all(.ok and .status == 200)"
	conns=$(stat_field connections)
	(( conns <= c + 32 )) || fail "$conns connections for $n requests at -c $c"
	(( $(stat_field max_open) <= LIMIT )) || fail "over the limit"
}

@test "the largest -c over 80 host names, more than lanes fit: every record ok, within the limit" {
	# Lanes past one per 250 slots take descriptors of their own, so
	# under this limit most of the 80 hosts share lanes, and a host with
	# few transfers borrows another lane's idle connection.
	c=$(largest_c)
	n=$((c * 3))
	host_urls "$n" /delay/50 80 >"$BATS_TEST_TMPDIR/list"
	reset_stats
	run --separate-stderr limited -c "$c" --body none $(resolves 80) \
		-i "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_jq "length == $n and all(.ok and .status == 200) and
		map(.index) == [range($n)]"
	assert_equal "$(stat_field requests)" "$n"
	(( $(stat_field max_open) <= LIMIT )) || fail "over the limit"
}

# Run -c $1 over $2 host names, $3 URLs of /delay/50, under the limit:
# every record ok, in order, and the server's connection count in $conns.
run_hosts() {
	host_urls "$3" /delay/50 "$2" >"$BATS_TEST_TMPDIR/list"
	reset_stats
	run --separate-stderr limited -c "$1" --body none $(resolves "$2") \
		-i "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_jq "length == $3 and all(.ok and .status == 200) and
		map(.index) == [range($3)]"
	assert_equal "$(stat_field requests)" "$3"
	(( $(stat_field max_open) <= LIMIT )) || fail "over the limit"
	conns=$(stat_field connections)
}

@test "-c 200 over 80 host names: idle connections are reused, not churned" {
	# 80 hosts at 2 or 3 transfers each: a lane of its own is worth less
	# to such a host than its two descriptors, so they share one whose
	# cache holds a connection or two of every host.  Lanes made while
	# other lanes' caches hold what the budget has left churned: one new
	# connection for every second or third request.
	run_hosts 200 80 2400
	(( conns <= 3 * LIMIT )) || fail "$conns connections for 2400 requests at -c 200"
}

@test "-c 200 over 8 host names: about one connection a slot" {
	run_hosts 200 8 2400
	(( conns <= LIMIT )) || fail "$conns connections for 2400 requests at -c 200"
}

@test "the largest -c under -o over 8 host names: every record ok, every file written" {
	c=$(largest_c -o "$BATS_TEST_TMPDIR/dl")
	n=$((c * 4))
	host_urls "$n" /delay/50 8 >"$BATS_TEST_TMPDIR/list"
	run --separate-stderr limited -c "$c" -o "$BATS_TEST_TMPDIR/dl" \
		$(resolves 8) -i "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_jq "length == $n and all(.ok and .status == 200)"
	files=$(find "$BATS_TEST_TMPDIR/dl" -type f | wc -l)
	assert_equal "$files" "$n"
}

@test "idle connections are reused when the limit leaves room for them" {
	# 4 hosts at -c 20 under the limit: the caches keep their connections.
	host_urls 400 /ok 4 >"$BATS_TEST_TMPDIR/list"
	reset_stats
	run --separate-stderr limited -c 20 --body none $(resolves 4) \
		-i "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_jq 'length == 400 and all(.ok)'
	conns=$(stat_field connections)
	(( conns <= 40 )) || fail "$conns connections for 400 requests at -c 20"
}

@test "host names looked up at once: their resolver descriptors fit too" {
	# A name that the resolver (not --resolve, not libcurl's own
	# "localhost") turns into a loopback address: this machine's name.
	name=$(hostname)
	ip=$(getent ahostsv4 "$name" | awk 'NR == 1 { print $1 }')
	[[ $ip == 127.* ]] || skip "$name does not resolve to a loopback address"
	python3 "$HELPER_DIR/server.py" --host "$ip" \
		--port-file "$BATS_TEST_TMPDIR/port" </dev/null >/dev/null 2>&1 &
	pid=$!
	for ((i = 0; i < 100; i++)); do
		[[ -s $BATS_TEST_TMPDIR/port ]] && break
		sleep 0.1
	done
	port=$(<"$BATS_TEST_TMPDIR/port")
	c=$(largest_c)
	n=$((c * 5))
	for ((i = 0; i < n; i++)); do
		echo "http://$name:$port/delay/50?$i"
	done >"$BATS_TEST_TMPDIR/list"
	run --separate-stderr limited -c "$c" -4 --body none -i "$BATS_TEST_TMPDIR/list"
	kill "$pid"
	wait "$pid" || true
	assert_success
	assert_jq "length == $n and all(.ok and .status == 200) and
		map(.index) == [range($n)]"
}

@test "a name whose connections hang: its transfers still connect at once, not one by one" {
	# A listener that never accepts, its backlog full: connects hang.
	python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
port = s.getsockname()[1]
fill = []
for i in range(4):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(("127.0.0.1", port))
    except BlockingIOError: pass
    fill.append(c)
open(sys.argv[1] + ".tmp", "w").write("%d\n" % port)
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(120)' "$BATS_TEST_TMPDIR/hold" </dev/null >/dev/null 2>&1 &
	pid=$!
	for ((i = 0; i < 100; i++)); do
		[[ -s $BATS_TEST_TMPDIR/hold ]] && break
		sleep 0.1
	done
	port=$(<"$BATS_TEST_TMPDIR/hold")
	for ((i = 0; i < 20; i++)); do
		echo "http://hang.test:$port/$i"
	done >"$BATS_TEST_TMPDIR/list"
	t=$(now)
	run --separate-stderr "$GATHER" -c 20 --connect-timeout 2 \
		--resolve "hang.test:$port:127.0.0.1" --body none -i "$BATS_TEST_TMPDIR/list"
	took=$(since "$t")
	kill "$pid"
	wait "$pid" || true
	assert_jq 'length == 20 and all(.error.kind == "timeout")'
	# One after another would take 20 x 2 s; together about 2 s.
	fcmp "$took" '<' 20 || fail "20 hanging connects took $took s"
}
