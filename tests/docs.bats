#!/usr/bin/env bats
# Docs sync: the option table in src/cli.c (printed by the hidden
# `gather --dump-options`) is what every other list of options must match.
# Each option is described in `gather --help` and has an entry in
# man/gather.1, neither names an option the parser lacks, and the committed
# shell completions are exactly what tools/completions.sh writes from it.

bats_require_minimum_version 1.5.0
load helper

ROOT="$BATS_TEST_DIRNAME/.."
MAN="$ROOT/man/gather.1"

# Print "LONG SHORT" (SHORT is "-" when there is none) for each option.
table_options() {
	"$GATHER" --dump-options | awk -F '\t' '{ print $2, $3 }'
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

@test "gather --dump-options prints the whole option table" {
	run table_options
	assert_success
	# A sanity check against options the contract names.
	assert_line 'concurrency c'
	assert_line 'timeout t'
	assert_line 'max-body -'
	assert_line 'no-location -'
	((${#lines[@]} >= 40)) || fail "only ${#lines[@]} options found"
	# Nine fields a row, as tools/completions.sh reads them.
	run bash -c '"$0" --dump-options | awk -F "\t" "NF != 9"' "$GATHER"
	assert_output ''
	# As many rows as --help lists options, and no long name twice.
	rows=$("$GATHER" --help | grep -cE '^  (-[^ ], )?--[a-z]|^      --[a-z]')
	assert_equal "$(table_options | wc -l)" "$rows"
	assert_equal "$(table_options | cut -d' ' -f1 | sort | uniq -d)" ''
}

# Print, one a line, the options of the table that TEXT (stdin) lacks.
options_missing_from() {
	local text long short
	text=$(cat)
	while read -r long short; do
		names_option "$long" "$short" <<<"$text" || echo "--$long"
	done < <(table_options)
}

@test "every option is in gather --help" {
	missing=$("$GATHER" --help | options_missing_from)
	[[ -z "$missing" ]] || fail "not in --help: ${missing//$'\n'/ }"
}

@test "every option has an entry in man/gather.1" {
	[[ -r "$MAN" ]] || fail "man/gather.1 is missing"
	missing=$(man_tags | options_missing_from)
	[[ -z "$missing" ]] || fail "no man page entry for: ${missing//$'\n'/ }"
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

@test "the committed completions are what the option table generates" {
	run "$ROOT/tools/completions.sh" "$GATHER" "$BATS_TEST_TMPDIR/c"
	assert_success
	for f in gather.bash _gather; do
		run diff -u "$ROOT/completions/$f" "$BATS_TEST_TMPDIR/c/$f"
		[[ $status -eq 0 ]] ||
			fail "completions/$f is stale; run make completions:"$'\n'"$output"
	done
}

@test "--dump-options is not an option: only alone, and not in --help" {
	run --separate-stderr "$GATHER" --dump-options --help
	assert_equal "$status" 2
	[[ "$stderr" == "gather: unknown option '--dump-options'"* ]] ||
		fail "not refused: $stderr"
	run "$GATHER" --help
	refute_output --partial dump-options
}
