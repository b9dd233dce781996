#!/usr/bin/env bats
# Thousands in flight: the slots spread over several multi handles still
# give every record once and in order, and libcurl's connection cache is
# big enough that a list going round more hosts than a slot's share reuses
# its connections.  Five test servers are five hosts (each its own port
# of 127.0.0.1, each with its own /stats).  Timing bounds are generous.

bats_require_minimum_version 1.5.0
load helper

NSERVERS=5

setup_file() {
	local i
	BASES=''
	PIDS=''
	for ((i = 0; i < NSERVERS; i++)); do
		start_server
		BASES+="$BASE " PIDS+="$SERVER_PID "
	done
	export BASES PIDS
}

teardown_file() {
	local p
	for p in ${PIDS:-}; do
		SERVER_PID=$p stop_server
	done
}

# Zero every server's counters.
reset_all() {
	local b
	for b in $BASES; do
		curl -q -s --max-time 5 "$b/reset-stats" >/dev/null
	done
}

# The sum of one /stats field over every server.
sum_field() {
	local b n=0 v
	for b in $BASES; do
		v=$(curl -q -s --max-time 5 "$b/stats" | jq -r ".$1")
		n=$((n + v))
	done
	echo "$n"
}

# Print N URLs PATH/K going round the servers, K from 0 to N-1.
round_urls() {
	awk -v n="$1" -v p="$2" -v bases="$BASES" 'BEGIN {
		h = split(bases, b, " ")
		for (k = 0; k < n; k++) printf "%s%s/%d\n", b[k % h + 1], p, k
	}'
}

@test "-c 2000 over five hosts: every record once, in input order" {
	in="$BATS_TEST_TMPDIR/in" out="$BATS_TEST_TMPDIR/out"
	n=5000
	# Under ASan each transfer costs more; fewer still span many handles.
	[[ "$GATHER" == *asan* ]] && n=2500
	round_urls "$n" /delay/300 >"$in"
	reset_all
	rc=0
	"$GATHER" -c 2000 --body none -i "$in" >"$out" 2>"$BATS_TEST_TMPDIR/err" ||
		rc=$?
	((rc == 0)) || fail "exited $rc: $(head -c 2000 "$BATS_TEST_TMPDIR/err")"
	[[ $(wc -l <"$out") -eq $n ]] || fail "$(wc -l <"$out") records of $n"
	# In order, each its own URL, all fetched.
	jq -s -e --rawfile urls "$in" '($urls | split("\n") | .[:-1]) as $u |
		(map(.index) == [range(length)]) and
		all(.[]; .ok and .status == 200 and .url == $u[.index])' \
		"$out" >/dev/null || fail "records out of order, missing or failed"
	assert_equal "$(sum_field requests)" "$n"
	# The servers saw many at once, so many multi handles were busy.
	inflight=0
	for b in $BASES; do
		v=$(curl -q -s --max-time 5 "$b/stats" | jq -r .max_inflight)
		inflight=$((inflight + v))
	done
	((inflight > 500)) || fail "at most $inflight in flight over the servers"
}

@test "-c 32 over five hosts reuses connections (at most about c of them)" {
	# Round-robin over five hosts: the transfer after one that ends is
	# mostly to another host, so a cache of one connection per slot
	# would close one and open one for nearly every transfer.
	reset_all
	n=640
	run --separate-stderr "$GATHER" -c 32 --body none $(round_urls "$n" /delay/50)
	assert_success
	assert_jq --argjson n "$n" 'length == $n and
		(map(.index) == [range($n)]) and all(.ok)'
	assert_equal "$(sum_field requests)" "$n"
	# 0.1.0 opened about 600 here; a slot may still wait for its host's
	# busy connections and open one more now and then.
	conns=$(sum_field connections)
	((conns <= 2 * 32)) ||
		fail "$conns connections for $n transfers at -c 32 over $NSERVERS hosts"
}

@test "above 250 slots one host's transfers still reuse their connections" {
	# -c 600 is three multi handles; 1,800 transfers in three waves to one
	# host need no more connections than one wave.
	reset_all
	b=${BASES%% *}
	n=1800
	run --separate-stderr "$GATHER" -c 600 --body none \
		$(awk -v n="$n" -v b="$b" 'BEGIN { for (k = 0; k < n; k++)
			printf "%s/delay/200/%d\n", b, k }')
	assert_success
	assert_jq --argjson n "$n" 'length == $n and
		(map(.index) == [range($n)]) and all(.ok)'
	conns=$(curl -q -s --max-time 5 "$b/stats" | jq -r .connections)
	((conns <= 600 + 60)) || fail "$conns connections for $n transfers at -c 600"
}

@test "-c 100000 is accepted" {
	reset_all
	run --separate-stderr "$GATHER" -c 100000 $(round_urls 10 /p)
	if ((status == 2)) && [[ $stderr == *descriptor* ]]; then
		skip "this machine's descriptor limit does not fit -c 100000"
	fi
	assert_success
	assert_jq 'map(.index) == [range(10)] and all(.ok and .status == 200)'
}
