#!/usr/bin/env bats
# What -o may write and how --resume reads its file, when the directory or
# the file holds something hostile: links, FIFOs, directories, names cut in
# a character, many records under one name, huge or malformed lines.

bats_require_minimum_version 1.5.0
load helper

setup_file() { start_server; }
teardown_file() { stop_server; }

# Print FILE's modification time in nanoseconds and its SHA-256.
fingerprint() {
	stat -c %Y.%y "$1"
	sha256sum <"$1"
}

# ---- -o: never through a link, never into a FIFO or a directory -------------

@test "-o: a hard link in DIR is refused and the file it names is untouched" {
	cd "$BATS_TEST_TMPDIR"
	mkdir out
	printf 'keep me\n' >outside.txt
	touch -d '2001-02-03 04:05:06' outside.txt
	ln outside.txt out/0
	before=$(fingerprint outside.txt)
	run --separate-stderr "$GATHER" -o out "$BASE/size/5" "$BASE/size/6"
	assert_failure 1
	assert_jq '.[0] | .ok == false and .error.kind == "io" and
		.file == "out/0" and .error.message ==
		"refusing to write '"'out/0'"': has other hard links"'
	assert_jq '.[1] | .ok and .file == "out/1"'
	assert_equal "$(cat out/1)" "aaaaaa"
	assert_equal "$(fingerprint outside.txt)" "$before"
	assert_equal "$(cat outside.txt)" "keep me"
}

@test "-o: a symbolic link in DIR is refused, its target never made" {
	cd "$BATS_TEST_TMPDIR"
	mkdir out
	ln -s "$BATS_TEST_TMPDIR/target" out/0
	printf 'old\n' >kept
	ln -s "$BATS_TEST_TMPDIR/kept" out/1
	run --separate-stderr "$GATHER" -o out "$BASE/size/5" "$BASE/size/6" \
		"$BASE/size/7"
	assert_failure 1
	assert_jq 'map(.ok) == [false, false, true]'
	assert_jq '.[0].error == {"kind": "io", "message":
		"refusing to write '"'out/0'"': is a symbolic link"}'
	assert_jq '.[1].error.message ==
		"refusing to write '"'out/1'"': is a symbolic link"'
	[[ ! -e target ]] || fail "the link's target was created"
	assert_equal "$(cat kept)" "old"
	assert_equal "$(cat out/2)" "aaaaaaa"
}

@test "-o: a directory named like the file is refused as not a regular file" {
	cd "$BATS_TEST_TMPDIR"
	mkdir -p out/1/inside
	run --separate-stderr "$GATHER" -o out "$BASE/size/3" "$BASE/size/4"
	assert_failure 1
	assert_jq '.[1] | .ok == false and .file == "out/1" and .error ==
		{"kind": "io", "message":
		"refusing to write '"'out/1'"': not a regular file"}'
	assert_equal "$(cat out/0)" "aaa"
	[[ -d out/1/inside ]] || fail "the directory was touched"
}

@test "-o: a FIFO without a reader does not block the run; -t and --deadline still rule" {
	cd "$BATS_TEST_TMPDIR"
	mkdir out
	mkfifo out/1
	start=$(now)
	# timeout(1) only bounds a regression: 0.1 would hang in open().
	run --separate-stderr timeout 60 "$GATHER" -o out -t 1 --deadline 4 \
		"$BASE/size/3" "$BASE/size/4" "$BASE/size/5" "$BASE/hang" \
		"{\"url\": \"$BASE/hang\", \"timeout\": 0}"
	elapsed=$(since "$start")
	assert_failure 1
	fcmp "$elapsed" '<' 15 || fail "took $elapsed s"
	assert_jq 'map(.ok) == [true, false, true, false, false]'
	assert_jq '.[1] | .file == "out/1" and .error == {"kind": "io",
		"message": "refusing to write '"'out/1'"': not a regular file"}'
	# The loop ran: -t 1 and --deadline fired on the transfers that hang.
	assert_jq 'map(.error.kind) == [null, "io", null, "timeout", "deadline"]'
	assert_equal "$(cat out/0) $(cat out/2)" "aaa aaaaa"
	[[ -p out/1 ]] || fail "the FIFO was replaced"
}

@test "-o: a FIFO with a reader is refused and gets no byte" {
	cd "$BATS_TEST_TMPDIR"
	mkdir out
	mkfifo out/0
	# Read-write: the FIFO has a reader without anyone blocking.
	exec 7<>out/0
	run --separate-stderr timeout 60 "$GATHER" -o out "$BASE/size/5" \
		"$BASE/size/6" 7>&-
	assert_failure 1
	assert_jq '.[0].error == {"kind": "io", "message":
		"refusing to write '"'out/0'"': not a regular file"}'
	assert_jq '.[1].ok'
	# Only what we write now comes out of the FIFO.
	echo end >&7
	read -r -t 5 -u 7 line
	exec 7>&-
	assert_equal "$line" "end"
}

@test "-o: names from {name}, {id} and suffixes are checked the same way" {
	cd "$BATS_TEST_TMPDIR"
	mkdir out same
	printf 'secret\n' >outside.txt
	ln outside.txt out/victim
	ln -s /nonexistent/x "out/fromid"
	ln outside.txt same/fixed.1
	run --separate-stderr "$GATHER" -o out --name '{name}' \
		"$BASE/p/victim" "$BASE/p/fine"
	assert_failure 1
	assert_jq 'map(.ok) == [false, true] and .[0].error.message ==
		"refusing to write '"'out/victim'"': has other hard links"'
	run --separate-stderr "$GATHER" -o out --name '{id}' \
		"{\"url\": \"$BASE/size/2\", \"id\": \"fromid\"}"
	assert_failure 1
	assert_jq '.[0].error.message ==
		"refusing to write '"'out/fromid'"': is a symbolic link"'
	run --separate-stderr "$GATHER" -o same --name fixed \
		"$BASE/size/1" "$BASE/size/2" "$BASE/size/3"
	assert_failure 1
	assert_jq 'map(.file) == ["same/fixed", "same/fixed.1", "same/fixed.2"]
		and map(.ok) == [true, false, true]'
	assert_equal "$(cat outside.txt)" "secret"
	assert_equal "$(cat same/fixed.2)" "aaa"
}

@test "-o: a regular file from before the run is still overwritten, truncated" {
	cd "$BATS_TEST_TMPDIR"
	mkdir out
	printf 'a much longer old content\n' >out/0
	run --separate-stderr "$GATHER" -o out "$BASE/size/3"
	assert_success
	assert_equal "$(cat out/0)" "aaa"
	# A retry rewrites the file of its first attempt from the start.
	run --separate-stderr "$GATHER" -o out --name f --retries 2 \
		--retry-delay 0.01 "$BASE/flaky/safety-retry/1"
	assert_success
	assert_jq '.[0] | .attempts == 2 and .file == "out/f"'
	assert_equal "$(cat out/f)" "ok after 1"
}

# ---- --name: unique in O(1), cut on a character -----------------------------

@test "--name same: 20,000 records get unique files in linear time" {
	cd "$BATS_TEST_TMPDIR"
	n=20000
	{
		urls $((n - 5)) /size/1
		# Retries far into the run reopen the name they already have.
		for k in 1 2 3 4 5; do echo "$BASE/flaky/safety-$k/1"; done
	} >in
	start=$(now)
	run --separate-stderr /usr/bin/time -f '%U %S' -o cpu \
		"$GATHER" -q -c 64 --retries 2 --retry-delay 0.01 -o out \
		--name same -i in
	elapsed=$(since "$start")
	assert_success
	# Quadratic suffix search took 48 s of CPU here; linear takes about 3.
	read -r user sys < <(tail -n 1 cpu)
	fcmp "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" '<' 20 ||
		fail "used $user s user and $sys s system CPU"
	fcmp "$elapsed" '<' 60 || fail "took $elapsed s"
	printf '%s\n' "$output" >records
	assert_equal "$(jq -r .file records | sort -u | wc -l)" "$n"
	assert_equal "$(jq -r .file records | head -n 3 | paste -sd ' ')" \
		"out/same out/same.1 out/same.2"
	assert_equal "$(ls out | wc -l)" "$n"
	# Every file is there, with the body of its own record.
	jq -r '.file' records | xargs cat | tr -d '\n' >all
	assert_equal "$(sed 's/ok after 1//g' all | tr -d a)" ""
	assert_equal "$(grep -o 'ok after 1' all | wc -l)" 5
	assert_equal "$(jq -s 'map(select(.attempts == 2)) | length' records)" 5
}

@test "--name: past 16384 remembered names, a name that comes back still gets a suffix" {
	cd "$BATS_TEST_TMPDIR"
	mkdir out
	printf 'old\n' >out/n1
	printf 'old\n' >out/late
	{
		urls 16500 /p/n | sed 's#/p/n?i=\([0-9]*\)$#/p/n\1#'
		printf '%s\n' "$BASE/p/n5" "$BASE/p/n16499" "$BASE/p/n5" \
			"$BASE/p/n1" "$BASE/p/late"
	} >in
	run --separate-stderr "$GATHER" -q -c 64 -o out --name '{name}' -i in
	assert_success
	printf '%s\n' "$output" >records
	assert_equal "$(jq -r .file records | sort -u | wc -l)" 16505
	assert_equal "$(ls out | wc -l)" 16506
	assert_equal "$(jq -c 'select(.index == 1 or .index == 5) | .file' \
		records | paste -sd ' ')" '"out/n1" "out/n5"'
	# The file from before the run was overwritten while the table knew
	# every name; once it is full, existing files are never replaced.
	assert_equal "$(cat out/n1)" "p"
	assert_equal "$(cat out/late)" "old"
	run jq -r 'select(.index >= 16500) | .file' records
	assert_regex "${lines[0]}" '^out/n5\.[0-9]+$'
	assert_regex "${lines[1]}" '^out/n16499\.[0-9]+$'
	assert_regex "${lines[2]}" '^out/n5\.[0-9]+$'
	assert_regex "${lines[3]}" '^out/n1\.[0-9]+$'
	assert_regex "${lines[4]}" '^out/late\.[0-9]+$'
	assert_equal "$(cat "${lines[0]}" "${lines[4]}")" "pp"
}

@test "--name: a name from the run is never reused, a literal x.1 included" {
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr "$GATHER" -o out --name '{name}' \
		"$BASE/p/x" "$BASE/p/x.1" "$BASE/p/x" "$BASE/p/x.1" "$BASE/p/x"
	assert_success
	assert_jq 'map(.file) | (unique | length) == 5 and .[0:2] ==
		["out/x", "out/x.1"]'
	assert_equal "$(ls out | wc -l)" 5
}

@test "--name: a long name is cut on a character, and file is the real name" {
	cd "$BATS_TEST_TMPDIR"
	long=$(printf 'a%.0s' {1..199})
	# Byte 200 is the middle of "é": the cut goes before it.
	run --separate-stderr "$GATHER" -o out --name '{id}' \
		"{\"url\": \"$BASE/size/1\", \"id\": \"${long}éz\"}" \
		"{\"url\": \"$BASE/size/2\", \"id\": \"${long}\u00e9z\"}"
	assert_success
	assert_jq --arg l "$long" 'map(.file) == ["out/" + $l, "out/" + $l + ".1"]'
	for f in $(printf '%s\n' "$output" | jq -r .file); do
		[[ -f "$f" ]] || fail "'$f' is not the file written"
	done
	assert_equal "$(ls out | LC_ALL=C grep -c '[^a.1]')" 0
}

@test "--name: bytes that are not UTF-8 become _ so file names the file" {
	cd "$BATS_TEST_TMPDIR"
	printf '%s/p/caf\xe9\n%s/p/\xe2\x82x\n' "$BASE" "$BASE" >in
	run --separate-stderr "$GATHER" -o out --name '{name}' -i in
	assert_success
	assert_jq 'map(.file) == ["out/caf_", "out/__x"]'
	[[ -f out/caf_ && -f out/__x ]] || fail "$(ls out)"
	assert_equal "$(ls out | wc -l)" 2
}

# ---- --resume FILE: bounded, strict, linear ---------------------------------

# Write a 4-record input to $1 and its first run's output to $2: 0 and 2
# ok, 1 a connection refused, 3 ok.
first_run() {
	printf '%s\n' "$BASE/p/s0" "http://127.0.0.1:$(closed_port)/s1" \
		"$BASE/p/s2" "$BASE/p/s3" >"$1"
	"$GATHER" -i "$1" >"$2" || [[ $? -eq 1 ]]
}

# Run --resume FILE on input IN; assert exit 2 with one line naming LINE.
assert_refused() {
	run --separate-stderr "$GATHER" --resume "$1" -i "$2"
	assert_usage_error "^gather: --resume: '.*' line $3 is not a record" ||
		fail "for: $(head -c 300 "$1")"
}

@test "--resume: a record whose body makes its line over 1 MiB is still read" {
	in="$BATS_TEST_TMPDIR/in" first="$BATS_TEST_TMPDIR/first.jsonl"
	printf '%s\n' "$BASE/size/3000000" "$BASE/p/big1" \
		"http://127.0.0.1:$(closed_port)/big2" >"$in"
	"$GATHER" -i "$in" >"$first" || [[ $? -eq 1 ]]
	# The first line is a 3 MB body: only its head is kept and read.
	(($(head -n 1 "$first" | wc -c) > 3000000))
	reset_stats
	run --separate-stderr "$GATHER" --resume "$first" -i "$in"
	assert_failure 1
	assert_jq 'map(.index) == [2]'
	assert_equal "$(stat_field requests)" 0
}

@test "--resume: a line over 1 MiB is not a record; memory stays bounded" {
	in="$BATS_TEST_TMPDIR/in" first="$BATS_TEST_TMPDIR/first.jsonl"
	big="$BATS_TEST_TMPDIR/big.jsonl"
	first_run "$in" "$first"
	# A well-formed failed record whose url makes it 1 MiB + 100 bytes.
	{
		head -n 1 "$first"
		printf '{"index":1,"url":"'
		head -c $((1024 * 1024 + 64)) /dev/zero | tr '\0' a
		printf '","ok":false}\n'
		tail -n +3 "$first"
	} >"$big"
	assert_refused "$big" "$in" 2
	# One a little under the limit is read as the record it is.
	{
		head -n 1 "$first"
		printf '{"index":1,"url":"'
		head -c $((1024 * 1024 - 64)) /dev/zero | tr '\0' a
		printf '","ok":false}\n'
		tail -n +3 "$first"
	} >"$big"
	reset_stats
	run --separate-stderr "$GATHER" --resume "$big" -i "$in"
	assert_failure 1
	assert_jq 'map(.index) == [1]'
	assert_equal "$(stat_field requests)" 0
	# 64 MiB on one line: refused without holding it.
	{ head -n 1 "$first"; head -c $((64 << 20)) /dev/zero | tr '\0' a;
		echo; } >"$big"
	timer=()
	if [[ "$GATHER" != *asan* ]]; then
		timer=(/usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/rss")
	fi
	run --separate-stderr "${timer[@]}" "$GATHER" --resume "$big" -i "$in"
	assert_usage_error "line 2 is not a record"
	if ((${#timer[@]})); then
		rss=$(tail -n 1 "$BATS_TEST_TMPDIR/rss")
		((rss < 24 * 1024)) || fail "peak RSS $rss KiB for a 64 MiB line"
	fi
	# Cut short by a crash, an over-long last line is ignored like any.
	{ cat "$first"; head -c $((2 << 20)) /dev/zero | tr '\0' a; } >"$big"
	reset_stats
	run --separate-stderr "$GATHER" --resume "$big" -i "$in"
	assert_failure 1
	assert_no_stderr
	assert_jq 'map(.index) == [1]'
}

@test "--resume: an index must be a whole number in uint64, written plainly" {
	in="$BATS_TEST_TMPDIR/in" first="$BATS_TEST_TMPDIR/first.jsonl"
	bad="$BATS_TEST_TMPDIR/bad.jsonl"
	first_run "$in" "$first"
	url=$(jq -r 'select(.index == 2) | .url' "$first")
	for v in 1.9 0.5 -1 -0 1e300 1E2 2e0 1.0 01 18446744073709551616 \
		99999999999999999999999 '[2]' '"2"' '{}' null true; do
		{
			head -n 2 "$first"
			printf '{"index":%s,"url":"%s","ok":true}\n' "$v" "$url"
			tail -n +4 "$first"
		} >"$bad"
		assert_refused "$bad" "$in" 3
	done
	# Trailing bytes after the object, or a line that is not an object.
	for line in "$(sed -n 3p "$first") x" "$(sed -n 3p "$first")]" \
		"[$(sed -n 3p "$first")]" '"a string"' 42; do
		{ head -n 2 "$first"; printf '%s\n' "$line"; tail -n +4 "$first"; } \
			>"$bad"
		assert_refused "$bad" "$in" 3
	done
	# The largest uint64 is an index like any other: nothing to skip here.
	{
		cat "$first"
		printf '{"index":18446744073709551615,"url":"%s","ok":true}\n' "$url"
	} >"$bad"
	reset_stats
	run --separate-stderr "$GATHER" --resume "$bad" -i "$in"
	assert_failure 1
	assert_jq 'map(.index) == [1]'
	assert_equal "$(stat_field requests)" 0
}

@test "--resume: an empty file, or one with only failures, runs everything" {
	in="$BATS_TEST_TMPDIR/in"
	# Under the ASan+UBSan build this would catch qsort() given NULL.
	: >"$BATS_TEST_TMPDIR/empty"
	printf '%s\n' "$BASE/p/e0" "$BASE/p/e1" >"$in"
	run --separate-stderr "$GATHER" --resume "$BATS_TEST_TMPDIR/empty" -i "$in"
	assert_success
	assert_no_stderr
	assert_jq 'map([.index, .ok]) == [[0, true], [1, true]]'
	printf '%s\n' "$BASE/status/500" "$BASE/status/503" >"$in"
	"$GATHER" --fail -i "$in" >"$BATS_TEST_TMPDIR/failed" || [[ $? -eq 1 ]]
	assert_equal "$(jq -s 'map(.ok) == [false, false]' \
		"$BATS_TEST_TMPDIR/failed")" true
	reset_stats
	run --separate-stderr "$GATHER" --fail --resume "$BATS_TEST_TMPDIR/failed" \
		-i "$in"
	assert_failure 1
	assert_no_stderr
	assert_jq 'map(.index) == [0, 1]'
	assert_equal "$(stat_field requests)" 2
}

@test "--resume: a line of 200,000 '{\"index\":' is refused at once" {
	in="$BATS_TEST_TMPDIR/in" first="$BATS_TEST_TMPDIR/first.jsonl"
	bad="$BATS_TEST_TMPDIR/bad.jsonl"
	first_run "$in" "$first"
	for n in 200000 110000; do
		# 110,000 (990 kB) stays under the 1 MiB line limit.
		{
			head -n 2 "$first"
			awk -v n="$n" 'BEGIN { for (k = 0; k < n; k++)
				printf "{\"index\":"; print "" }'
			tail -n +3 "$first"
		} >"$bad"
		start=$(now)
		assert_refused "$bad" "$in" 3
		elapsed=$(since "$start")
		# The glued-record search was quadratic: 8 to 20 s here.
		fcmp "$elapsed" '<' 3 || fail "$n repetitions took $elapsed s"
	done
	# Objects nested to cJSON's depth limit, then one record: refused.
	{
		head -n 2 "$first"
		awk 'BEGIN { for (k = 0; k < 60000; k++) printf "{\"index\":0,\"a\":"
			print "" }'
	} >"$bad"
	start=$(now)
	assert_refused "$bad" "$in" 3
	fcmp "$(since "$start")" '<' 3 || fail "nested objects took too long"
}

@test "--resume: a record glued to a cut line is still read" {
	in="$BATS_TEST_TMPDIR/in" first="$BATS_TEST_TMPDIR/first.jsonl"
	glued="$BATS_TEST_TMPDIR/glued.jsonl"
	first_run "$in" "$first"
	# A crash cut record 2's line; a later run's record 3 (>>) follows,
	# itself holding '{"index":' in its id and a backslash before a quote.
	r3=$(sed -n 4p "$first" | jq -c '.id = {"index": "x\\\"}{"}')
	{
		head -n 2 "$first"
		sed -n 3p "$first" | head -c 30
		printf '%s\n' "$r3"
	} >"$glued"
	reset_stats
	run --separate-stderr "$GATHER" --resume "$glued" -i "$in"
	assert_failure 1
	assert_no_stderr
	assert_jq 'map(.index) == [1, 2]'
	assert_equal "$(hits /p/s3)" 0
	assert_equal "$(hits /p/s0)" 0
}

@test "--resume reads a --format json output, empty or cut short" {
	in="$BATS_TEST_TMPDIR/in" first="$BATS_TEST_TMPDIR/first.json"
	printf '%s\n' "$BASE/p/j0" "http://127.0.0.1:$(closed_port)/j1" \
		"$BASE/p/j2" "$BASE/p/j3" >"$in"
	"$GATHER" --format json -i "$in" >"$first" || [[ $? -eq 1 ]]
	jq -e 'length == 4' "$first" >/dev/null
	reset_stats
	run --separate-stderr "$GATHER" --resume "$first" -i "$in"
	assert_failure 1
	assert_no_stderr
	assert_jq 'map(.index) == [1]'
	assert_equal "$(stat_field requests)" 0
	# Cut by a crash inside record 2: no "]" and a partial last line.
	head -c "$(($(head -n 2 "$first" | wc -c) + 20))" "$first" \
		>"$BATS_TEST_TMPDIR/cut.json"
	run --separate-stderr "$GATHER" --resume "$BATS_TEST_TMPDIR/cut.json" -i "$in"
	assert_failure 1
	assert_jq 'map(.index) == [1, 2, 3]'
	# An empty run's "[]" skips nothing.
	"$GATHER" --format json </dev/null >"$BATS_TEST_TMPDIR/empty.json"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/empty.json")" "[]"
	run --separate-stderr "$GATHER" --resume "$BATS_TEST_TMPDIR/empty.json" \
		-i "$in"
	assert_failure 1
	assert_jq 'map(.index) == [0, 1, 2, 3]'
}
