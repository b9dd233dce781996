#!/usr/bin/env bats
# Downloads a user can trust: under -o only a 2xx body becomes a file, it
# streams into NAME.part and is renamed when the record ends ok, a part
# that can be continued is kept and continued, stalls end the transfer
# rather than a fixed limit, and hashes and checksums cover the whole file.

bats_require_minimum_version 1.5.0
load helper

setup_file() { start_server; }
teardown_file() { stop_server; }

# The sha256 of FILE, hex only.
sha() {
	sha256sum <"$1" | cut -c1-64
}

# The [path, Range, If-Range] list the server kept for /file.
ranges() {
	curl -q -s --max-time 5 "$BASE/ranges"
}

# Wait (at most 10 s) until FILE holds at least N bytes.
wait_size() {
	local i
	for ((i = 0; i < 200; i++)); do
		[[ -f "$1" ]] && (($(stat -c %s "$1") >= $2)) && return 0
		sleep 0.05
	done
	fail "$1 never reached $2 bytes"
}

# ---- only 2xx bodies become files -------------------------------------------

@test "-o: a 404 leaves no file and exits 1 as http; --no-fail is ok with file null" {
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr "$GATHER" -o out "$BASE/status/404" "$BASE/size/3"
	assert_failure 1
	assert_jq '.[0] | .ok == false and .status == 404 and .file == null
		and .error.kind == "http"'
	assert_jq '.[1] | .ok and .file == "out/1"'
	assert_equal "$(ls out)" "1"
	run --separate-stderr "$GATHER" -o out2 --no-fail "$BASE/status/404" \
		"$BASE/status/500"
	assert_success
	assert_jq 'map(.ok) == [true, true] and map(.file) == [null, null] and
		map(.status) == [404, 500] and map(.error) == [null, null] and
		.[0].size == 10'
	assert_equal "$(ls -A out2)" ""
}

@test "-o: a retried 503 never writes its body; the 200 after it does" {
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr "$GATHER" -o out --retries 2 --retry-delay 0.01 \
		"$BASE/flaky/dl-503/1"
	assert_success
	assert_jq '.[0] | .attempts == 2 and .file == "out/0"'
	assert_equal "$(cat out/0)" "ok after 1"
	assert_equal "$(ls -A out)" "0"
}

# ---- NAME.part, renamed when ok ---------------------------------------------

@test "-o: a body cut short keeps NAME.part only when it can be continued" {
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr "$GATHER" -o out \
		"$BASE/file/50000?cut=20000" \
		"$BASE/file/50000?cut=20000&etag=0" \
		"$BASE/file/50000?cut=20000&etag=0&lm=0" \
		"$BASE/file/50000?cut=20000&accept=0" \
		"$BASE/file/50000?cut=20000&etag=weak&lm=0"
	assert_failure 1
	assert_jq 'all(.ok == false and .error.kind == "reset")'
	# ETag, or Last-Modified alone, with Accept-Ranges: continuable.
	assert_equal "$(cd out && ls -A | sort | tr '\n' ' ')" "0.part 1.part "
	assert_equal "$(stat -c %s out/0.part)" 20000
	cmp out/0.part <(curl -q -s "$BASE/file/50000" | head -c 20000)
}

@test "-o: SIGKILL mid-body leaves no NAME; --continue fetches exactly the rest" {
	cd "$BATS_TEST_TMPDIR"
	"$GATHER" -o out "$BASE/file/200000?stall=100000" >/dev/null 2>&1 &
	pid=$!
	wait_size out/0.part 100000
	[[ ! -e out/0 ]] || fail "NAME exists while the body streams"
	kill -KILL "$pid"
	wait "$pid" || true
	[[ ! -e out/0 ]] || fail "NAME exists after SIGKILL"
	assert_equal "$(stat -c %s out/0.part)" 100000
	curl -q -s -o want "$BASE/file/200000"
	# The same URL: the server sends the 100000 bytes left, then waits.
	run --separate-stderr "$GATHER" -o out --continue --hash sha256 \
		"$BASE/file/200000?stall=100000"
	assert_success
	assert_jq --arg h "$(sha want)" '.[0] | .ok and .status == 206 and
		.size == 200000 and .file == "out/0" and .hash.sha256 == $h'
	cmp want out/0
	[[ ! -e out/0.part ]] || fail "the part is still there"
	run ranges
	assert_jq '.[0] | map(select(.[0] == "/file/200000?stall=100000")) |
		.[-1] == ["/file/200000?stall=100000", "bytes=100000-",
		"\"v1-200000\""]'
}

@test "-o: a retry of a continuable transfer continues where it broke" {
	cd "$BATS_TEST_TMPDIR"
	# Every response stops 10000 bytes in: three attempts make the file.
	run --separate-stderr "$GATHER" -o out --retries 4 --retry-delay 0.01 \
		--hash sha256 "$BASE/file/30000?cut=10000&ver=r"
	assert_success
	curl -q -s -o want "$BASE/file/30000"
	cmp want out/0
	assert_jq --arg h "$(sha want)" '.[0] | .attempts == 3 and
		.size == 30000 and .hash.sha256 == $h'
	run ranges
	assert_jq '.[0] | map(select(.[0] | test("ver=r"))) | map(.[1]) ==
		[null, "bytes=10000-", "bytes=20000-"]'
}

@test "-o: a continued request asks for no coding, to its origin or another; a fresh one for every one" {
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr "$GATHER" -o out --retries 2 --retry-delay 0.01 \
		"$BASE/file/20000?cut=10000&ver=ae"
	assert_success
	curl -q -s -o want "$BASE/file/20000"
	cmp want out/0
	run curl -q -s "$BASE/ranges?ae=1"
	assert_jq '.[0] | map(select(.[0] | test("ver=ae"))) | length == 2 and
		.[0][1] == null and (.[0][3] | split(", ") | index("gzip")) and
		.[1][1] == "bytes=10000-" and .[1][3] == null'
	# Through a redirect to another origin, with -H (the list for there).
	other="http://localhost:$PORT"
	curl -q -s "$BASE/to-set/ae?url=$other/file/20000?cut%3D10000%26t%3Dae" >/dev/null
	run --separate-stderr "$GATHER" -o out2 --retries 2 --retry-delay 0.01 \
		-H 'X-Key: k' "$BASE/to/ae"
	assert_success
	cmp want out2/0
	run curl -q -s "$BASE/ranges?ae=1"
	assert_jq '.[0] | map(select(.[0] | test("t=ae"))) | length == 2 and
		.[0][1] == null and (.[0][3] | split(", ") | index("gzip")) and
		.[1][1] == "bytes=10000-" and .[1][3] == null'
}

@test "--continue: a server that ignores Range or changed the file gives the whole file" {
	cd "$BATS_TEST_TMPDIR"
	curl -q -s -o want "$BASE/file/40000"
	# Ignored: the same ETag, but a 200.  Changed: another ETag.  Only the
	# first request is cut (once=1).
	for q in 'ranges=0' 'bump=1'; do
		rm -rf out
		u="$BASE/file/40000?once=1&cut=15000&$q"
		run --separate-stderr "$GATHER" -o out "$u"
		assert_failure 1
		[[ -f out/0.part ]] || fail "no part kept for $q"
		run --separate-stderr "$GATHER" -o out --continue --hash sha256 \
			"{\"url\": \"$u\", \"sha256\": \"$(sha want)\"}"
		assert_success
		assert_jq '.[0] | .status == 200 and .size == 40000'
		cmp want out/0
	done
}

@test "--continue: a 416 for a part already whole makes it the file" {
	cd "$BATS_TEST_TMPDIR"
	mkdir out
	curl -q -s -o out/0.part "$BASE/file/5000"
	python3 -c 'import os, sys
os.setxattr(sys.argv[1], "user.gather.url", sys.argv[2].encode())
os.setxattr(sys.argv[1], "user.gather.if-range", b"\"v1-5000\"")' \
		out/0.part "$BASE/file/5000"
	run --separate-stderr "$GATHER" -o out --continue --hash sha256 \
		"$BASE/file/5000"
	assert_success
	assert_jq --arg h "$(sha out/0)" '.[0] | .ok and .status == 416 and
		.size == 5000 and .file == "out/0" and .hash.sha256 == $h'
	[[ ! -e out/0.part ]] || fail "the part is still there"
	assert_equal "$(curl -q -s "$BASE/file/5000" | sha256sum | cut -c1-64)" \
		"$(sha out/0)"
}

@test "--continue with --resume: a record that failed with a kept part continues" {
	cd "$BATS_TEST_TMPDIR"
	"$GATHER" -o out "$BASE/size/4" "$BASE/file/60000?cut=25000&ver=z" >first || true
	jq -e -s '.[1].error.kind == "reset"' first
	run --separate-stderr "$GATHER" -o out --continue --resume first \
		"$BASE/size/4" "$BASE/file/60000?cut=25000&ver=z"
	# The server cuts every answer: the rerun gets 25000 more bytes.
	assert_failure 1
	assert_equal "$(stat -c %s out/1.part)" 50000
	run ranges
	assert_jq '.[0] | map(select(.[0] | test("ver=z"))) | map(.[1]) ==
		[null, "bytes=25000-"]'
}

@test "--continue: a part without its validator (another tool's) starts afresh" {
	cd "$BATS_TEST_TMPDIR"
	mkdir out
	printf 'not the file' >out/0.part
	run --separate-stderr "$GATHER" -o out --continue "$BASE/file/7000?ver=n"
	assert_success
	cmp out/0 <(curl -q -s "$BASE/file/7000")
	run ranges
	assert_jq '.[0] | map(select(.[0] | test("ver=n"))) | .[0][1] == null'
}

# ---- stalls -------------------------------------------------------------------

@test "--speed-time: a stall ends as timeout naming it; a trickle under -o finishes" {
	cd "$BATS_TEST_TMPDIR"
	start=$(now)
	run --separate-stderr "$GATHER" -o out --speed-time 2 \
		"$BASE/stall/100?after=10&s=25"
	elapsed=$(since "$start")
	assert_failure 1
	assert_jq '.[0] | .error.kind == "timeout" and (.error.message |
		startswith("stalled: less than 1 bytes/s for 2 s"))'
	fcmp "$elapsed" '<' 15 || fail "took $elapsed s"
	[[ ! -e out/0 && ! -e out/0.part ]] || fail "a file was left"
	# 4 s of one byte every 0.25 s: never a stall.  -t given still rules.
	run --separate-stderr "$GATHER" -o out2 --speed-time 2 \
		"$BASE/drip/16?ms=250"
	assert_success
	assert_equal "$(cat out2/0)" "aaaaaaaaaaaaaaaa"
	run --separate-stderr "$GATHER" -o out3 -t 1 "$BASE/drip/16?ms=250"
	assert_failure 1
	assert_jq '.[0].error.kind == "timeout"'
	# Without -o nothing changes: no stall limit unless asked.
	run --separate-stderr "$GATHER" --body none "$BASE/stall/10?after=1&s=3"
	assert_success
}

# ---- {path} and {name} --------------------------------------------------------

@test "--name {path}: directories under DIR, never out of it" {
	top="$BATS_TEST_TMPDIR/top"
	mkdir -p "$top/work"
	cd "$top/work"
	run --separate-stderr "$GATHER" -o out --name '{path}' --no-fail \
		"$BASE/p/a/b.txt" "$BASE/p/x/../../../../etc/y" \
		"$BASE/p/%2e%2e/%2E%2e/z" "$BASE/p/c%5c..%5cd" \
		"$BASE/p/..%2f..%2fe" "$BASE/p/dir/" "$BASE/p/.hidden/f"
	assert_success
	# libcurl resolves dot segments: /etc/y is a 404, so no file.
	assert_jq 'map(.file) == ["out/p/a/b.txt", null,
		"out/p/%2e%2e/%2E%2e/z", "out/p/c%5c..%5cd", "out/p/__%2f..%2fe",
		"out/p/dir/index.html", "out/p/_hidden/f"]'
	assert_equal "$(cat out/p/a/b.txt)" "p"
	# Nothing outside out/, and inside it no name that starts with a dot.
	assert_equal "$(find "$top" -mindepth 1 -not -path "$top/work*")" ""
	assert_equal "$(ls -A "$top/work")" "out"
	assert_equal "$(find out -name '.*')" ""
	run --separate-stderr "$GATHER" -o out2 --name '{path}' \
		"{\"url\": \"$BASE/p/q\\\\..\\\\..\\\\w\"}"
	assert_success
	assert_jq '.[0].file | startswith("out2/p/") and (contains("\\") | not)'
}

@test "--name {path}: a symbolic link on the way is refused" {
	cd "$BATS_TEST_TMPDIR"
	mkdir -p out elsewhere
	ln -s "$BATS_TEST_TMPDIR/elsewhere" out/p
	run --separate-stderr "$GATHER" -o out --name '{path}' "$BASE/p/f"
	assert_failure 1
	assert_jq '.[0] | .error.kind == "io" and (.error.message |
		contains("symbolic link"))'
	assert_equal "$(ls -A elsewhere)" ""
}

@test "--name {name}: a URL ending in / is index.html" {
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr "$GATHER" -o out --name '{name}' "$BASE/p/d/" "$BASE/"
	assert_success
	assert_jq 'map(.file) == ["out/index.html", "out/index.html.1"]'
}

# ---- --hash and checksums -----------------------------------------------------

@test "--hash: sha256, sha1 and md5 of text, binary and gzip-decoded bodies" {
	cd "$BATS_TEST_TMPDIR"
	curl -q -s -o t "$BASE/utf8"
	curl -q -s -o b "$BASE/bytes/70000"
	curl -q -s --compressed -o g "$BASE/gzip/50000"
	run --separate-stderr "$GATHER" -o out --hash sha256,sha1,md5 \
		"$BASE/utf8" "$BASE/bytes/70000" "$BASE/gzip/50000"
	assert_success
	for i in 0 1 2; do
		f=$(echo t b g | cut -d' ' -f$((i + 1)))
		assert_equal "$(rec "$i" .hash.sha256)" "\"$(sha "$f")\""
		assert_equal "$(rec "$i" .hash.sha1)" "\"$(sha1sum <"$f" | cut -c1-40)\""
		assert_equal "$(rec "$i" .hash.md5)" "\"$(md5sum <"$f" | cut -c1-32)\""
		cmp "$f" "out/$i"
	done
	# Without -o, with --body none too; keys in the order sha256, sha1, md5.
	run --separate-stderr "$GATHER" --body none --hash md5,sha256 "$BASE/bytes/70000"
	assert_success
	assert_jq --arg h "$(sha b)" '.[0] | (has("body") | not) and
		.hash.sha256 == $h and (.hash | keys_unsorted) == ["sha256", "md5"]'
	run --separate-stderr "$GATHER" "$BASE/ok"
	assert_jq '.[0] | has("hash") | not'
}

@test "a wrong sha256 is checksum, and no file or part is kept" {
	cd "$BATS_TEST_TMPDIR"
	good=$(curl -q -s "$BASE/file/9000" | sha256sum | cut -c1-64)
	bad=$(printf x | sha256sum | cut -c1-64)
	run --separate-stderr "$GATHER" -o out \
		"{\"url\": \"$BASE/file/9000\", \"sha256\": \"$bad\"}" \
		"{\"url\": \"$BASE/file/9000\", \"sha256\": \"${good^^}\"}"
	assert_failure 1
	assert_jq '.[0] | .ok == false and .error.kind == "checksum" and
		.file == "out/0"'
	assert_jq '.[1].ok'
	assert_equal "$(ls -A out)" "1"
	run --separate-stderr "$GATHER" "{\"url\": \"$BASE/ok\", \"sha256\": \"abc\"}"
	assert_failure 1
	assert_jq '.[0].error.kind == "bad_input"'
}

@test "usage: --continue needs -o; --hash knows sha256, sha1 and md5" {
	run --separate-stderr "$GATHER" --continue "$BASE/ok"
	assert_failure 2
	assert_equal "$stderr" "gather: --continue needs -o"
	run --separate-stderr "$GATHER" --hash sha512 "$BASE/ok"
	assert_failure 2
	[[ "$stderr" == *"expected sha256, sha1 or md5"* ]] || fail "$stderr"
}

# ---- downloads belong to their URL (0.3) --------------------------------------

# The user.gather.url mark of FILE, or "none".
url_mark() {
	python3 -c 'import os, sys
try:
    print(os.getxattr(sys.argv[1], "user.gather.url").decode())
except OSError:
    print("none")' "$1"
}

@test "-o: a name ending in .part is never another record's NAME.part" {
	cd "$BATS_TEST_TMPDIR"
	for c in 1 2; do
		rm -rf out
		run --separate-stderr "$GATHER" -c "$c" -o out --name '{name}' \
			"$BASE/named/x.part" "$BASE/named/x"
		assert_success
		assert_jq 'map(.file) == ["out/x.part.1", "out/x"]'
		assert_equal "$(cat out/x.part.1)" "/named/x.part"
		assert_equal "$(cat out/x)" "/named/x"
		assert_equal "$(cd out && ls -A | tr '\n' ' ')" "x x.part.1 "
	done
	assert_equal "$(url_mark out/x)" "$BASE/named/x"
}

@test "-o: a --resume rerun and shards sharing DIR never take another URL's file" {
	cd "$BATS_TEST_TMPDIR"
	u0="$BASE/named/pkg/file?v=1"
	u1="$BASE/named/pkg/file?v=2&fail1=1"
	run --separate-stderr "$GATHER" -o dl --name '{path}' "$u0" "$u1"
	assert_failure 1
	echo "$output" >run1.jsonl
	assert_jq 'map(.ok) == [true, false] and .[0].file == "dl/named/pkg/file"'
	run --separate-stderr "$GATHER" -o dl --name '{path}' --continue \
		--resume run1.jsonl "$u0" "$u1"
	assert_success
	assert_jq 'map(select(.index == 1)) | .[0] | .ok and
		.file == "dl/named/pkg/file.1"'
	assert_equal "$(cat dl/named/pkg/file)" "/named/pkg/file?v=1"
	assert_equal "$(cat dl/named/pkg/file.1)" "/named/pkg/file?v=2&fail1=1"
	# Two shards into one DIR: each URL its own file, also when rerun.
	for pass in 1 2; do
		for k in 0 1; do
			"$GATHER" -o sh --name '{name}' --shard "$k/2" \
				"$BASE/named/s/a?x=0" "$BASE/named/s/a?x=1" >"s$k.jsonl"
		done
		assert_equal "$(jq -r .file s0.jsonl) $(jq -r .file s1.jsonl)" \
			"sh/a sh/a.1"
		assert_equal "$(cat sh/a) $(cat sh/a.1)" "/named/s/a?x=0 /named/s/a?x=1"
	done
	# Two shards at once, 200 URLs of one name: each file is its URL's.
	urls 200 /named/c/a >list
	"$GATHER" -c 10 -o cc --name '{name}' --shard 0/2 -i list >c0.jsonl &
	p0=$!
	"$GATHER" -c 10 -o cc --name '{name}' --shard 1/2 -i list >c1.jsonl
	wait "$p0"
	assert_equal "$(ls cc | wc -l)" 200
	cat c0.jsonl c1.jsonl | jq -r '[.url, .file] | @tsv' |
		while IFS=$'\t' read -r u f; do
			[[ "$BASE$(cat "$f")" == "$u" ]] || echo "$f: $(cat "$f") for $u"
		done >wrong
	assert_equal "$(cat wrong)" ""
}

@test "-o: a reordered list, rerun or revalidated, gives each URL its own file" {
	cd "$BATS_TEST_TMPDIR"
	a="$BASE/cond/ra3/file"
	b="$BASE/cond/rb3/file"
	"$GATHER" -o dl --name '{name}' "$a" "$b" >first.jsonl
	assert_equal "$(jq -r .file first.jsonl | tr '\n' ' ')" "dl/file dl/file.1 "
	curl -q -s "$BASE/cond-bump/ra3" >/dev/null
	run --separate-stderr "$GATHER" -o dl --name '{name}' \
		--revalidate first.jsonl "$b" "$a"
	assert_success
	assert_jq '.[0] | .not_modified and .file == "dl/file.1"'
	assert_jq '.[1] | .status == 200 and .file == "dl/file"'
	assert_equal "$(head -1 dl/file)" "ra3 v2"
	assert_equal "$(head -1 dl/file.1)" "rb3 v1"
	# A plain rerun in the other order too.
	run --separate-stderr "$GATHER" -o dl --name '{name}' "$b" "$a"
	assert_success
	assert_jq 'map(.file) == ["dl/file.1", "dl/file"]'
	assert_equal "$(head -1 dl/file.1)" "rb3 v1"
	assert_equal "$(ls -A dl | tr '\n' ' ')" "file file.1 "
}

@test "--continue never continues, replaces or removes another URL's part" {
	cd "$BATS_TEST_TMPDIR"
	# One deploy: both have the same Last-Modified and no ETag.
	a="$BASE/file/100000?etag=0&once=1&cut=60000"
	b="$BASE/file/90000?etag=0&once=1&cut=40000"
	run --separate-stderr "$GATHER" -o out "$a" "$b"
	assert_failure 1
	assert_equal "$(stat -c %s out/0.part) $(stat -c %s out/1.part)" \
		"60000 40000"
	run --separate-stderr "$GATHER" -o out --continue --hash sha256 "$b" "$a"
	assert_success
	curl -q -s -o wantb "$BASE/file/90000"
	curl -q -s -o wanta "$BASE/file/100000"
	assert_jq --arg hb "$(sha wantb)" --arg ha "$(sha wanta)" '
		map(.status) == [200, 200] and map(.file) == ["out/0.1", "out/1.1"]
		and .[0].hash.sha256 == $hb and .[1].hash.sha256 == $ha'
	cmp wantb out/0.1
	cmp wanta out/1.1
	# The other URLs' parts are still there, untouched.
	assert_equal "$(stat -c %s out/0.part) $(stat -c %s out/1.part)" \
		"60000 40000"
	assert_equal "$(url_mark out/0.part)" "$a"
}

@test "-o: a continuable part survives an error status, in this run and the next" {
	cd "$BATS_TEST_TMPDIR"
	u="$BASE/file/100000?once=1&cut=60000&fail2=1"
	run --separate-stderr "$GATHER" -o out "$u"
	assert_failure 1
	assert_equal "$(stat -c %s out/0.part)" 60000
	run --separate-stderr "$GATHER" -o out --continue "$u"
	assert_failure 1
	assert_jq '.[0] | .status == 503 and .error.kind == "http" and .file == null'
	assert_equal "$(stat -c %s out/0.part)" 60000
	run --separate-stderr "$GATHER" -o out --continue "$u"
	assert_success
	assert_jq '.[0] | .status == 206 and .size == 100000'
	cmp out/0 <(curl -q -s "$BASE/file/100000")
	# In one run: a reset, a 503, then the third attempt continues.
	v="$BASE/file/50000?once=1&cut=20000&fail2=1&t=5"
	run --separate-stderr "$GATHER" -o out2 --retries 2 --retry-delay 0.01 "$v"
	assert_success
	assert_jq '.[0] | .attempts == 3 and .status == 206 and .size == 50000'
	cmp out2/0 <(curl -q -s "$BASE/file/50000")
	run ranges
	assert_jq '.[0] | map(select(.[0] | test("t=5"))) | map(.[1]) ==
		[null, "bytes=20000-"]'
}

@test "-o: Range never goes to another origin without its If-Range" {
	cd "$BATS_TEST_TMPDIR"
	other="http://localhost:$PORT"
	curl -q -s "$BASE/to-set/r6?url=$other/file/30000?cut%3D10000%26t%3D6" >/dev/null
	run --separate-stderr "$GATHER" -o out -H 'X-Key: k' "$BASE/to/r6"
	assert_failure 1
	assert_equal "$(stat -c %s out/0.part)" 10000
	# The file changed (another ETag): If-Range makes it a whole 200.
	curl -q -s "$BASE/to-set/r6?url=$other/file/30000?ver%3D2%26t%3D6" >/dev/null
	run --separate-stderr "$GATHER" -o out --continue -H 'X-Key: k' "$BASE/to/r6"
	assert_success
	assert_jq '.[0] | .status == 200 and .size == 30000 and .redirects == 1'
	run ranges
	assert_jq '.[0] | map(select(.[0] == "/file/30000?ver=2&t=6")) | .[-1] ==
		["/file/30000?ver=2&t=6", "bytes=10000-", "\"v1-30000\""]'
}

@test "-o: a 206 that is not the answer to the Range sent is never used" {
	cd "$BATS_TEST_TMPDIR"
	for how in short long gzip etag total chunked chunkshort; do
		run --separate-stderr "$GATHER" -o "out-$how" --retries 1 \
			--retry-delay 0.01 "$BASE/lie/100000?cut=60000&how=$how"
		assert_failure 1
		assert_jq '.[0] | .ok == false and .attempts == 2 and
			.error.kind == "other" and .file == null and
			(.error.message | contains("206"))'
		assert_equal "$(ls -A "out-$how")" ""
	done
	run --separate-stderr "$GATHER" -o out-norange "$BASE/lie/5000?how=norange"
	assert_failure 1
	assert_jq '.[0] | .error.kind == "other" and (.error.message |
		contains("without Range"))'
	assert_equal "$(ls -A out-norange)" ""
}

@test "sha256 applies only to records otherwise ok: an error status is http, retried" {
	cd "$BATS_TEST_TMPDIR"
	sum=$(printf 'ok after 1' | sha256sum | cut -c1-64)
	run --separate-stderr "$GATHER" --retries 3 --retry-delay 0.01 \
		"{\"url\": \"$BASE/flaky/t10/1\", \"sha256\": \"$sum\"}"
	assert_success
	assert_jq '.[0] | .ok and .attempts == 2'
	run --separate-stderr "$GATHER" --hash sha256 \
		"{\"url\": \"$BASE/status/404\", \"sha256\": \"$sum\"}"
	assert_failure 1
	assert_jq '.[0] | .error.kind == "http" and .hash == null'
}

@test "--hash: a failed record's hash is null, under -o and without" {
	cd "$BATS_TEST_TMPDIR"
	# -o: a 404, with a body or none, has no hash.
	run --separate-stderr "$GATHER" -o out --hash sha256 "$BASE/status/404" \
		"$BASE/status/404?x" -X HEAD
	assert_failure 1
	assert_jq 'map(.error.kind) == ["http", "http"] and
		map(.hash) == [null, null]'
	run --separate-stderr "$GATHER" --fail --hash sha256 "$BASE/status/404"
	assert_failure 1
	assert_jq '.[0] | .error.kind == "http" and .hash == null'
}

@test "--continue: a stored validator that is no validator is never sent" {
	cd "$BATS_TEST_TMPDIR"
	mkdir out
	printf 'abc' >out/0.part
	python3 -c 'import os, sys
os.setxattr(sys.argv[1], "user.gather.url", sys.argv[2].encode())
os.setxattr(sys.argv[1], "user.gather.if-range", b"\"x\"\r\nX-Injected: yes")' \
		out/0.part "$BASE/header-list"
	run --separate-stderr "$GATHER" -o out --continue "$BASE/header-list"
	assert_success
	jq -e 'map(.[0] | ascii_downcase) | (index("x-injected") == null) and
		(index("range") == null)' out/0
}

@test "-o: a 304 to a request without conditions is http, not a revalidation" {
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr "$GATHER" -o out "$BASE/noted/x"
	assert_failure 1
	assert_jq '.[0] | .ok == false and .status == 304 and
		.not_modified == false and .file == null and .error.kind == "http"'
	assert_equal "$(ls -A out)" ""
}

@test "a response header over 100 KB is other, saying so" {
	run --separate-stderr "$GATHER" "$BASE/bigheader/200000"
	assert_failure 1
	assert_jq '.[0] | .error.kind == "other" and (.error.message |
		contains("header is longer than 100 KB"))'
}

@test "-o: a 206 without Content-Range, ending before it starts, off by one, with a total of * or another Last-Modified is never used" {
	cd "$BATS_TEST_TMPDIR"
	declare -A why=(
		[nocr]="the 206 response has no Content-Range with a total"
		[star]="the 206 response has no Content-Range with a total"
		[backwards]="the 206 response's range does not run to its total"
		[lm]="the 206 response's validator is not the part's")
	for how in nocr star backwards lm; do
		run --separate-stderr "$GATHER" -o "out-$how" --retries 1 \
			--retry-delay 0.01 "$BASE/lie/100000?cut=60000&how=$how"
		assert_failure 1
		assert_jq --arg m "${why[$how]}: 'out-$how/0.part' is discarded" \
			'.[0] | .ok == false and .attempts == 2 and .file == null and
			.error.kind == "other" and .error.message == $m'
		assert_equal "$(ls -A "out-$how")" ""
	done
	run --separate-stderr "$GATHER" -o out-offset --retries 1 \
		--retry-delay 0.01 "$BASE/lie/100000?cut=60000&how=offset"
	assert_failure 1
	assert_jq '.[0].error.message == "the 206 response does not start at byte 60000, where '"'out-offset/0.part'"' ends"'
	assert_equal "$(ls -A out-offset)" ""
}

@test "-o: a 206 with Content-Encoding identity, or continued by Last-Modified, completes the file" {
	cd "$BATS_TEST_TMPDIR"
	python3 -c 'import sys; sys.stdout.buffer.write(bytes(i % 251 for i in range(100000)))' >want
	curl -s "$BASE/reset-stats" >/dev/null
	for how in identity lmok; do
		run --separate-stderr "$GATHER" -o "out-$how" --retries 1 \
			--retry-delay 0.01 "$BASE/lie/100000?cut=60000&how=$how"
		assert_success
		assert_jq --arg f "out-$how/0" '.[0] | .ok and .attempts == 2 and
			.size == 100000 and .file == $f'
		cmp want "out-$how/0"
		assert_equal "$(ls -A "out-$how")" "0"
	done
	run curl -s "$BASE/ranges"
	assert_jq '.[0] | map(select(.[0] | test("how=lmok")) | .[1:]) ==
		[[null, null], ["bytes=60000-", "Sat, 01 Jan 2000 00:00:00 GMT"]]'
}

@test "-o: Accept-Ranges: none is no promise: the part is dropped and the retry asks plainly" {
	cd "$BATS_TEST_TMPDIR"
	curl -s "$BASE/reset-stats" >/dev/null
	run --separate-stderr "$GATHER" -o out --retries 1 --retry-delay 0.01 \
		"$BASE/lie/100000?cut=60000&how=arnone"
	assert_failure 1
	assert_jq '.[0] | .ok == false and .attempts == 2 and .size == 60000 and
		.error.kind == "reset"'
	assert_equal "$(ls -A out)" ""
	run curl -s "$BASE/ranges"
	assert_jq '.[0] | map(select(.[0] | test("how=arnone")) | .[1:]) ==
		[[null, null], [null, null]]'
}

@test "--continue: a stored validator too short, unterminated, with a space, DEL or a control byte, too long or no date starts afresh; a date continues" {
	cd "$BATS_TEST_TMPDIR"
	local v long
	long="Sat, 01 Jan 2000 00:00:00 GMT$(printf '%040d' 0)"
	for v in 'x' '"abc' '"a b"' $'"a\x7f"' $'Sat, 01 Jan\x01 2000' \
		'not a date at all' "$long" 'Sat, 01 Jan 2000 00:00:00 GMT'; do
		rm -rf out
		mkdir out
		printf 'abc' >out/0.part
		python3 -c 'import os, sys
os.setxattr(sys.argv[1], "user.gather.url", sys.argv[2].encode())
os.setxattr(sys.argv[1], "user.gather.if-range", sys.argv[3].encode())' \
			out/0.part "$BASE/file/7000?v=ok" "$v"
		run --separate-stderr "$GATHER" -o out --continue "$BASE/file/7000?v=ok"
		assert_success
		assert_jq '.[0] | .size == 7000 and .file == "out/0"'
		assert_equal "$(stat -c %s out/0)" 7000
		assert_equal "$(ls -A out)" 0
	done
	run ranges
	assert_jq '.[0] | map(select(.[0] == "/file/7000?v=ok") | .[1:]) ==
		[range(7) | [null, null]] +
		[["bytes=3-", "Sat, 01 Jan 2000 00:00:00 GMT"]]'
}

@test "-o: NAME or NAME.part a symbolic link, a FIFO or hard-linked is refused as io and left as it was" {
	cd "$BATS_TEST_TMPDIR"
	local leaf kind want
	declare -A why=([link]="is a symbolic link" [fifo]="not a regular file"
		[hard]="has other hard links")
	for leaf in 0 0.part; do
		for kind in link fifo hard; do
			rm -rf out
			mkdir out
			case $kind in
			link) ln -s /etc/passwd "out/$leaf" ;;
			fifo) mkfifo "out/$leaf" ;;
			hard) printf x >"out/$leaf" && ln "out/$leaf" out/other ;;
			esac
			run --separate-stderr "$GATHER" -o out "$BASE/ok"
			assert_failure 1
			assert_jq --arg m "refusing to write 'out/0': ${why[$kind]}" \
				'.[0] | .ok == false and .error.kind == "io" and
				.error.message == $m'
			want=$leaf
			[[ $kind == hard ]] && want="$leaf other"
			assert_equal "$(ls -A out | sort | xargs)" "$want"
		done
	done
}

@test "-o: a NAME whose URL mark is too long to read is another's; an empty mark is nobody's; a long URL is marked by its SHA-256" {
	cd "$BATS_TEST_TMPDIR"
	mkdir a b c
	printf x >a/0
	printf x >b/0
	python3 -c 'import os
os.setxattr("a/0", "user.gather.url", b"u" * 1500)
os.setxattr("b/0", "user.gather.url", b"")'
	run --separate-stderr "$GATHER" -o a "$BASE/ok"
	assert_success
	assert_jq '.[0].file == "a/0.1"'
	assert_equal "$(cat a/0)" x
	run --separate-stderr "$GATHER" -o b "$BASE/ok"
	assert_success
	assert_jq '.[0].file == "b/0"'
	assert_equal "$(cat b/0)" ok
	url="$BASE/p/$(printf 'a%.0s' $(seq 1 1100))"
	run --separate-stderr "$GATHER" -o c "$url"
	assert_success
	assert_equal "$(python3 -c 'import os; print(os.getxattr("c/0", "user.gather.url").decode())')" \
		"sha256:$(printf '%s' "$url" | sha256sum | cut -d' ' -f1)"
}

@test "--continue: a part longer than the file gets a 416 that is not whole: http, the part dropped" {
	cd "$BATS_TEST_TMPDIR"
	mkdir out
	python3 -c 'import os, sys
open("out/0.part", "wb").write(bytes(i % 251 for i in range(8000)))
os.setxattr("out/0.part", "user.gather.url", sys.argv[1].encode())
os.setxattr("out/0.part", "user.gather.if-range", b"\"v1-7000\"")' "$BASE/file/7000?long=1"
	run --separate-stderr "$GATHER" -o out --continue "$BASE/file/7000?long=1"
	assert_failure 1
	assert_jq '.[0] | .status == 416 and .file == null and
		.error == {"kind": "http", "message": "HTTP status 416"}'
	assert_equal "$(ls -A out)" ""
}

@test "--continue: a 200 with an empty body to a Range makes the part stale: the file is empty" {
	cd "$BATS_TEST_TMPDIR"
	mkdir out
	printf abc >out/0.part
	python3 -c 'import os, sys
os.setxattr("out/0.part", "user.gather.url", sys.argv[1].encode())
os.setxattr("out/0.part", "user.gather.if-range", b"\"v1-0\"")' "$BASE/file/0?ranges=0"
	run --separate-stderr "$GATHER" -o out --continue "$BASE/file/0?ranges=0"
	assert_success
	assert_jq '.[0] | .status == 200 and .size == 0 and .file == "out/0"'
	assert_equal "$(stat -c %s out/0)" 0
	assert_equal "$(ls -A out)" 0
	run ranges
	assert_jq '.[0] | map(select(.[0] == "/file/0?ranges=0") | .[1:]) ==
		[["bytes=3-", "\"v1-0\""]]'
}

@test "--continue --revalidate: an answer that is no 304 starts a continuable part left beside NAME afresh" {
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr "$GATHER" -o out "$BASE/file/5000?rv=1"
	assert_success
	printf '%s\n' "$output" >prev.jsonl
	printf 'stale bytes' >out/0.part
	python3 -c 'import os, sys
os.setxattr("out/0.part", "user.gather.url", sys.argv[1].encode())
os.setxattr("out/0.part", "user.gather.if-range", b"\"v1-5000\"")' "$BASE/file/5000?rv=1"
	run --separate-stderr "$GATHER" -o out --continue --revalidate prev.jsonl \
		"$BASE/file/5000?rv=1"
	assert_success
	assert_jq '.[0] | .status == 200 and .size == 5000 and .not_modified == false'
	cmp out/0 <(curl -q -s "$BASE/file/5000")
	assert_equal "$(ls -A out)" 0
}
