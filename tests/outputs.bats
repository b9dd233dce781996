#!/usr/bin/env bats
# How records come out: -I headers, --format json, -u, -o with --name, and
# the shell completions (which must know every option of the parser);
# strict JSON in and out: request objects that RFC 8259 does not allow are
# bad_input, ids and --body json values go out exactly as written, and -I
# with very many headers stays fast.

bats_require_minimum_version 1.5.0
load helper

setup_file() { start_server; }
teardown_file() { stop_server; }

# A gather left running by a failed test must not outlive it, nor a
# header server that a strict-JSON test started.
teardown() {
	stop_bg
	if [[ -n "${HDR_PID:-}" ]]; then
		kill "$HDR_PID" 2>/dev/null || true
		wait "$HDR_PID" 2>/dev/null || true
		unset HDR_PID
	fi
}

ROOT="$BATS_TEST_DIRNAME/.."
BASH_COMP="$ROOT/completions/gather.bash"
ZSH_COMP="$ROOT/completions/_gather"

# Print a listing of every path under DIR (relative, sorted).
tree() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort)
}

# ---- -I ---------------------------------------------------------------------

@test "-I: names lower-cased, a repeated header is an array in order" {
	run --separate-stderr "$GATHER" -I "$BASE/headers"
	assert_success
	assert_jq '.[0].headers | .["set-cookie"] == ["a=1", "b=2"] and
		.["x-custom"] == "yes" and .["content-type"] == "text/plain" and
		.["content-length"] == "7" and .server == "gather-test" and
		(keys | all(. == ascii_downcase))'
	# Every value is a string or an array of strings.
	assert_jq '.[0].headers | to_entries | all(.value | type == "string" or
		(type == "array" and length > 1 and all(type == "string")))'
}

@test "-I and --include-headers: every record has its own headers" {
	run --separate-stderr "$GATHER" --include-headers "$BASE/ok" \
		"$BASE/headers" "$BASE/json"
	assert_success
	assert_jq 'map(.headers["content-type"]) ==
		["text/plain", "text/plain", "application/json"]'
	assert_jq '(.[0].headers | has("set-cookie") | not) and
		(.[2].headers | has("x-custom") | not)'
	assert_jq '.[1].headers["set-cookie"] == ["a=1", "b=2"]'
}

@test "without -I there is no headers key" {
	run --separate-stderr "$GATHER" "$BASE/headers"
	assert_success
	assert_jq '.[0] | has("headers") | not'
}

@test "-I after redirects: the headers of the last response only" {
	run --separate-stderr "$GATHER" -I "$BASE/redirect/2" \
		"$BASE/redirect-to?url=/headers"
	assert_success
	assert_jq '.[0] | .redirects == 2 and .status == 200 and
		(.headers | has("location") | not) and
		.headers["content-length"] == "4"'
	assert_jq '.[1] | .redirects == 1 and
		(.headers | has("location") | not) and
		.headers["set-cookie"] == ["a=1", "b=2"]'
	# The 302 itself, not followed, does have its location.
	run --separate-stderr "$GATHER" -I --no-location "$BASE/redirect/2"
	assert_success
	assert_jq '.[0] | .status == 302 and .headers.location == "/redirect/1"'
}

@test "-I: error records have headers too" {
	port=$(closed_port)
	run --separate-stderr "$GATHER" -I -t 0.3 "http://127.0.0.1:$port/" \
		"$BASE/hang" "$BASE/redirect-to?url=file:///etc/passwd" \
		'{"url": "http://x/", "bogus": 1}'
	assert_failure 1
	assert_jq 'map(.error.kind) ==
		["connect", "timeout", "unsupported_protocol", "bad_input"]'
	assert_jq 'all(has("headers") and (.headers | type == "object"))'
	# No response, no headers; the refused redirect came with some.
	assert_jq '.[0].headers == {} and .[1].headers == {} and
		.[3].headers == {}'
	assert_jq '.[2].headers.location == "file:///etc/passwd"'
}

# ---- --format json ----------------------------------------------------------

@test "--format json: one array of the records, in order" {
	run --separate-stderr "$GATHER" --format json "$BASE/ok" "$BASE/utf8" \
		"$BASE/bytes/10" "http://127.0.0.1:$(closed_port)/"
	assert_failure 1
	printf '%s' "$output" | jq -e 'type == "array" and length == 4' >/dev/null ||
		fail "not an array of 4: $output"
	printf '%s' "$output" | jq -e 'map(.index) == [0, 1, 2, 3] and
		.[0].body == "ok" and .[2].size == 10 and
		.[3].error.kind == "connect"' >/dev/null || fail "$output"
}

@test "--format json: 200 records make one valid array" {
	run --separate-stderr "$GATHER" --format json -c 20 -i <(urls 200 /size/3)
	assert_success
	printf '%s' "$output" | jq -e 'type == "array" and length == 200 and
		map(.index) == [range(200)] and all(.body == "aaa")' >/dev/null ||
		fail "not the array of 200 records"
}

@test "--format json: empty input gives []" {
	run --separate-stderr "$GATHER" --format json </dev/null
	assert_success
	printf '%s' "$output" | jq -e '. == []' >/dev/null || fail "got: $output"
	run --separate-stderr "$GATHER" --format json -i <(printf '# only\n\n')
	assert_success
	printf '%s' "$output" | jq -e '. == []' >/dev/null || fail "got: $output"
}

@test "--format jsonl is the default" {
	run --separate-stderr "$GATHER" --format jsonl "$BASE/ok" "$BASE/ok"
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_jsonl
}

@test "--format json stays valid when SIGINT ends the run" {
	out="$BATS_TEST_TMPDIR/out"
	start_bg "$GATHER" --format json "$BASE/ok" "$BASE/hang" "$BASE/hang" \
		"$BASE/ok"
	# The first record is written once fetched: gather is running.
	wait_until 10 size_at_least "$out" 20 || fail "no record within 10 s"
	kill -INT "$BG_PID"
	wait_bg 10
	assert_equal "$BG_STATUS" 130
	jq -e 'type == "array" and length == 4 and map(.index) == [0, 1, 2, 3]
		and .[0].ok and .[3].ok and
		(.[1:3] | all(.ok == false and .error.kind == "cancelled"))' \
		"$out" >/dev/null || fail "$(cat "$out")"
}

# ---- -u ---------------------------------------------------------------------

@test "-u writes records as they finish, each index once" {
	run --separate-stderr "$GATHER" -u "$BASE/delay/600" "$BASE/ok" \
		"$BASE/delay/250" "$BASE/size/1"
	assert_success
	assert_equal "${#lines[@]}" 4
	# The two fast ones first (in either order), then 250 ms, then 600 ms.
	assert_jq '(map(.index) | .[0:2] | sort) == [1, 3] and
		(map(.index) | .[2:]) == [2, 0]'
	run --separate-stderr "$GATHER" --unordered --format json \
		"$BASE/delay/250" "$BASE/ok"
	assert_success
	printf '%s' "$output" | jq -e 'map(.index) == [1, 0]' >/dev/null ||
		fail "got: $output"
}

@test "-u: 300 records, each index exactly once" {
	run --separate-stderr "$GATHER" -u -c 50 -i <(urls 300 /ok)
	assert_success
	assert_jq 'map(.index) | sort == [range(300)]'
	assert_jq 'all(.url == "\(.url | split("?")[0])?i=\(.index)")'
}

# ---- -o and --name ----------------------------------------------------------

@test "-o writes each body to DIR/INDEX, byte for byte as curl gets it" {
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr "$GATHER" -o out "$BASE/bytes/3000" "$BASE/utf8" \
		"$BASE/gzip/5000" "$BASE/size/0" "$BASE/status/404"
	# -o implies --fail: the 404 is an http failure with no file.
	assert_failure 1
	assert_jq 'map(.file) == ["out/0", "out/1", "out/2", "out/3", null]'
	assert_jq 'all(has("body") | not) and all(has("body_encoding") | not)'
	assert_jq 'map(.size) == [3000, 33, 5000, 0, 10]'
	curl -q -s -o want0 "$BASE/bytes/3000"
	curl -q -s -o want1 "$BASE/utf8"
	curl -q -s --compressed -o want2 "$BASE/gzip/5000"
	cmp want0 out/0
	cmp want1 out/1
	cmp want2 out/2
	[[ -f out/3 && ! -s out/3 ]] || fail "out/3 is not an empty file"
	[[ ! -e out/4 && ! -e out/4.part ]] || fail "the 404 left a file"
}

@test "-o creates DIR with its parents; file is DIR as given joined to the name" {
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr "$GATHER" --output-dir a/b/c "$BASE/size/5"
	assert_success
	assert_jq '.[0].file == "a/b/c/0"'
	assert_equal "$(cat a/b/c/0)" "aaaaa"
	run --separate-stderr "$GATHER" -o d/ "$BASE/size/6"
	assert_success
	assert_jq '.[0].file == "d/0"'
	run --separate-stderr "$GATHER" -o "$BATS_TEST_TMPDIR/abs/x" "$BASE/size/7"
	assert_success
	assert_jq --arg f "$BATS_TEST_TMPDIR/abs/x/0" '.[0].file == $f'
	assert_equal "$(cat abs/x/0)" "aaaaaaa"
}

@test "--name: {index}, {host}, {name} and {id}" {
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr "$GATHER" -o out --name '{index}-{host}-{name}-{id}.txt' \
		"$BASE/size/3" \
		"{\"url\": \"$BASE/bytes/4?q=1\", \"id\": \"abc\"}" \
		"{\"url\": \"$BASE/utf8\", \"id\": 42}" \
		"{\"url\": \"http://localhost:$PORT/size/2/\", \"id\": null}"
	assert_success
	assert_jq 'map(.file) == ["out/0-127.0.0.1-3-.txt",
		"out/1-127.0.0.1-4-abc.txt", "out/2-127.0.0.1-utf8-42.txt",
		"out/3-localhost-index.html-null.txt"]'
	for f in $(printf '%s\n' "$output" | jq -r .file); do
		[[ -f "$f" ]] || fail "$f was not written"
	done
	assert_equal "$(cat out/0-127.0.0.1-3-.txt)" "aaa"
}

@test "--name: a name used twice gets .1, .2" {
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr "$GATHER" -o out --name '{name}' \
		"$BASE/size/1" "$BASE/size/2" "$BASE/bytes/1" "$BASE/p/x/1" "$BASE/size/9"
	assert_success
	assert_jq 'map(.file) == ["out/1", "out/2", "out/1.1", "out/1.2", "out/9"]'
	assert_equal "$(cat out/1)" "a"
	assert_equal "$(cat out/1.2)" "p"
	run --separate-stderr "$GATHER" -o same --name 'fixed' \
		"$BASE/size/1" "$BASE/size/2" "$BASE/size/3"
	assert_success
	assert_jq 'map(.file) == ["same/fixed", "same/fixed.1", "same/fixed.2"]'
	assert_equal "$(cat same/fixed.2)" "aaa"
}

@test "--name: {index} with other text still never reuses a name" {
	# {index}{name}: record 1 named "1a" and record 11 named "a" both make
	# "11a"; the second must not overwrite the first.
	cd "$BATS_TEST_TMPDIR"
	args=()
	for ((i = 0; i < 12; i++)); do
		args+=("$BASE/size/$i")
	done
	args[1]="$BASE/p/1a"
	args[11]="$BASE/p/a"
	run --separate-stderr "$GATHER" -o out --name '{index}{name}' "${args[@]}"
	assert_success
	assert_jq 'map(.file) | length == 12 and (unique | length) == 12'
	assert_equal "$(ls out | wc -l)" 12
}

@test "--name: no template or URL escapes DIR; / and leading dots become _" {
	top="$BATS_TEST_TMPDIR/top"
	mkdir -p "$top/sub/work"
	: >"$top/sub/file"
	cd "$top/sub/work"
	before=$(tree "$top")
	run --separate-stderr "$GATHER" -o out --name '../x{index}' "$BASE/ok"
	assert_success
	assert_jq '.[0].file == "out/___x0"'
	run --separate-stderr "$GATHER" -o out2 --name '/abs/{index}' "$BASE/ok"
	assert_success
	assert_jq '.[0].file == "out2/_abs_0"'
	run --separate-stderr "$GATHER" -o out3 --name '{name}' \
		"$BASE/p/x/.." "$BASE/p/.hidden" "$BASE/p/..." "$BASE/p/%2e%2e"
	assert_success
	assert_jq 'all(.file | startswith("out3/") and
		(ltrimstr("out3/") | test("^[^.][^/]*$")))'
	assert_jq '.[1].file == "out3/_hidden" and .[2].file == "out3/___"'
	run --separate-stderr "$GATHER" -o out4 --name '{id}' \
		"{\"url\": \"$BASE/ok\", \"id\": \"../../escaped\"}" \
		"{\"url\": \"$BASE/ok\", \"id\": \"/etc/passwd\"}" \
		"{\"url\": \"$BASE/ok\", \"id\": \"..\"}" \
		"{\"url\": \"$BASE/ok\", \"id\": {\"p\": \"a/b\"}}"
	assert_success
	assert_jq 'map(.file) == ["out4/___.._escaped", "out4/_etc_passwd",
		"out4/__", "out4/{\"p\":\"a_b\"}"]'
	# Nothing appeared outside the four directories.
	after=$(tree "$top" | grep -vE '^\./sub/work/out[0-9]?(/|$)')
	assert_equal "$after" "$before"
	# And inside them, only plain files with safe names.
	run find out out2 out3 out4 -mindepth 1 \( -type d -o -name '.*' \)
	assert_output ''
}

@test "-o: a file that cannot be written is an io record" {
	cd "$BATS_TEST_TMPDIR"
	# Root ignores permissions, so make the target a directory instead.
	mkdir -p out/1
	run --separate-stderr "$GATHER" -o out "$BASE/ok" "$BASE/size/4" \
		"$BASE/size/5"
	assert_failure 1
	assert_jq 'map(.ok) == [true, false, true]'
	assert_jq '.[1] | .error.kind == "io" and .file == "out/1" and
		(.error.message | length > 0)'
	assert_equal "$(cat out/2)" "aaaaa"
}

@test "-o: --max-body applies only when given" {
	cd "$BATS_TEST_TMPDIR"
	# 17 MB: over the default 16M limit of in-memory bodies.
	run --separate-stderr "$GATHER" -o out "$BASE/size/17000000"
	assert_success
	assert_equal "$(wc -c <out/0)" 17000000
	run --separate-stderr "$GATHER" -o out2 --max-body 1k "$BASE/size/2000" \
		"$BASE/size/1000"
	assert_failure 1
	assert_jq '.[0].error.kind == "too_large" and .[1].ok'
}

# ---- completions ------------------------------------------------------------

# Print the long option names of the parser's table, one a line.
table_longs() {
	"$GATHER" --dump-options | awk -F '\t' '{ print $2 }'
}

# Print the short option letters of the parser's table, one a line.
table_shorts() {
	"$GATHER" --dump-options | awk -F '\t' '$3 != "-" { print $3 }'
}

@test "--dump-options names the table's long and short options" {
	run table_longs
	assert_success
	assert_line concurrency
	assert_line http1.1
	assert_line max-body
	((${#lines[@]} >= 40)) || fail "only ${#lines[@]} options"
	run table_shorts
	assert_line c
	assert_line X
}

@test "both completion files name every long and short option" {
	missing=()
	while read -r long; do
		re="--${long//./\\.}"
		grep -Eq -- "(^|[[:space:]\"])$re([[:space:]\"]|\$)" "$BASH_COMP" ||
			missing+=("bash: --$long")
		grep -Eq -- "$re(\\[|=|\\+|:|'|\\})" "$ZSH_COMP" ||
			missing+=("zsh: --$long")
	done < <(table_longs)
	while read -r short; do
		grep -Eq -- "(^|[[:space:]\"])-$short([[:space:]\"]|\$)" "$BASH_COMP" ||
			missing+=("bash: -$short")
		grep -Eq -- "\{-$short[+,]" "$ZSH_COMP" ||
			missing+=("zsh: -$short")
	done < <(table_shorts)
	((${#missing[@]} == 0)) || fail "missing: ${missing[*]}"
}

# Print what the bash completion offers for the words given (the last one
# is being completed), one a line.
bash_complete() {
	bash -c 'source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_gather; printf "%s\n" "${COMPREPLY[@]}"' "$BASH_COMP" "$@"
}

@test "bash completion: options, fixed values and file names" {
	bash -n "$BASH_COMP"
	run bash_complete gather --bo
	assert_output --body
	run bash_complete gather --no-
	assert_equal "$(printf '%s\n' "$output" | sort | tr '\n' ' ')" \
		"--no-compressed --no-fail --no-location --no-progress "
	# Every long option is offered for --.
	run bash_complete gather --
	while read -r long; do
		assert_line -- "--$long"
	done < <(table_longs)
	run bash_complete gather --body ''
	assert_equal "$(printf '%s\n' "$output" | sort | tr '\n' ' ')" \
		"auto base64 json none text "
	run bash_complete gather --body b
	assert_output base64
	run bash_complete gather --format js
	assert_equal "$(printf '%s\n' "$output" | sort | tr '\n' ' ')" "json jsonl "
	run bash_complete gather --format=jsonl
	assert_output --format=jsonl
	# bash splits --body=... at '=' by default.
	run bash_complete gather --body = n
	assert_output none
	# File names after -i, -o, --cacert, --resume and -d @.
	mkdir -p "$BATS_TEST_TMPDIR/d/sub"
	: >"$BATS_TEST_TMPDIR/d/list.txt"
	for opt in -i --input --cacert --resume; do
		run bash_complete gather "$opt" "$BATS_TEST_TMPDIR/d/li"
		assert_output "$BATS_TEST_TMPDIR/d/list.txt"
	done
	run bash_complete gather -o "$BATS_TEST_TMPDIR/d/s"
	assert_output --partial "$BATS_TEST_TMPDIR/d/sub"
	run bash_complete gather -d "@$BATS_TEST_TMPDIR/d/li"
	assert_output "@$BATS_TEST_TMPDIR/d/list.txt"
	run bash_complete gather -d plain
	assert_output ''
	# Registered for the command gather.
	run bash -c 'source "$0"; complete -p gather' "$BASH_COMP"
	assert_output --partial '-F _gather'
}

@test "zsh completion: a #compdef file that zsh reads and uses" {
	head -n 1 "$ZSH_COMP" | grep -qx '#compdef gather' ||
		fail "first line is not #compdef gather"
	grep -q '_arguments' "$ZSH_COMP"
	command -v zsh >/dev/null || skip "zsh is not installed"
	zsh -n "$ZSH_COMP"
	zsh -f -c 'zmodload zsh/zpty' 2>/dev/null || skip "no zsh/zpty module"
	# An interactive zsh on a pseudo-terminal: each input line is typed,
	# then TAB, then ^T, bound to a widget that writes the edited line to
	# a file; ^U clears the line for the next one.
	cat >"$BATS_TEST_TMPDIR/drive.zsh" <<'EOF'
zmodload zsh/zpty
fp=$1 buf=$2
shift 2
zpty z "zsh -f -i"
zpty -w z "PS1='> '; fpath=($fp \$fpath); autoload -U compinit; compinit -u -D; unsetopt beep; dumpbuf() { print -r -- \"\$BUFFER\" >| $buf }; zle -N dumpbuf; bindkey '^T' dumpbuf"
for line in "$@"; do
	rm -f $buf
	zpty -w -n z "gather $line"$'\t\x14'
	for ((i = 0; i < 500; i++)); do
		while zpty -r -t z chunk; do :; done
		[[ -s $buf ]] && break
		sleep 0.02
	done
	if [[ -s $buf ]]; then cat $buf; else print "(nothing for: $line)"; fi
	zpty -w -n z $'\x15'
done
zpty -d z
EOF
	mkdir -p "$BATS_TEST_TMPDIR/d"
	: >"$BATS_TEST_TMPDIR/d/list.txt"
	run zsh -f "$BATS_TEST_TMPDIR/drive.zsh" "$ROOT/completions" \
		"$BATS_TEST_TMPDIR/buf" '--bo' '--body=b' '--format js' '--http2' \
		"-i $BATS_TEST_TMPDIR/d/li" "-d @$BATS_TEST_TMPDIR/d/li" \
		'--no-comp' '-X PO'
	assert_success
	assert_line -n 0 'gather --body='
	assert_line -n 1 'gather --body=base64 '
	assert_line -n 2 'gather --format json'
	assert_line -n 3 'gather --http2-prior-knowledge '
	assert_line -n 4 "gather -i $BATS_TEST_TMPDIR/d/list.txt "
	assert_line -n 5 "gather -d @$BATS_TEST_TMPDIR/d/list.txt "
	assert_line -n 6 'gather --no-compressed '
	assert_line -n 7 'gather -X POST '
}

# ---- strict JSON in and out ---------------------------------------------------

@test "request objects that are not strict JSON are bad_input, named by their line" {
	reset_stats
	u="$BASE/ok"
	cat >"$BATS_TEST_TMPDIR/in" <<-EOF
	{"url": "$u", "id": "\uZZZZ"}
	{"url": "$u", "id": "\u12"}
	{"url": "$u", "id": "\ud800"}
	{"url": "$u", "id": "\udc00x"}
	{"url": "$u", "id": 01}
	{"url": "$u", "id": 00}
	{"url": "$u", "id": -01}
	{"url": "$u", "id": 1.}
	{"url": "$u", "id": -.5}
	{"url": "$u", "id": 1.e5}
	{"url": "$u", "id": .5}
	{"url": "$u", "id": +1}
	{"url": "$u", "id": NaN}
	{"url": "$u", "id": Infinity}
	{"url": "$u", "id": [1, 2,]}
	{"url": "$u",}
	{'url': '$u'}
	{"url": "$u", "id": 'x'}
	{"url": "$u"} // comment
	{"url": "$u", /* c */ "id": 1}
	{"url": "$u"} x
	{"url": "$u", "id": "a	b"}
	{"url": "$u", "url": "$u"}
	{"url": "$u", "id": 7}
	EOF
	printf '{"url": "%s", "id": "a\0b"}\n' "$u" >>"$BATS_TEST_TMPDIR/in"
	printf '{"url": "%s", "id": "\x01"}\n' "$u" >>"$BATS_TEST_TMPDIR/in"
	printf '{"url": "%s", "id": "\xff"}\n' "$u" >>"$BATS_TEST_TMPDIR/in"
	run --separate-stderr timeout 30 "$GATHER" -i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_jsonl -n 27
	# All but the good one (index 23) are refused before any fetch.
	assert_jq 'map(select(.error.kind == "bad_input") | .index) ==
		[range(27) | select(. != 23)]'
	assert_jq '.[23] | .ok and .id == 7'
	assert_jq 'map(select(.index != 23) | .status == null and .attempts == 0)
		| all'
	# Named by the line itself, and never echoing an id it could not read.
	assert_jq --arg u "$u" '.[4].url == "{\"url\": \"" + $u + "\", \"id\": 01}"'
	assert_jq 'map(select(.index != 23 and has("id"))) == []'
	assert_equal "$(hits /ok)" 1
}

@test "ids are echoed exactly as written, strict JSON guaranteed" {
	u="$BASE/ok"
	cat >"$BATS_TEST_TMPDIR/in" <<-EOF
	{"url": "$u", "id": 12345678901234567890123}
	{"url": "$u", "id": 1e999}
	{"url": "$u", "id": -0.0e-7}
	{"url": "$u", "id": "\ud83d\ude00 \u0000 \""}
	{"url": "$u", "id": { "a" : [ 1 , "x y" ] }}
	{"url": "$u", "id":	[1,	2]}
	EOF
	run --separate-stderr "$GATHER" -i "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_jsonl -n 6
	assert_line --index 0 --partial '"id":12345678901234567890123,'
	assert_line --index 1 --partial '"id":1e999,'
	assert_line --index 2 --partial '"id":-0.0e-7,'
	assert_line --index 3 --partial '"id":"\ud83d\ude00 \u0000 \"",'
	assert_line --index 4 --partial '"id":{"a":[1,"x y"]},'
	assert_line --index 5 --partial '"id":[1,2],'
}

@test "\\u0000 in a url, method or header is bad_input; a body keeps it" {
	u="$BASE/ok"
	cat >"$BATS_TEST_TMPDIR/in" <<-EOF
	{"url": "$u\u0000/x"}
	{"url": "$u", "method": "PO\u0000ST"}
	{"url": "$u", "headers": {"X-A": "1\u0000Injected: 2"}}
	{"url": "$u", "headers": {"X-A\u0000B": "1"}}
	{"url": "$u", "headers": ["X-A: 1\u0000Injected: 2"]}
	{"url": "$BASE/rawbody", "body": "a\u0000b\u0000"}
	EOF
	reset_stats
	run --separate-stderr "$GATHER" --body base64 -i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_jsonl -n 6
	assert_jq '.[:5] | all(.error.kind == "bad_input" and .status == null)'
	assert_jq '.[5] | .ok and .size == 4 and .body == "YQBiAA=="'
	assert_equal "$(hits /ok)" 0
}

@test "a request object's url is trimmed like a line" {
	printf '{"url": " \\t %s/ok?t=1 \\r\\n"}\n' "$BASE" >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr "$GATHER" -i "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_jq --arg u "$BASE/ok?t=1" '.[0].url == $u and .[0].status == 200'
}

@test "nesting 30,000 deep is bad_input, not a crash; the object and 511 inside it are fine" {
	{
		printf '{"url": "%s/ok", "id": ' "$BASE"
		head -c 30000 /dev/zero | tr '\0' '['
		head -c 30000 /dev/zero | tr '\0' ']'
		printf '}\n'
		printf '{"url": "%s/ok", "id": ' "$BASE"
		head -c 511 /dev/zero | tr '\0' '['
		head -c 511 /dev/zero | tr '\0' ']'
		printf '}\n'
	} >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr timeout 30 "$GATHER" -i "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_jsonl -n 2
	# jq stops at 256 levels itself: look at the second line as text.
	printf '%s\n' "${lines[0]}" | jq -e '.error.kind == "bad_input" and
		(has("id") | not)'
	deep=$(head -c 511 /dev/zero | tr '\0' '[')
	assert_line --index 1 --partial "\"id\":$deep]"
	assert_line --index 1 --partial '"ok":true'
}

@test "--body json embeds strict JSON exactly as written" {
	printf '%s' '1e999' >"$BATS_TEST_TMPDIR/b1"
	printf '%s' ' { "n" : 12345678901234567890.50 ,
	  "s": "\u00e9\u0000" } ' >"$BATS_TEST_TMPDIR/b2"
	run --separate-stderr "$GATHER" --body json \
		-d @"$BATS_TEST_TMPDIR/b2" "$BASE/rawbody"
	assert_success
	assert_jsonl -n 1
	assert_line --index 0 --partial \
		'"body":{"n":12345678901234567890.50,"s":"\u00e9\u0000"},"body_encoding":"json"'
	run --separate-stderr "$GATHER" --body json \
		-d @"$BATS_TEST_TMPDIR/b1" "$BASE/rawbody"
	assert_success
	assert_line --index 0 --partial '"body":1e999,"body_encoding":"json"'
}

@test "--body json: a body that is not strict JSON falls back to auto" {
	local bodies=('01' '1.' '-.5' 'NaN' '[1,]' "{'a': 1}" '"\ud800"' \
		'{"a": 1} x' '"\uZZZZ"' '[1] // c' '1e5x' '')
	local k
	for ((k = 0; k < ${#bodies[@]}; k++)); do
		printf '%s' "${bodies[k]}" >"$BATS_TEST_TMPDIR/body"
		run --separate-stderr "$GATHER" --body json \
			-d @"$BATS_TEST_TMPDIR/body" "$BASE/rawbody"
		assert_success
		assert_jsonl -n 1
		assert_jq --arg b "${bodies[k]}" \
			'.[0].body_encoding == "utf-8" and .[0].body == $b'
	done
	printf '"\xff"' >"$BATS_TEST_TMPDIR/body"
	run --separate-stderr "$GATHER" --body json \
		-d @"$BATS_TEST_TMPDIR/body" "$BASE/rawbody"
	assert_success
	assert_jq '.[0].body_encoding == "base64" and .[0].body == "Iv8i"'
}

# Start a server on a free port whose answers carry N headers: names
# h0..h(N-1) (with "many") or three names repeated (with "few").
start_header_server() {
	local port_file="$BATS_TEST_TMPDIR/hdr.port" i
	python3 - "$port_file" <<-'PY' >/dev/null 2>&1 3>&- &
	import http.server, sys
	class H(http.server.BaseHTTPRequestHandler):
	    protocol_version = "HTTP/1.1"
	    def do_GET(self):
	        n = int(self.path.split("/")[2])
	        few = self.path.startswith("/few/")
	        self.send_response(200)
	        for i in range(n):
	            self.send_header("h%d" % (i % 3 if few else i),
	                             "%d" % i if few else "")
	        self.send_header("Content-Length", "2")
	        self.end_headers()
	        self.wfile.write(b"ok")
	    def log_message(self, *a):
	        pass
	srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
	with open(sys.argv[1] + ".tmp", "w") as f:
	    f.write(str(srv.server_address[1]))
	import os
	os.rename(sys.argv[1] + ".tmp", sys.argv[1])
	srv.serve_forever()
	PY
	HDR_PID=$!
	for ((i = 0; i < 100; i++)); do
		[[ -s "$port_file" ]] && break
		sleep 0.1
	done
	HDR_BASE="http://127.0.0.1:$(<"$port_file")"
}

@test "-I with 20,000 headers: grouped by name, in linear time" {
	start_header_server
	start=$(now)
	run --separate-stderr timeout 20 "$GATHER" -I "$HDR_BASE/many/20000" \
		"$HDR_BASE/few/5000"
	elapsed=$(since "$start")
	assert_success
	assert_jsonl -n 2
	assert_jq '.[0].headers | length == 20003 and .h0 == "" and
		.h19999 == ""'
	assert_jq '.[1].headers | (.h0 | length) == 1667 and
		.h1[:3] == ["1", "4", "7"] and (.h2 | length) == 1666'
	# Linear work is a small fraction of a second; quadratic takes many.
	fcmp "$elapsed" '<' 8
}
