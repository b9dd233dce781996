#!/usr/bin/env bats
# Distribution: make dist makes gather-VERSION.tar.gz of exactly the
# tracked files (no build products, no CI or benchmark files), make
# distcheck builds and installs it from a scratch directory, and debian/
# builds a package that installs the binary, the man page and both
# completions where Debian looks for them, lintian without errors, leaving
# the tree it was built in as git found it.  Everything is built in
# $BATS_TEST_TMPDIR, never in the source tree.

bats_require_minimum_version 1.5.0
load helper

ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"

setup_file() { start_server; }
teardown_file() { stop_server; }

# The version the source says, as -V prints it.
version() {
	sed -n 's/^#define GATHER_VERSION[^"]*"\(.*\)"/\1/p' \
		"$ROOT/include/gather/cli.h"
}

# make dist needs git: an unpacked tarball (make distcheck) has none.
need_git_checkout() {
	command -v git >/dev/null || skip "git is not installed"
	git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1 ||
		skip "not a git checkout (an unpacked tarball has no make dist)"
}

# The build and the package are gather's own: checked once, with the
# default build, not again in the sanitizer pass of make check.
need_default_build() {
	[[ "$GATHER" -ef "$ROOT/gather" ]] ||
		skip "builds its own gather: checked with the default build only"
}

# make dist into $BATS_TEST_TMPDIR; sets TARBALL.
make_dist() {
	run make -s -C "$ROOT" dist DISTDIR="$BATS_TEST_TMPDIR"
	assert_success
	TARBALL="$BATS_TEST_TMPDIR/gather-$(version).tar.gz"
	[[ -f $TARBALL ]] || fail "no $TARBALL"
}

@test "make dist: gather-VERSION.tar.gz holds the tracked files, nothing else" {
	need_git_checkout
	make_dist
	assert_equal "$(basename "$TARBALL")" "gather-0.3.0.tar.gz"
	d="gather-$(version)"
	tar -tzf "$TARBALL" | LC_ALL=C sort >"$BATS_TEST_TMPDIR/got"
	git -C "$ROOT" ls-files | grep -v -e '^\.ci/' -e '^bench/' |
		sed "s|^|$d/|" | LC_ALL=C sort >"$BATS_TEST_TMPDIR/want"
	run diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	assert_success
	# What building, testing and installing need is there ...
	for f in Makefile LICENSE README.md src/main.c include/gather/cli.h \
		man/gather.1 completions/gather.bash completions/_gather \
		tests/server.py tests/helper.bash tests/unit/check.h \
		tools/completions.sh tools/distcheck.sh fuzz/Makefile.inc \
		debian/control debian/rules debian/source/format; do
		grep -qx "$d/$f" "$BATS_TEST_TMPDIR/got" || fail "no $f"
	done
	# ... and no build product of the work tree, nor the CI's files.
	run grep -E "^$d/(gather|obj/.*|bench/.*|\.ci/.*|.*\.o)$" \
		"$BATS_TEST_TMPDIR/got"
	assert_failure
	# Scripts keep their modes; owners are not the builder's.
	run tar -tvzf "$TARBALL" "$d/debian/rules" "$d/tools/deps.sh"
	assert_line --regexp '^-rwxr-xr-x (root/root|0/0) .*debian/rules$'
	assert_line --regexp '^-rwxr-xr-x (root/root|0/0) .*tools/deps.sh$'
}

@test "make distcheck: the tarball builds, passes its tests and installs" {
	need_default_build
	need_git_checkout
	# The bats suite in full is make distcheck's default; one file here.
	run make -s -C "$ROOT" distcheck DISTDIR="$BATS_TEST_TMPDIR" \
		DISTCHECK_BATS=tests/cli.bats
	assert_success
	assert_line --regexp '^ok 1 '
	refute_line --regexp '^not ok '
	assert_line "distcheck: gather-$(version).tar.gz builds, passes its tests and installs"
}

@test "make install puts the completions where bash-completion and zsh look under PREFIX" {
	run make -s -C "$ROOT" install DESTDIR="$BATS_TEST_TMPDIR/stage" \
		PREFIX=/opt/g
	assert_success
	run sh -c 'cd "$1" && find . -type f | LC_ALL=C sort' _ \
		"$BATS_TEST_TMPDIR/stage"
	assert_output "./opt/g/bin/gather
./opt/g/share/bash-completion/completions/gather
./opt/g/share/man/man1/gather.1
./opt/g/share/zsh/site-functions/_gather"
	run "$BATS_TEST_TMPDIR/stage/opt/g/bin/gather" "$BASE/ok"
	assert_success
	assert_jq '.[0].status == 200 and .[0].ok'
}

@test "debian/: dpkg-buildpackage builds a package that dpkg -x installs" {
	command -v dpkg-buildpackage >/dev/null ||
		skip "dpkg-buildpackage is not installed (tools/deps.sh deb)"
	need_default_build
	need_git_checkout
	make_dist
	tar -xzf "$TARBALL" -C "$BATS_TEST_TMPDIR"
	src="$BATS_TEST_TMPDIR/gather-$(version)"
	# A git tree of its own, to see what the build leaves behind.
	git -C "$src" init -q
	git -C "$src" add -A
	git -C "$src" -c user.name=t -c user.email=t@example.org \
		commit -q -m t
	run sh -c 'cd "$1" && DEB_BUILD_OPTIONS=parallel=2 \
		dpkg-buildpackage -us -uc -b 2>&1' _ "$src"
	assert_success
	deb="$BATS_TEST_TMPDIR/gather_$(version)_$(dpkg --print-architecture).deb"
	[[ -f $deb ]] || fail "no $deb" <<<"$output"
	# The tree is as clean as before, and builds again.
	run git -C "$src" status --porcelain --untracked-files=all
	assert_success
	assert_output ""
	[[ ! -e $src/obj && ! -e $src/gather ]] || fail "build products left"

	root="$BATS_TEST_TMPDIR/root"
	dpkg -x "$deb" "$root"
	for f in usr/bin/gather usr/share/man/man1/gather.1.gz \
		usr/share/bash-completion/completions/gather \
		usr/share/zsh/vendor-completions/_gather \
		usr/share/doc/gather/copyright; do
		[[ -f $root/$f ]] || fail "the package lacks /$f"
	done
	run "$root/usr/bin/gather" -V
	assert_output --regexp "^gather $(version) "
	run --separate-stderr "$root/usr/bin/gather" -f "$BASE/ok" \
		"$BASE/status/404"
	assert_failure 1
	assert_jq 'map([.status, .ok]) == [[200, true], [404, false]]'
	zcat "$root/usr/share/man/man1/gather.1.gz" | cmp -s - "$ROOT/man/gather.1" ||
		fail "the man page is not man/gather.1"
	run bash --norc -c 'source "$1"; COMP_WORDS=(gather --stats=); COMP_CWORD=1
		COMP_WORDS=(gather --for); _gather; printf "%s\n" "${COMPREPLY[@]}"' \
		_ "$root/usr/share/bash-completion/completions/gather"
	assert_output "--format"
	if command -v lintian >/dev/null; then
		run lintian --fail-on error \
			"$BATS_TEST_TMPDIR/gather_$(version)_$(dpkg --print-architecture).changes"
		assert_success
		refute_output --regexp '^E: '
	fi
}

@test "the README's completion set-up: zsh finds _gather, bash the completion file" {
	stage="$BATS_TEST_TMPDIR/stage"
	run make -s -C "$ROOT" install DESTDIR="$stage" PREFIX=/usr/local
	assert_success
	if command -v zsh >/dev/null; then
		# zsh searches /usr/local/share/zsh/site-functions by itself ...
		run zsh -fc 'print -l $fpath'
		assert_line /usr/local/share/zsh/site-functions
		# ... and compinit takes _gather from there for gather.
		run env HOME="$BATS_TEST_TMPDIR" zsh -fc 'fpath=("$1" $fpath)
			autoload -Uz compinit; compinit -D -u
			print -r -- ${_comps[gather]}' _ \
			"$stage/usr/local/share/zsh/site-functions"
		assert_output _gather
	fi
	# Sourced from ~/.bashrc, as the README says, without bash-completion.
	run bash --norc -c 'source "$1"; complete -p gather' _ \
		"$stage/usr/local/share/bash-completion/completions/gather"
	assert_output 'complete -F _gather gather'
	# bash-completion, where installed, loads it on demand from ~/.local.
	bc=/usr/share/bash-completion/bash_completion
	[[ -r $bc ]] || skip "bash-completion is not installed"
	run make -s -C "$ROOT" install PREFIX="$BATS_TEST_TMPDIR/home/.local"
	assert_success
	run env HOME="$BATS_TEST_TMPDIR/home" XDG_DATA_HOME= bash --norc -c \
		'source "$1"; _completion_loader gather; complete -p gather' _ "$bc"
	assert_output 'complete -F _gather gather'
}

@test "no file in the tree holds a merge's conflict markers" {
	run grep -rlE '^(<<<<<<<|>>>>>>>)( |$)' --exclude-dir=.git \
		--exclude-dir=obj --exclude-dir=corpus "$ROOT"
	assert_failure 1
	assert_output ""
}
