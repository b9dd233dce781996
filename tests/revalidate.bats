#!/usr/bin/env bats
# --revalidate FILE: asking only for what changed since an earlier output,
# and the fields that make an output usable as that state: etag,
# last_modified, not_modified, remote_ip, remote_port, connection_reused.
#
# The server's /cond/NAME has an ETag and a Last-Modified, /cond-lm/NAME a
# Last-Modified only; /cond-bump/NAME makes a new version, /cond-fail/NAME/N
# fails NAME's next N requests with 503, and /cond-seen/NAME says which
# conditions NAME's last request carried.

bats_require_minimum_version 1.5.0
load helper

setup_file() { start_server; }
teardown_file() { stop_server; }

# What NAME's last request asked: its If-None-Match and If-Modified-Since.
seen() {
	curl -q -s --max-time 5 "$BASE/cond-seen/$1"
}

# Fetch the URLs given at -c 1 into $BATS_TEST_TMPDIR/first.jsonl.
first_run() {
	"$GATHER" -c 1 "$@" >"$BATS_TEST_TMPDIR/first.jsonl"
}

# Print FILE's modification time in nanoseconds and its SHA-256.
fingerprint() {
	stat -c %y "$1"
	sha256sum <"$1"
}

@test "revalidate: every record has the new fields, null when unknown" {
	run --separate-stderr "$GATHER" "$BASE/cond/f1" "$BASE/ok" \
		"http://127.0.0.1:$(closed_port)/"
	assert_failure 1
	assert_jq '.[0] | .etag == "\"f1-v1\"" and
		.last_modified == "Sun, 01 Jan 2023 10:00:00 GMT" and
		.not_modified == false'
	assert_jq '.[1] | .etag == null and .last_modified == null and
		.not_modified == false and (.remote_port | type) == "number"'
	assert_jq '.[2] | .ok == false and .error.kind == "connect" and
		has("etag") and .etag == null and .last_modified == null and
		.remote_ip == null and .remote_port == null and
		.connection_reused == false and .not_modified == false'
}

@test "revalidate: remote_ip is 127.0.0.1 and remote_port the server's" {
	run --separate-stderr "$GATHER" "$BASE/ok"
	assert_success
	assert_jq --argjson p "$PORT" '.[0] | .remote_ip == "127.0.0.1" and
		.remote_port == $p'
}

@test "revalidate: connection_reused is false on a new connection, true after at -c 1" {
	reset_stats
	run --separate-stderr "$GATHER" -c 1 "$BASE/ok" "$BASE/p/a" "$BASE/p/b"
	assert_success
	assert_jq 'map(.connection_reused) == [false, true, true]'
	assert_jq '.[0].time.connect > 0 and .[1].time.connect == 0'
	assert_equal "$(stat_field connections)" 1
}

@test "revalidate: an unchanged resource is a 304: ok, not_modified, no body" {
	first_run "$BASE/cond/u1"
	run --separate-stderr "$GATHER" --revalidate "$BATS_TEST_TMPDIR/first.jsonl" \
		"$BASE/cond/u1"
	assert_success
	assert_no_stderr
	assert_jq '.[0] | .ok and .status == 304 and .not_modified == true and
		(has("body") | not) and .size == 0 and .error == null and
		.etag == "\"u1-v1\"" and
		.last_modified == "Sun, 01 Jan 2023 10:00:00 GMT"'
	assert_equal "$(seen u1)" \
		'{"inm": "\"u1-v1\"", "ims": "Sun, 01 Jan 2023 10:00:00 GMT"}'
}

@test "revalidate: a changed resource is a 200 with the new body and etag" {
	first_run "$BASE/cond/c1"
	curl -q -s --max-time 5 "$BASE/cond-bump/c1" >/dev/null
	run --separate-stderr "$GATHER" --revalidate "$BATS_TEST_TMPDIR/first.jsonl" \
		"$BASE/cond/c1"
	assert_success
	assert_jq '.[0] | .ok and .status == 200 and .not_modified == false and
		.body == "c1 v2\n" and .etag == "\"c1-v2\"" and
		.last_modified == "Sun, 02 Jan 2023 10:00:00 GMT"'
	assert_equal "$(seen c1 | jq -r .inm)" '"c1-v1"'
}

@test "revalidate: Last-Modified alone is sent as If-Modified-Since" {
	first_run "$BASE/cond-lm/l1"
	run --separate-stderr "$GATHER" --revalidate "$BATS_TEST_TMPDIR/first.jsonl" \
		"$BASE/cond-lm/l1"
	assert_success
	assert_jq '.[0] | .status == 304 and .not_modified and .etag == null'
	assert_equal "$(seen l1)" \
		'{"inm": null, "ims": "Sun, 01 Jan 2023 10:00:00 GMT"}'
}

@test "revalidate: matching is by url: a url missing from FILE is fetched plainly" {
	first_run "$BASE/cond/m1" "$BASE/cond/m2"
	# The list changed: m2 went, m3 came, m1 moved.
	run --separate-stderr "$GATHER" --revalidate "$BATS_TEST_TMPDIR/first.jsonl" \
		"$BASE/cond/m3" "$BASE/cond/m1"
	assert_success
	assert_jq 'map(.status) == [200, 304]'
	assert_jq '.[0] | .body == "m3 v1\n" and .not_modified == false'
	assert_equal "$(seen m3)" '{"inm": null, "ims": null}'
}

@test "revalidate: a failed or validator-less record in FILE is fetched plainly" {
	port=$(closed_port)
	printf '%s\n' "$BASE/cond/n1" "http://127.0.0.1:$port/x" "$BASE/ok" \
		>"$BATS_TEST_TMPDIR/in"
	"$GATHER" --fail -i "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/first.jsonl" ||
		[[ $? -eq 1 ]]
	reset_stats
	run --separate-stderr "$GATHER" --revalidate "$BATS_TEST_TMPDIR/first.jsonl" \
		"$BASE/ok" "$BASE/cond/n1"
	assert_success
	assert_jq 'map(.status) == [200, 304]'
	assert_jq '.[0].body == "ok"'
}

@test "revalidate: a request object's If-None-Match wins over FILE's" {
	first_run "$BASE/cond/h1"
	run --separate-stderr "$GATHER" --revalidate "$BATS_TEST_TMPDIR/first.jsonl" \
		-i - <<<'{"url": "'"$BASE"'/cond/h1", "headers": {"If-None-Match": "\"other\""}}'
	assert_success
	assert_jq '.[0] | .status == 200 and .not_modified == false'
	assert_equal "$(seen h1)" \
		'{"inm": "\"other\"", "ims": "Sun, 01 Jan 2023 10:00:00 GMT"}'
}

@test "revalidate: a 304 without validators keeps the ones sent, for the next run" {
	first_run "$BASE/cond/b1?bare=1"
	"$GATHER" --revalidate "$BATS_TEST_TMPDIR/first.jsonl" "$BASE/cond/b1?bare=1" \
		>"$BATS_TEST_TMPDIR/second.jsonl"
	jq -e '.status == 304 and .etag == "\"b1-v1\"" and
		.last_modified == "Sun, 01 Jan 2023 10:00:00 GMT"' \
		"$BATS_TEST_TMPDIR/second.jsonl"
	# The second output is the state of a third run.
	run --separate-stderr "$GATHER" --revalidate "$BATS_TEST_TMPDIR/second.jsonl" \
		"$BASE/cond/b1?bare=1"
	assert_success
	assert_jq '.[0].status == 304'
}

@test "revalidate: -o keeps the file untouched on a 304 and names it" {
	cd "$BATS_TEST_TMPDIR"
	"$GATHER" -o out --name '{name}' "$BASE/cond/o1" "$BASE/cond/o2" \
		>first.jsonl
	touch -d '2001-02-03 04:05:06' out/o1
	before=$(fingerprint out/o1)
	curl -q -s --max-time 5 "$BASE/cond-bump/o2" >/dev/null
	run --separate-stderr "$GATHER" -o out --name '{name}' \
		--revalidate first.jsonl "$BASE/cond/o1" "$BASE/cond/o2"
	assert_success
	assert_jq '.[0] | .status == 304 and .not_modified and
		.file == "out/o1" and (has("body") | not)'
	assert_jq '.[1] | .status == 200 and .file == "out/o2" and .size == 6'
	assert_equal "$(fingerprint out/o1)" "$before"
	assert_equal "$(cat out/o1)" "o1 v1"
	assert_equal "$(cat out/o2)" "o2 v2"
	assert_equal "$(ls out | wc -l)" 2
}

@test "revalidate: -o with --hash: a 304 has no hash, a 200 its own, no .part left" {
	cd "$BATS_TEST_TMPDIR"
	"$GATHER" -o out --name '{name}' "$BASE/cond/h1" >first.jsonl
	sum=$(sha256sum <out/h1 | cut -c1-64)
	run --separate-stderr "$GATHER" -o out --name '{name}' --hash sha256 \
		--revalidate first.jsonl <<<"{\"url\": \"$BASE/cond/h1\", \"sha256\": \"$sum\"}"
	assert_success
	assert_jq '.[0] | .status == 304 and .ok and .file == "out/h1" and
		.hash == null'
	curl -q -s --max-time 5 "$BASE/cond-bump/h1" >/dev/null
	run --separate-stderr "$GATHER" -o out --name '{name}' --hash sha256 \
		--revalidate first.jsonl "$BASE/cond/h1"
	assert_success
	sum=$(sha256sum <out/h1 | cut -c1-64)
	assert_jq --arg s "$sum" '.[0] | .status == 200 and .file == "out/h1" and
		.hash.sha256 == $s'
	assert_equal "$(cat out/h1)" "h1 v2"
	assert_equal "$(ls -a out | grep -c part)" 0
}

@test "revalidate: -o with the file gone fetches it without conditions" {
	cd "$BATS_TEST_TMPDIR"
	"$GATHER" -o out --name '{name}' "$BASE/cond/g1" >first.jsonl
	rm out/g1
	run --separate-stderr "$GATHER" -o out --name '{name}' \
		--revalidate first.jsonl "$BASE/cond/g1"
	assert_success
	assert_jq '.[0] | .status == 200 and .file == "out/g1"'
	assert_equal "$(cat out/g1)" "g1 v1"
	assert_equal "$(seen g1)" '{"inm": null, "ims": null}'
}

@test "revalidate: with --retries a retried request asks again with its conditions" {
	first_run "$BASE/cond/r1"
	curl -q -s --max-time 5 "$BASE/cond-fail/r1/1" >/dev/null
	run --separate-stderr "$GATHER" --retries 2 --retry-delay 0.01 \
		--revalidate "$BATS_TEST_TMPDIR/first.jsonl" "$BASE/cond/r1"
	assert_success
	assert_jq '.[0] | .attempts == 2 and .status == 304 and .not_modified'
	assert_equal "$(seen r1 | jq -r .inm)" '"r1-v1"'
}

@test "revalidate: works with --shard and --resume" {
	urls 4 /cond/s1 >"$BATS_TEST_TMPDIR/in"
	"$GATHER" -i "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/first.jsonl"
	run --separate-stderr "$GATHER" --shard 1/2 \
		--revalidate "$BATS_TEST_TMPDIR/first.jsonl" -i "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_jq 'map(.index) == [1, 3] and all(.status == 304)'
	# A run cut after record 1: --resume skips it, the rest revalidate.
	head -n 2 "$BATS_TEST_TMPDIR/first.jsonl" >"$BATS_TEST_TMPDIR/part.jsonl"
	run --separate-stderr "$GATHER" --resume "$BATS_TEST_TMPDIR/part.jsonl" \
		--revalidate "$BATS_TEST_TMPDIR/first.jsonl" -i "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_jq 'map(.index) == [2, 3] and all(.status == 304)'
}

@test "revalidate: reads a --format json FILE and a line over 1 MiB" {
	cd "$BATS_TEST_TMPDIR"
	"$GATHER" --format json "$BASE/cond/j1" "$BASE/cond/j2?big=1200000" \
		>first.json
	(($(wc -c <first.json) > 1200000))
	run --separate-stderr "$GATHER" --revalidate first.json \
		"$BASE/cond/j1" "$BASE/cond/j2?big=1200000"
	assert_success
	assert_jq 'map(.status) == [304, 304]'
}

@test "revalidate: a FILE with garbage lines is refused like --resume's" {
	cd "$BATS_TEST_TMPDIR"
	first_run "$BASE/cond/z1"
	{ cat first.jsonl; echo 'not json'; cat first.jsonl; } >bad.jsonl
	run --separate-stderr "$GATHER" --revalidate bad.jsonl "$BASE/cond/z1"
	assert_failure 2
	assert_output ""
	assert_equal "$stderr" \
		"gather: --revalidate: 'bad.jsonl' line 2 is not a record of gather's output"
	run --separate-stderr "$GATHER" --revalidate missing.jsonl "$BASE/ok"
	assert_failure 2
	assert_regex "$stderr" "^gather: --revalidate: cannot open 'missing.jsonl'"
}

@test "revalidate: a cut last line is ignored, as with --resume" {
	cd "$BATS_TEST_TMPDIR"
	first_run "$BASE/cond/k1" "$BASE/cond/k2"
	head -c -40 first.jsonl >cut.jsonl
	run --separate-stderr "$GATHER" --revalidate cut.jsonl \
		"$BASE/cond/k1" "$BASE/cond/k2"
	assert_success
	assert_jq 'map(.status) == [304, 200]'
}

@test "revalidate: a validator with a control byte is never sent" {
	cd "$BATS_TEST_TMPDIR"
	printf '%s\n' '{"index":0,"url":"'"$BASE"'/cond/e1","ok":true,"etag":"\"a\"\r\nX-Evil: 1","last_modified":null,"size":0}' >evil.jsonl
	run --separate-stderr "$GATHER" --revalidate evil.jsonl "$BASE/cond/e1"
	assert_success
	assert_jq '.[0].status == 200'
	assert_equal "$(seen e1)" '{"inm": null, "ims": null}'
}

@test "revalidate: every record field is in the man page's and README's field tables" {
	cd "$BATS_TEST_TMPDIR"
	fields=$("$GATHER" -I -o out "$BASE/cond/d1" | jq -r 'keys[]')
	man=$(sed -n '/^\.SS Record fields/,/^\.SH/p' "$BATS_TEST_DIRNAME/../man/gather.1")
	readme=$(sed -n '/^### Record format/,/^### /p' "$BATS_TEST_DIRNAME/../README.md")
	for f in $fields; do
		grep -q "^\.BR $f " <<<"$man" || fail "$f is not in the man page"
		grep -q "^| \`$f\` |" <<<"$readme" || fail "$f is not in README"
	done
	[[ $(wc -w <<<"$fields") -eq 20 ]]
}

@test "revalidate: the last record of a url in FILE counts, also without validators" {
	local f="$BATS_TEST_TMPDIR/first.jsonl"
	first_run "$BASE/cond/last1" "$BASE/cond-lm/last2"
	# A later run found the same urls without validators (say, after the
	# server stopped sending them): its records come last in FILE.
	jq -c '.index += 2 | .etag = null | .last_modified = null' "$f" \
		>"$f.later"
	cat "$f.later" >>"$f"
	run --separate-stderr "$GATHER" -c 1 --revalidate "$f" \
		"$BASE/cond/last1" "$BASE/cond-lm/last2"
	assert_success
	assert_jq 'all(.status == 200 and .not_modified == false)'
	assert_equal "$(seen last1)" '{"inm": null, "ims": null}'
	assert_equal "$(seen last2)" '{"inm": null, "ims": null}'
	# The other way round, validators last: they are sent.
	first_run "$BASE/cond/last1"
	cat "$f.later" "$f" >"$f.both"
	run --separate-stderr "$GATHER" --revalidate "$f.both" "$BASE/cond/last1"
	assert_success
	assert_jq '.[0].status == 304'
}
