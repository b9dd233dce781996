#!/bin/sh
# Install what building and testing gather needs on Debian 12: with
# apt-get when run as root, otherwise say what to install.  Quiet when
# everything is already there.
#
#   tools/deps.sh         what `make check` needs
#   tools/deps.sh bench   that, and what bench/run.sh needs beyond it
set -eu

packages="build-essential libcurl4-openssl-dev libssl-dev libev-dev libcjson-dev bats
bats-assert bats-support jq python3 curl clang libclang-rt-dev nginx-light
openssl valgrind bsdutils time zsh"

# The benchmark's peers (wget2), nginx's echo module for its latency
# scenario (echo_sleep), and taskset to pin the client to one core.
bench_packages="wget2 libnginx-mod-http-echo util-linux"

case "${1:-}" in
"") ;;
bench) packages="$packages $bench_packages" ;;
*)
	echo "usage: tools/deps.sh [bench]" >&2
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
	echo "gather: missing packages:$missing" >&2
	echo "gather: install them with: sudo apt-get install$missing" >&2
	exit 1
fi
echo "gather: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
