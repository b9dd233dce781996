#!/usr/bin/env bats
# A short run of tests/soak.sh, so that the soak script itself is checked
# with every test run (make check runs the full 20,000-record soak on the
# ASan build separately).

bats_require_minimum_version 1.5.0
load helper

@test "soak.sh: 600 records of every kind, one record each, right kinds" {
	SOAK_N=600 SOAK_TIMEOUT=120 run --separate-stderr \
		"$BATS_TEST_DIRNAME/soak.sh" "$GATHER"
	assert_success
	[[ "$stderr" == *"soak: OK: 600 records"* ]] || fail "$stderr"
}
