#!/usr/bin/env bats
# --body: how response bytes are put into the record, and that whatever
# arrives the output stays valid JSON and round-trips to the same bytes.

bats_require_minimum_version 1.5.0
load helper

setup_file() { start_server; }
teardown_file() { stop_server; }

# The bytes the server sends for PATH, as curl receives them.
curl_bytes() {
	curl -q -s --compressed --max-time 10 "$BASE$1"
}

@test "auto: UTF-8 text is kept as text and round-trips exactly" {
	run --separate-stderr "$GATHER" "$BASE/utf8"
	assert_success
	assert_jq '.[0].body_encoding == "utf-8"'
	printf '%s\n' "$output" | jq -j '.body' >"$BATS_TEST_TMPDIR/got"
	curl_bytes /utf8 >"$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

@test "auto: binary is base64 and decodes to the server's bytes" {
	run --separate-stderr "$GATHER" "$BASE/bytes/256" "$BASE/bytes/1001"
	assert_success
	assert_jq 'all(.body_encoding == "base64") and map(.size) == [256, 1001]'
	printf '%s\n' "${lines[0]}" | jq -r '.body' | base64 -d >"$BATS_TEST_TMPDIR/got"
	curl_bytes /bytes/256 >"$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	printf '%s\n' "${lines[1]}" | jq -r '.body' | base64 -d >"$BATS_TEST_TMPDIR/got"
	curl_bytes /bytes/1001 >"$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

@test "auto: NUL and control bytes inside valid UTF-8 stay text" {
	# Bytes 0..127 are ASCII, hence valid UTF-8, NUL included.
	run --separate-stderr "$GATHER" "$BASE/bytes/128"
	assert_success
	assert_jq '.[0].body_encoding == "utf-8" and
		(.[0].body | explode) == [range(0; 128)]'
	printf '%s\n' "$output" | jq -j '.body' >"$BATS_TEST_TMPDIR/got"
	curl_bytes /bytes/128 >"$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

@test "text: invalid UTF-8 is replaced with U+FFFD" {
	run --separate-stderr "$GATHER" --body text "$BASE/bytes/256" "$BASE/utf8"
	assert_success
	assert_jq 'all(.body_encoding == "utf-8")'
	# 0..127 as they are; each of 128..255 (none starts a valid
	# sequence here) becomes one U+FFFD.
	assert_jq '(.[0].body | explode) ==
		([range(0; 128)] + [range(0; 128) | 65533])'
	assert_jq '.[0].size == 256'
	printf '%s\n' "${lines[1]}" | jq -j '.body' >"$BATS_TEST_TMPDIR/got"
	curl_bytes /utf8 >"$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

@test "base64: even text is base64" {
	run --separate-stderr "$GATHER" --body base64 "$BASE/utf8" "$BASE/size/0"
	assert_success
	assert_jq 'all(.body_encoding == "base64")'
	assert_jq '.[1].body == "" and .[1].size == 0'
	printf '%s\n' "${lines[0]}" | jq -r '.body' | base64 -d >"$BATS_TEST_TMPDIR/got"
	curl_bytes /utf8 >"$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

@test "json: a JSON body is embedded as a value" {
	want_size=$(curl_bytes /json | wc -c)
	run --separate-stderr "$GATHER" --body json "$BASE/json"
	assert_success
	assert_jq '.[0].body_encoding == "json"'
	assert_jq '.[0].body == {"hello": "world", "n": [1, 2, 3],
		"nested": {"ok": true}}'
	assert_jq '.[0].body.nested.ok == true'
	assert_jq --argjson n "$want_size" '.[0].size == $n'
	# Embedded compactly: the record is still one line.
	assert_equal "${#lines[@]}" 1
}

@test "json: a body that is not JSON falls back to auto" {
	run --separate-stderr "$GATHER" --body json \
		"$BASE/utf8" "$BASE/bytes/256" "$BASE/ok" "$BASE/size/0"
	assert_success
	assert_jq 'map(.body_encoding) == ["utf-8", "base64", "utf-8", "utf-8"]'
	assert_jq '.[2].body == "ok" and .[3].body == ""'
	printf '%s\n' "${lines[0]}" | jq -j '.body' >"$BATS_TEST_TMPDIR/got"
	curl_bytes /utf8 >"$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

@test "none: no body and no body_encoding, size still counted" {
	run --separate-stderr "$GATHER" --body none "$BASE/utf8" "$BASE/bytes/300"
	assert_success
	assert_jq 'all(has("body") or has("body_encoding") | not)'
	assert_jq 'map(.size) == [33, 300]'
	assert_jq 'all(.ok and .status == 200)'
}

@test "output is valid JSON lines in every body mode" {
	for mode in auto text base64 json none; do
		run --separate-stderr "$GATHER" --body "$mode" \
			"$BASE/utf8" "$BASE/bytes/256" "$BASE/json" "$BASE/bytes/128" \
			"$BASE/gzip/50" "$BASE/headers" "$BASE/status/503" "$BASE/reset"
		assert_failure 1
		assert_equal "${#lines[@]}" 8
		assert_jsonl
		assert_jq 'map(.index) == [range(0; 8)]'
	done
}
