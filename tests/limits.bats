#!/usr/bin/env bats
# --max-body: bodies over the limit abort as too_large, whatever the framing
# and however well they compress; the limit counts decoded bytes.

bats_require_minimum_version 1.5.0
load helper

setup_file() { start_server; }
teardown_file() { stop_server; }

@test "--max-body 1k: a 2048-byte body is too_large" {
	run --separate-stderr "$GATHER" --max-body 1k "$BASE/size/2048"
	assert_failure 1
	assert_jq '.[0].ok == false and .[0].error.kind == "too_large"'
	assert_jq '.[0].error.message | type == "string" and length > 0'
}

@test "--max-body 1k: a body of exactly 1024 bytes is fine" {
	run --separate-stderr "$GATHER" --max-body 1k "$BASE/size/1024" \
		"$BASE/size/1025"
	assert_failure 1
	assert_jq '.[0].ok and .[0].size == 1024 and .[0].body == ("a" * 1024)'
	assert_jq '.[1].ok == false and .[1].error.kind == "too_large"'
}

@test "--max-body catches bodies without Content-Length" {
	run --separate-stderr "$GATHER" --max-body 1k \
		"$BASE/nolength/5000" "$BASE/chunked/5000" "$BASE/nolength/1000" \
		"$BASE/chunked/1000"
	assert_failure 1
	assert_jq 'map(.ok) == [false, false, true, true]'
	assert_jq '.[0].error.kind == "too_large" and
		.[1].error.kind == "too_large"'
	assert_jq '.[2].size == 1000 and .[3].size == 1000'
}

@test "--max-body counts decoded bytes, not compressed ones" {
	run --separate-stderr "$GATHER" --max-body 1k "$BASE/gzip/5000" \
		"$BASE/gzip/1000" "$BASE/gzip/2048"
	assert_failure 1
	assert_jq 'map(.error.kind) == ["too_large", null, "too_large"]'
	assert_jq '.[1].ok and .[1].size == 1000'
	# Undecoded, the same 2048 bytes are small enough on the wire.
	run --separate-stderr "$GATHER" --no-compressed --max-body 1k \
		"$BASE/gzip/2048"
	assert_success
	# Stored gzip: 1023 bytes on the wire (its Content-Length) for 1000
	# decoded; the limit is on the 1000.
	run --separate-stderr "$GATHER" -t 10 --max-body 1010 \
		"$BASE/gzip/1000?level=0"
	assert_success
	assert_jq '.[0].ok and .[0].size == 1000'
	run --separate-stderr "$GATHER" -t 10 --max-body 999 \
		"$BASE/gzip/1000?level=0" "$BASE/size/1000"
	assert_failure 1
	assert_jq 'all(.[]; .error.kind == "too_large")'
}

@test "--max-body accepts k, M and G" {
	run --separate-stderr "$GATHER" --max-body 2k "$BASE/size/2048" \
		"$BASE/size/2049"
	assert_jq 'map(.ok) == [true, false]'
	run --separate-stderr "$GATHER" --body none --max-body 1M \
		"$BASE/size/1048576" "$BASE/size/1048577"
	assert_jq 'map(.ok) == [true, false] and .[0].size == 1048576'
	assert_jq '.[1].error.kind == "too_large"'
	run --separate-stderr "$GATHER" --max-body 1G "$BASE/size/10"
	assert_success
	run --separate-stderr "$GATHER" --max-body 100 "$BASE/size/100" \
		"$BASE/size/101"
	assert_jq 'map(.ok) == [true, false]'
}

@test "the default limit is 16M and --max-body 0 lifts it" {
	run --separate-stderr "$GATHER" --body none "$BASE/size/16777216" \
		"$BASE/size/16777217"
	assert_failure 1
	assert_jq 'map(.ok) == [true, false] and .[1].error.kind == "too_large"'
	run --separate-stderr "$GATHER" --body none --max-body 0 \
		"$BASE/size/16777217"
	assert_success
	assert_jq '.[0].size == 16777217'
}

@test "a gzip bomb stops at the limit, quickly, and at the default 16M" {
	t=$(now)
	run --separate-stderr "$GATHER" --max-body 1M "$BASE/bomb/200000000" \
		"$BASE/ok"
	took=$(since "$t")
	assert_failure 1
	assert_jq '.[0] | .ok == false and .error.kind == "too_large" and
		.size <= 1048576'
	assert_jq '.[1].ok'
	assert_took "$took" '<' 5 "a 200 MB gzip bomb under --max-body 1M"
	# Without --max-body: the default cap, and the body is never built.
	run --separate-stderr timeout 60 "$GATHER" "$BASE/bomb/104857600"
	assert_failure 1
	assert_jsonl -n 1
	assert_jq '.[0] | .error.kind == "too_large" and .size <= 16777216 and
		(has("body") | not)'
}
