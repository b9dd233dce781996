#!/usr/bin/env bats
# Docs sync: every option in the parser's table (src/cli.c) is described in
# `gather --help` and has an entry in man/gather.1, and --help names no
# option the parser does not know.

bats_require_minimum_version 1.5.0
load helper

SRC="$BATS_TEST_DIRNAME/../src/cli.c"
MAN="$BATS_TEST_DIRNAME/../man/gather.1"

# Print "LONG SHORT" (SHORT is "-" when there is none) for each row of the
# option table: rows look like { "concurrency", 'c', ARG_INT, OPT_... }.
table_options() {
	sed -nE \
		-e "s/^[[:space:]]*\{[[:space:]]*\"([A-Za-z0-9][A-Za-z0-9.-]*)\"[[:space:]]*,[[:space:]]*'([^'\\])'[[:space:]]*,[[:space:]]*ARG_.*/\1 \2/p" \
		-e "s/^[[:space:]]*\{[[:space:]]*\"([A-Za-z0-9][A-Za-z0-9.-]*)\"[[:space:]]*,[[:space:]]*(0|'\\\\0'|NUL|'\\\\x00')[[:space:]]*,[[:space:]]*ARG_.*/\1 -/p" \
		"$SRC"
}

# The tag lines of the man page's .TP entries, with roff's \- made -,
# font escapes and quotes removed.
man_tags() {
	awk 'tp { print; tp = 0 } /^\.TP/ { tp = 1 }' "$MAN" |
		sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/"//g'
}

# Succeed when TEXT (stdin) has a line naming --LONG, and -SHORT beside it
# when SHORT is not "-".
names_option() {
	local long=$1 short=$2
	local re_long="(^|[^A-Za-z0-9-])--${long//./\\.}([^A-Za-z0-9-]|\$)"
	local re_short="(^|[^A-Za-z0-9-])-${short}([^A-Za-z0-9-]|\$)"
	if [[ $short == - ]]; then
		grep -Eq -- "$re_long"
	else
		grep -E -- "$re_long" | grep -Eq -- "$re_short"
	fi
}

@test "the option table can be read from src/cli.c" {
	[[ -r "$SRC" ]] || skip "src/cli.c not there"
	run table_options
	assert_success
	# A sanity check of the extractor against options the contract names.
	assert_line 'concurrency c'
	assert_line 'timeout t'
	assert_line 'max-body -'
	((${#lines[@]} >= 8)) || fail "only ${#lines[@]} options found"
	# As many rows as the table has string-first entries.
	rows=$(grep -cE '^[[:space:]]*\{[[:space:]]*"[^"]+"[[:space:]]*,.*ARG_' "$SRC")
	assert_equal "${#lines[@]}" "$rows"
}

@test "every option is in gather --help" {
	help=$("$GATHER" --help)
	missing=()
	while read -r long short; do
		names_option "$long" "$short" <<<"$help" ||
			missing+=("--$long")
	done < <(table_options)
	((${#missing[@]} == 0)) || fail "not in --help: ${missing[*]}"
}

@test "every option has an entry in man/gather.1" {
	[[ -r "$MAN" ]] || fail "man/gather.1 is missing"
	tags=$(man_tags)
	missing=()
	while read -r long short; do
		names_option "$long" "$short" <<<"$tags" ||
			missing+=("--$long")
	done < <(table_options)
	((${#missing[@]} == 0)) || fail "no man page entry for: ${missing[*]}"
}

@test "--help names no option that the parser lacks" {
	known=$(table_options | awk '{ print $1 }')
	unknown=()
	for opt in $("$GATHER" --help | grep -oE -- '--[A-Za-z0-9][A-Za-z0-9.-]*' |
		sort -u); do
		grep -qxF -- "${opt#--}" <<<"$known" || unknown+=("$opt")
	done
	((${#unknown[@]} == 0)) || fail "in --help, not in the parser: ${unknown[*]}"
}

@test "the man page's option entries name no unknown option" {
	known=$(table_options | awk '{ print $1 }')
	unknown=()
	for opt in $(awk '/^\.SH OPTIONS/ { on = 1; next } /^\.SH/ { on = 0 } on' "$MAN" |
		awk 'tp { print; tp = 0 } /^\.TP/ { tp = 1 }' |
		sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' |
		grep -oE -- '--[A-Za-z0-9][A-Za-z0-9.-]*' | sort -u); do
		grep -qxF -- "${opt#--}" <<<"$known" || unknown+=("$opt")
	done
	((${#unknown[@]} == 0)) || fail "in the man page, not in the parser: ${unknown[*]}"
}
