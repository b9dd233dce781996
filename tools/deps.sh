#!/bin/sh
# Install what building, demonstrating and testing gather needs on
# Debian 12: with apt-get when run as root, otherwise say what to install.
# Quiet when everything is already there.
#
#   tools/deps.sh build    what `make` and `make demo` need
#   tools/deps.sh          that, and what `make check` needs
#   tools/deps.sh bench    that, and what bench/run.sh needs beyond it
#   tools/deps.sh coverage that, and lcov for `make coverage`
#   tools/deps.sh deb      what `dpkg-buildpackage` and lintian need
set -eu

# Building gather and running the demo: the compiler, the libraries, the
# demo's server (python3) and its reader (jq).
build_packages="build-essential libcurl4-openssl-dev libssl-dev libev-dev
libcjson-dev libjq-dev python3 jq"

# The tests: bats, the clang and sanitizer builds, nginx for TLS and load,
# valgrind, script(1), zsh and bash-completion for the completions, the
# static analyzers, xmllint for reports, and the multi-host test's sshd,
# parallel, rsync (parallel copies files with it) and ip; debhelper and
# fakeroot for the package test (lintian, when present, checks it too).
test_packages="bats bats-assert bats-support curl clang libclang-rt-dev
clang-tools cppcheck nginx-light openssl valgrind bsdutils time zsh
libxml2-utils openssh-server openssh-client parallel rsync iproute2 perl
strace bash-completion debhelper fakeroot"

# The benchmark's peers (wget2, and h2load for scenario h), nginx's echo
# module for its latency scenario (echo_sleep), and taskset to pin the
# client to one core.
bench_packages="wget2 nghttp2-client libnginx-mod-http-echo util-linux"

deb_packages="debhelper dpkg-dev fakeroot lintian"

case "${1:-}" in
build) packages="$build_packages" ;;
"") packages="$build_packages $test_packages" ;;
bench) packages="$build_packages $test_packages $bench_packages" ;;
coverage) packages="$build_packages $test_packages lcov" ;;
deb) packages="$build_packages $deb_packages" ;;
*)
	echo "usage: tools/deps.sh [build|bench|coverage|deb]" >&2
	exit 2
	;;
esac

missing=""
for p in $packages; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages:$missing" >&2
	echo "deps.sh: install them with: sudo apt-get install$missing" >&2
	exit 1
fi
echo "deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
