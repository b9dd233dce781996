#!/usr/bin/env bats
# What -o may write when its directory holds something hostile: links,
# FIFOs, directories; and --name's names: cut on a character, unique in
# linear time across many records under one name.  (--resume's reading of
# hostile files: shard.bats.)

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
