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
