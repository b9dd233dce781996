#!/usr/bin/env bats
# The README's GNU parallel recipe, run as written on three hosts made for
# the test: network namespaces joined to this one by veth pairs (addresses
# in 198.18.0.0/16, of the range set aside for benchmark networks), each with
# its own sshd, its own home (a bind mount over /root) and gather on its
# PATH.  The test server listens on this side; the parts come back with
# --return and `gather --merge part-*.jsonl` must be the one-machine run.
# Needs root, `ip netns`, sshd, parallel and rsync; otherwise it skips.

bats_require_minimum_version 1.5.0
load helper

HOSTS=3

# Why this machine cannot run the test, or nothing when it can.
why_not() {
	local t
	[[ $(id -u) == 0 ]] || { echo "not root"; return; }
	for t in ip sshd ssh ssh-keygen parallel rsync; do
		command -v "$t" >/dev/null 2>&1 ||
			[[ -x /usr/sbin/$t ]] || { echo "no $t"; return; }
	done
	ip netns list >/dev/null 2>&1 || { echo "ip netns does not work"; return; }
	if ! ip netns add "${ID}probe" 2>/dev/null; then
		echo "cannot create a network namespace"
		return
	fi
	ip netns del "${ID}probe"
}

# Host k's network, 198.18.$(net k).0/24: three that no other run here
# uses (a run beside this one picks others), from this process's number.
pick_nets() {
	local i n
	for ((i = 0; i < 84; i++)); do
		n=$(( ($$ + i) % 84 * 3 ))
		ip -4 addr show | grep -Eq "inet 198\.18\.($((n + 1))|$((n + 2))|$((n + 3)))\." ||
			{ NET0=$n; return 0; }
	done
	return 1
}
net() { echo $((NET0 + $1)); }

setup() {
	# Names of this run's namespaces and links: short (15 bytes for a link).
	ID="gd$$"
	T="$BATS_TEST_TMPDIR"
	reason=$(why_not)
	[[ -z "$reason" ]] || skip "$reason"
	pick_nets || skip "no free network in 198.18.0.0/16"
}

# Everything the test made, by name and PID, whatever state it got to.
teardown() {
	local k pid
	for k in $(seq 1 "$HOSTS"); do
		if [[ -s "$T/h$k/sshd.pid" ]]; then
			pid=$(<"$T/h$k/sshd.pid")
			kill "$pid" 2>/dev/null || true
		fi
	done
	for k in $(seq 1 "$HOSTS"); do
		if [[ -s "$T/h$k/sshd.pid" ]]; then
			pid=$(<"$T/h$k/sshd.pid")
			wait "$pid" 2>/dev/null || true
		fi
		ip netns del "${ID}h$k" 2>/dev/null || true
		ip link del "${ID}h${k}a" 2>/dev/null || true
	done
	stop_server
}

# Host k: namespace ${ID}hk, 198.18.N.2, reached through 198.18.N.1 here.
make_host() {
	local k=$1 ns="${ID}h$1" a="${ID}h${1}a" b="${ID}h${1}b" n
	n=$(net "$1")
	ip netns add "$ns"
	ip link add "$a" type veth peer name "$b"
	ip link set "$b" netns "$ns"
	ip addr add "198.18.$n.1/24" dev "$a"
	ip link set "$a" up
	ip netns exec "$ns" ip link set lo up
	ip netns exec "$ns" ip addr add "198.18.$n.2/24" dev "$b"
	ip netns exec "$ns" ip link set "$b" up
	ip netns exec "$ns" ip route add default via "198.18.$n.1"
}

# sshd for host k, in its namespace, with its own home and gather on PATH.
start_sshd() {
	local k=$1 h="$T/h$1"
	mkdir -p "$h/home/.ssh" "$h/bin"
	chmod 700 "$h/home" "$h/home/.ssh"
	cp "$T/key.pub" "$h/home/.ssh/authorized_keys"
	printf '#!/bin/sh\nexec %q "$@"\n' "$GATHER" >"$h/bin/gather"
	chmod 755 "$h/bin" "$h/bin/gather"
	cat >"$h/sshd_config" <<-EOF
		ListenAddress 198.18.$(net "$k").2
		Port 22
		HostKey $T/hostkey
		PidFile $h/sshd.pid
		AuthorizedKeysFile $h/home/.ssh/authorized_keys
		PermitRootLogin prohibit-password
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		UsePAM no
		StrictModes no
		Subsystem sftp internal-sftp
	EOF
	# ip netns exec gives the command a mount namespace of its own: the
	# mounts below are this host's alone.
	ip netns exec "${ID}h$k" sh -c '
		mount -t tmpfs tmpfs /run && mkdir -m 755 /run/sshd &&
		mount --bind "$1" /root && mount --bind "$2" /usr/local/bin &&
		exec /usr/sbin/sshd -D -e -f "$3"' sh "$h/home" "$h/bin" \
		"$h/sshd_config" </dev/null >"$h/sshd.log" 2>&1 &
	echo "$!" >"$h/sshd.pid"
}

# The ssh command for host k, as a line of hosts.txt.
ssh_cmd() {
	echo "ssh -i $T/key -F /dev/null -o StrictHostKeyChecking=no" \
		"-o UserKnownHostsFile=/dev/null -o BatchMode=yes" \
		"-o ConnectTimeout=5 -o LogLevel=ERROR root@198.18.$(net "$1").2"
}

# The first sh block of README.md after the heading $1.
readme_block() {
	awk -v h="$1" '$0 == h { f = 1; next }
		f && /^```sh$/ { c = 1; next }
		c && /^```$/ { exit }
		c' "$BATS_TEST_DIRNAME/../README.md"
}

@test "distributed: the README's parallel recipe on three hosts, merged, is the one-machine run" {
	local k i
	for k in $(seq 1 "$HOSTS"); do make_host "$k"; done
	start_server "198.18.$(net 1).1"
	ssh-keygen -q -t ed25519 -N '' -C gather-test -f "$T/key"
	ssh-keygen -q -t ed25519 -N '' -C gather-test -f "$T/hostkey"
	for k in $(seq 1 "$HOSTS"); do start_sshd "$k"; done
	for k in $(seq 1 "$HOSTS"); do ssh_cmd "$k"; done >"$T/hosts.txt"
	# Every host answers ssh and reaches the test server.
	for k in $(seq 1 "$HOSTS"); do
		for ((i = 0; i < 50; i++)); do
			$(ssh_cmd "$k") true 2>/dev/null && break
			sleep 0.1
		done
		run $(ssh_cmd "$k") "cd && pwd && gather -q $BASE/ok"
		assert_success
		assert_line --index 0 /root
		assert_equal "$(printf '%s\n' "${lines[1]}" | jq -c '[.ok, .status]')" '[true,200]'
	done

	# The list: 40 records, one of which cannot connect.
	mkdir "$T/ctl"
	cd "$T/ctl"
	cp "$T/hosts.txt" .
	awk -v b="$BASE" -v h="198.18.$(net 1).1" 'BEGIN { for (k = 0; k < 40; k++) {
		if (k == 13) print "http://" h ":1/refused"
		else if (k % 5 == 1) printf "%s/status/404/%d\n", b, k
		else if (k % 5 == 2) printf "%s/size/%d\n", b, k
		else printf "%s/p/d%d\n", b, k } }' >list.txt
	recipe=$(readme_block "### GNU parallel over ssh")
	[[ "$recipe" == *"parallel --slf hosts.txt --basefile list.txt"* ]] ||
		fail "no parallel recipe in the README: $recipe"
	# parallel's own files go to a home of the test's.
	mkdir "$T/ctlhome"
	run --separate-stderr env HOME="$T/ctlhome" bash -c "$recipe"
	# One shard (the one of record 13) has a failed record: gather says 1,
	# and parallel counts that job as failed.
	assert_failure 1
	for k in 0 1 2 3; do
		[[ -s part-$k.jsonl ]] || fail "part-$k.jsonl did not come back"
	done
	# --cleanup left nothing on the hosts; each host had a login.
	for k in $(seq 1 "$HOSTS"); do
		assert_equal "$(ls -A "$T/h$k/home")" ".ssh"
		grep -q "Accepted publickey" "$T/h$k/sshd.log" ||
			fail "host $k had no login"
	done

	merge=$(readme_block "### Merging the parts" | head -1)
	assert_equal "$merge" "gather --merge part-*.jsonl > all.jsonl"
	# This machine's gather, under the name the README uses.
	mkdir "$T/bin"
	printf '#!/bin/sh\nexec %q "$@"\n' "$GATHER" >"$T/bin/gather"
	chmod 755 "$T/bin/gather"
	run --separate-stderr env PATH="$T/bin:$PATH" bash -c "$merge"
	assert_failure 1
	assert_equal "$stderr" ""
	"$GATHER" -i list.txt >whole.jsonl || [[ $? == 1 ]]
	summary='[.index, .url, .status, .ok, .error.kind]'
	assert_equal "$(jq -c "$summary" all.jsonl)" \
		"$(jq -c "$summary" whole.jsonl)"
	assert_equal "$(jq -s -c 'map(.index)' all.jsonl)" \
		"$(jq -n -c '[range(40)]')"
	assert_equal "$(jq -c 'select(.index == 13) | .error.kind' all.jsonl)" \
		'"connect"'
}
