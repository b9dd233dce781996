#!/usr/bin/env bats
# Reading input: URL arguments, -i FILE, stdin; trimming and skipping; and
# bad lines, which become error records while the run goes on.

bats_require_minimum_version 1.5.0
load helper

setup_file() { start_server; }
teardown_file() { stop_server; }

@test "lines are trimmed of spaces, tabs and CR" {
	printf '  %s  \n\t%s\t\n%s\r\n \t %s \r\n' \
		"$BASE/ok?i=0" "$BASE/ok?i=1" "$BASE/ok?i=2" "$BASE/ok?i=3" \
		>"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -i "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "${#lines[@]}" 4
	assert_jq --arg b "$BASE" \
		'map(.url) == [range(0; 4) | $b + "/ok?i=\(.)"] and all(.ok)'
}

@test "empty lines and # lines are skipped and get no index" {
	cat >"$BATS_TEST_TMPDIR/in" <<-EOF

		# a comment
		$BASE/ok?i=a

		   
		   # an indented comment
		#$BASE/ok?i=commented
		$BASE/ok?i=b
		$(printf '\t\r')
		$BASE/ok?i=c
	EOF
	reset_stats
	run --separate-stderr "$GATHER" -i "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "${#lines[@]}" 3
	assert_jq --arg b "$BASE" 'map([.index, .url]) == [
		[0, $b + "/ok?i=a"], [1, $b + "/ok?i=b"], [2, $b + "/ok?i=c"]]'
	assert_equal "$(stat_field requests)" 3
}

@test "the last line needs no newline" {
	printf '%s\n%s' "$BASE/ok?i=0" "$BASE/ok?i=1" >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -i "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_jq --arg b "$BASE" 'map(.url) == [$b + "/ok?i=0", $b + "/ok?i=1"]'
}

@test "-i FILE and --input FILE read the file" {
	urls 3 /ok >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -i "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_jq --arg b "$BASE" \
		'map(.url) == [range(0; 3) | $b + "/ok?i=\(.)"] and all(.ok)'
	run --separate-stderr "$GATHER" --input "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "${#lines[@]}" 3
	run --separate-stderr "$GATHER" --input="$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "${#lines[@]}" 3
}

@test "-i - and no arguments at all read stdin" {
	urls 3 /ok >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -i - <"$BATS_TEST_TMPDIR/in"
	assert_success
	assert_jq --arg b "$BASE" 'map(.url) == [range(0; 3) | $b + "/ok?i=\(.)"]'
	run --separate-stderr "$GATHER" <"$BATS_TEST_TMPDIR/in"
	assert_success
	assert_jq --arg b "$BASE" 'map(.url) == [range(0; 3) | $b + "/ok?i=\(.)"]'
}

@test "URL arguments are fetched and stdin is then left alone" {
	reset_stats
	run --separate-stderr bash -c \
		'echo "$BASE/ok?i=stdin" | "$GATHER" "$BASE/ok?i=0" "$BASE/size/3"'
	assert_success
	assert_jq --arg b "$BASE" \
		'map(.url) == [$b + "/ok?i=0", $b + "/size/3"] and all(.ok)'
	assert_equal "$(stat_field requests)" 2
}

@test "URL arguments come before the lines of -i FILE" {
	urls 2 /ok >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -i "$BATS_TEST_TMPDIR/in" "$BASE/size/1"
	assert_success
	assert_jq --arg b "$BASE" 'map([.index, .url]) ==
		[[0, $b + "/size/1"], [1, $b + "/ok?i=0"], [2, $b + "/ok?i=1"]]'
}

@test "options may come after URL arguments" {
	run --separate-stderr "$GATHER" "$BASE/utf8" --body none -c 1 \
		"$BASE/size/5" -t 5
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_jq 'all(has("body") | not) and map(.size) == [33, 5]'
}

@test "-- ends the options" {
	run --separate-stderr "$GATHER" -c 2 -- "$BASE/ok"
	assert_success
	assert_jq --arg u "$BASE/ok" '.[0].url == $u and .[0].ok'
}

@test "a line over 64 KiB is bad_input named by its first 256 bytes" {
	# The limit is on the trimmed line: exactly 64 KiB is read, with or
	# without blanks around it; one byte more is bad_input.
	u="$BASE/ok?x="
	pad=$((65536 - ${#u}))
	long="$u$(head -c "$pad" /dev/zero | tr '\0' a)"
	{
		printf '%s\r\n' "$long"
		printf '   %s   \t\r\n' "$long"
		printf '%s' "$long"
		head -c 200000 /dev/zero | tr '\0' ' '
		printf '\n'
		printf '%sb\r\n' "$long"
		printf '%s' "$long"
		head -c 200000 /dev/zero | tr '\0' ' '
		printf 'c\n'
	} >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr timeout 30 "$GATHER" -i "$BATS_TEST_TMPDIR/in"
	assert_jsonl -n 5
	assert_jq --arg u "$long" '.[:3] | all(.url == $u and
		.error.kind != "bad_input")'
	assert_jq --arg u "${long:0:256}" '.[3:] | all(.url == $u and
		.error.kind == "bad_input" and .status == null)'
}

@test "a line of 70,000 blanks is blank: no record" {
	{
		echo "$BASE/ok?i=0"
		head -c 70000 /dev/zero | tr '\0' ' '
		printf '\r\n'
		head -c 300000 /dev/zero | tr '\0' '\t'
		echo
		echo "$BASE/ok?i=1"
	} >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr timeout 30 "$GATHER" -i "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_jsonl -n 2
	assert_jq 'map(.index) == [0, 1] and all(.ok)'
}

@test "malformed URLs are invalid_url" {
	printf '%s\n' 'http://exa mple.com/' "$BASE/ok" 'ht!tp://x' 'http://[::1' \
		>"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_jq 'map(.ok) == [false, true, false, false]'
	assert_jq '.[0].error.kind == "invalid_url" and .[0].url == "http://exa mple.com/"'
	assert_jq '.[2].error.kind == "invalid_url" and .[2].url == "ht!tp://x"'
	assert_jq '.[3].error.kind == "invalid_url"'
}

@test "a host name over 253 bytes is invalid_url" {
	local a
	a=$(printf 'a%.0s' {1..300})
	run --separate-stderr "$GATHER" -t 10 "http://$a.localhost:$PORT/ok" \
		"http://$a.nonexistent-tld:$PORT/ok" "$a.localhost:$PORT/ok" \
		"http://u@$a.localhost:$PORT/ok" "$BASE/ok"
	assert_failure 1
	assert_jsonl --ordered -n 5
	assert_jq '.[0:4] | all(.[]; .error.kind == "invalid_url")'
	assert_jq '.[4].ok'
}

@test "protocols other than http and https are unsupported_protocol" {
	run --separate-stderr "$GATHER" "ftp://127.0.0.1/x" "file:///etc/passwd" \
		"$BASE/ok" "gopher://127.0.0.1/"
	assert_failure 1
	assert_jq 'map(.ok) == [false, false, true, false]'
	assert_jq '[.[0], .[1], .[3]] | all(.error.kind == "unsupported_protocol")'
	# Nothing of the file made it out.
	refute_output --partial 'root:'
}

@test "every line read gets exactly one record, good or bad" {
	printf '%s\n' "$BASE/ok" '{"url": "'"$BASE/ok"'"}' 'ftp://x/' \
		"$BASE/status/404" 'http://exa mple.com/' "$BASE/size/2" \
		>"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_jsonl
	assert_jq 'map(.index) == [range(0; 6)]'
	assert_jq '[.[0], .[3], .[5]] | all(.ok)'
}

@test "a line with invalid UTF-8 still gives valid JSON" {
	printf '%s\xff\xfe\n%s\n' "$BASE/ok?x=" "$BASE/ok" >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -i "$BATS_TEST_TMPDIR/in"
	assert_equal "${#lines[@]}" 2
	assert_jsonl
	assert_jq '.[0].index == 0 and (.[0].url | startswith("'"$BASE"'/ok?x="))'
	assert_jq '.[1].ok'
}

@test "empty input: exit 0 and no output" {
	run --separate-stderr "$GATHER" </dev/null
	assert_success
	assert_output ''
	printf '\n# only comments\n   \n' >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -i "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_output ''
}

@test "a line without a scheme is http even when the host starts with ftp." {
	# curl's guessing would make this ftp (and so unsupported_protocol).
	run --separate-stderr "$GATHER" "ftp.localhost:$(closed_port)/x"
	assert_failure 1
	assert_jq '.[0].effective_url | startswith("http://ftp.localhost:")'
	assert_jq '.[0].error.kind == "connect"'
}

@test "an input that fails while read is named with its control bytes escaped" {
	dir="$BATS_TEST_TMPDIR/in"$'\x01'"dir"
	mkdir "$dir"
	run --separate-stderr "$GATHER" -i "$dir"
	assert_failure 3
	assert_equal "$stderr" \
		"gather: cannot read '$BATS_TEST_TMPDIR/in\\x01dir': is a directory"
	assert_output ''
}
