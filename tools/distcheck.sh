#!/bin/sh
# make distcheck: unpack DIST.tar.gz in a scratch directory, build it
# there, run the unit tests and the bats suite (not the sanitizer pass and
# not the fuzzers), install it into a DESTDIR and check what was installed.
#
#   tools/distcheck.sh DIR/gather-VERSION.tar.gz
#
# DISTCHECK_BATS names the bats files or directories to run (default
# tests, the whole suite), relative to the unpacked tree.
set -eu

tarball=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
dist=$(basename "$tarball" .tar.gz)
[ -f "$tarball" ] || { echo "distcheck: no $tarball" >&2; exit 1; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

tar -xzf "$tarball" -C "$scratch"
cd "$scratch/$dist"
echo "distcheck: building in $scratch/$dist"
make --no-print-directory -j2 all unit
# A clean environment: the unpacked build is what is tested (no GATHER),
# also when this runs under bats itself.
# (bats puts its own libexec first in PATH, whose bats is not the command.)
path=$(printf '%s\n' "$PATH" | tr : '\n' | grep -v '/bats-core' | paste -sd:)
# shellcheck disable=SC2086 # a list of files
env -i PATH="$path" HOME="${HOME:-/}" LANG="${LANG:-C.UTF-8}" \
	bats ${DISTCHECK_BATS:-tests}

stage=$scratch/stage
make --no-print-directory install DESTDIR="$stage" PREFIX=/usr/local \
	>/dev/null
expected="./usr/local/bin/gather
./usr/local/share/bash-completion/completions/gather
./usr/local/share/man/man1/gather.1
./usr/local/share/zsh/site-functions/_gather"
got=$(cd "$stage" && find . -type f | LC_ALL=C sort)
if [ "$got" != "$expected" ]; then
	echo "distcheck: installed files differ from the expected ones:" >&2
	printf '%s\n' "$got" >&2
	exit 1
fi
"$stage/usr/local/bin/gather" -V | grep -q "^gather ${dist#gather-} " || {
	echo "distcheck: the installed gather does not say ${dist#gather-}" >&2
	exit 1
}
cmp -s "$stage/usr/local/share/man/man1/gather.1" man/gather.1
make --no-print-directory uninstall DESTDIR="$stage" PREFIX=/usr/local \
	>/dev/null
left=$(cd "$stage" && find . -type f)
[ -z "$left" ] || { echo "distcheck: uninstall left $left" >&2; exit 1; }
echo "distcheck: $dist.tar.gz builds, passes its tests and installs"
