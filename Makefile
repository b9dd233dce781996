# gather: fetch many URLs concurrently, results in input order as JSON.
#
#   make            build ./gather
#   make check      install missing packages, build, run every test, then
#                   the bats suite again on an ASan+UBSan build
#   make demo       fetch a URL list from a local server, piped to jq
#   make completions  write completions/ again from the option table
#   make analyze    clang's static analyzer and cppcheck over src/ (check)
#   make coverage   unit tests and bats on a --coverage build; lcov report
#   make soak-big   100,000 records at -c 1000 under ASan, nginx and faults
#   make install    PREFIX=/usr/local DESTDIR= (binary, man page, completions)
#   make dist       gather-VERSION.tar.gz of the tracked files a build needs
#                   (into DISTDIR=.)
#   make distcheck  unpack that, build, run its tests, install into a DESTDIR

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man/man1
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
CC	?= cc
CFLAGS	?= -O2 -g
WARN	 = -std=c11 -Wall -Wextra -Wshadow -Wpointer-arith \
	   -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
ifneq ($(USE_WERROR),0)
WARN	+= -Werror
endif
CPPFLAGS += -Iinclude -D_POSIX_C_SOURCE=200809L
LDLIBS	 = -lcurl -lcrypto -lev -lcjson -ljq -lm
SAN	 = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	   -fno-omit-frame-pointer

SRC	 = $(wildcard src/*.c)
OBJ	 = $(SRC:src/%.c=obj/%.o)
LIBOBJ	 = $(filter-out obj/main.o,$(OBJ))
ASANOBJ	 = $(SRC:src/%.c=obj/asan/%.o)
UNITSRC	 = $(wildcard tests/unit/*.c)
UNIT	 = $(UNITSRC:tests/unit/%.c=obj/%)

ifeq ($(V),1)
Q =
else
Q = @
endif

VERSION	:= $(shell sed -n 's/^\#define GATHER_VERSION[^"]*"\(.*\)"/\1/p' \
	include/gather/cli.h)
DIST	 = gather-$(VERSION)
DISTDIR	?= .
# The tracked files but those only the CI and the benchmark use.
DISTSKIP = -e '^\.ci/' -e '^bench/'
DISTCHECK_BATS ?= tests

.PHONY: all check test unit bats bats-asan asan soak soak-big clang-check deps demo install \
	uninstall clean bench completions dist distcheck \
	analyze coverage

all: gather

gather: $(OBJ)
	@echo "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(OBJ) $(LDLIBS)

obj/%.o: src/%.c | obj
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -MMD -MP -c -o $@ $<

obj/asan/%.o: src/%.c | obj/asan
	@echo "  CC      $< (asan)"
	$(Q)$(CC) $(CPPFLAGS) $(WARN) -O1 -g $(SAN) -MMD -MP -c -o $@ $<

obj/asan/gather: $(ASANOBJ)
	@echo "  LINK    $@"
	$(Q)$(CC) -g $(SAN) -o $@ $(ASANOBJ) $(LDLIBS)

# Each tests/unit/NAME.c is a program of its own, linked against the modules.
obj/%: tests/unit/%.c $(LIBOBJ) | obj
	@echo "  LINK    $@"
	$(Q)$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ $< $(LIBOBJ) $(LDLIBS)

obj obj/asan:
	$(Q)mkdir -p $@

asan: obj/asan/gather

# tests/faults.bats preloads it to make chosen library calls fail.
obj/faultinj.so: tools/faultinj.c | obj
	@echo "  CC      $@"
	$(Q)$(CC) $(WARN) -O2 -g -fPIC -shared -o $@ $< -ldl

# Both completions come from the option table (src/cli.c); tests/docs.bats
# fails when the committed files are not what this writes.
completions: gather
	@echo "  GEN     completions/gather.bash completions/_gather"
	$(Q)tools/completions.sh ./gather completions

deps:
	$(Q)tools/deps.sh

unit: $(UNIT)
	$(Q)for t in $(UNIT); do $$t || exit 1; done

bats: gather obj/faultinj.so
	bats tests

bats-asan: obj/asan/gather obj/faultinj.so
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	GATHER=$(CURDIR)/obj/asan/gather bats tests

test: unit bats

# The sources must also compile clean under clang.
clang-check:
	@echo "  CLANG   src/*.c (-fsyntax-only)"
	$(Q)for f in $(SRC); do \
		clang $(CPPFLAGS) $(WARN) -fsyntax-only $$f || exit 1; \
	done

soak: obj/asan/gather
	SOAK_C=128 tests/soak.sh obj/asan/gather

# Not in check: a few minutes of both cores.  nginx gives the ordinary
# answers, tests/server.py the resets, hangs and 503s.
soak-big: obj/asan/gather
	SOAK_N=100000 SOAK_C=1000 SOAK_NGINX=1 SOAK_TIMEOUT=1800 \
		nice -n 10 tests/soak.sh obj/asan/gather

# Sub-makes, so that the packages are there before anything compiles.
check: deps
	$(Q)$(MAKE) --no-print-directory all unit clang-check
	$(Q)$(MAKE) --no-print-directory analyze
	$(Q)$(MAKE) --no-print-directory bats
	$(Q)$(MAKE) --no-print-directory bats-asan
	$(Q)$(MAKE) --no-print-directory soak
	$(Q)$(MAKE) --no-print-directory fuzz-check

demo:
	$(Q)tools/deps.sh build
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tools/demo.sh

bench: all
	bench/run.sh

install: gather
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 755 gather $(DESTDIR)$(BINDIR)/gather
	install -m 644 man/gather.1 $(DESTDIR)$(MANDIR)/gather.1
	install -m 644 completions/gather.bash $(DESTDIR)$(BASHCOMPDIR)/gather
	install -m 644 completions/_gather $(DESTDIR)$(ZSHCOMPDIR)/_gather

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/gather $(DESTDIR)$(MANDIR)/gather.1 \
		$(DESTDIR)$(BASHCOMPDIR)/gather $(DESTDIR)$(ZSHCOMPDIR)/_gather

# From the git index, so that nothing the work tree holds besides (builds,
# scratch files, dpkg-buildpackage's output) gets in.
dist:
	@echo "  DIST    $(DIST).tar.gz"
	$(Q)git rev-parse --is-inside-work-tree >/dev/null 2>&1 || \
		{ echo "make dist: needs a git checkout" >&2; exit 1; }
	$(Q)git ls-files | grep -v $(DISTSKIP) | LC_ALL=C sort | \
		tar -c -z -f $(DISTDIR)/$(DIST).tar.gz --no-recursion \
		--transform 's|^|$(DIST)/|' --owner=0 --group=0 \
		--numeric-owner --mtime="$$(git log -1 --format=%cI)" -T -

distcheck: dist
	$(Q)DISTCHECK_BATS="$(DISTCHECK_BATS)" tools/distcheck.sh \
		$(DISTDIR)/$(DIST).tar.gz

clean:
	rm -rf obj gather fuzz/obj $(DIST) $(DIST).tar.gz

# ---- static analysis --------------------------------------------------------
#
# scan-build (clang's analyzer, default checkers) compiles src/ again into
# obj/analyze/, reports under obj/analyze-report/; cppcheck reads src/.
# Either fails the target on any report.  Fix the code, or restructure it
# until the analyzer sees why it is right; only where that is impossible,
# suppress on the line itself with the reason:
#     /* cppcheck-suppress ID ; why it is right */
#     #ifndef __clang_analyzer__ ... #endif, with a comment saying why

ANAOBJ	 = $(SRC:src/%.c=obj/analyze/%.o)
CPPCHECK_FLAGS = --enable=warning,performance,portability --std=c11 \
	   --inline-suppr --error-exitcode=1 --quiet \
	   -Iinclude -D_POSIX_C_SOURCE=200809L

.PHONY: analyze-objs

obj/analyze/%.o: src/%.c
	@echo "  ANALYZE $<"
	$(Q)mkdir -p obj/analyze
	$(Q)$(CC) $(CPPFLAGS) $(WARN) -O0 -c -o $@ $<

analyze-objs: $(ANAOBJ)

analyze:
	$(Q)rm -rf obj/analyze obj/analyze-report
	$(Q)scan-build --status-bugs --use-cc=clang -o obj/analyze-report \
		$(MAKE) --no-print-directory analyze-objs
	@echo "  CPPCHECK src/"
	$(Q)cppcheck $(CPPCHECK_FLAGS) src/

# ---- coverage ---------------------------------------------------------------
#
# src/ compiled again with --coverage into obj/cov/ (objects of its own),
# the unit tests linked against those, the bats files of COV_BATS (all)
# run on obj/cov/gather; then lcov's summary per file (lines and branches)
# and genhtml's report in obj/coverage/index.html.  The target fails when a
# test failed or src/ is under COV_MIN_LINES % of lines or COV_MIN_BRANCHES
# % of branches.  Not part of check: the bats suite on an -O0 build is slow.

COVOBJ	 = $(SRC:src/%.c=obj/cov/%.o)
COVLIB	 = $(filter-out obj/cov/main.o,$(COVOBJ))
COVUNIT	 = $(UNITSRC:tests/unit/%.c=obj/cov/unit/%)
COVFLAGS = -O0 -g --coverage
COV_BATS ?= tests
COV_MIN_LINES ?= 93
COV_MIN_BRANCHES ?= 85
LCOV	 = lcov --rc lcov_branch_coverage=1 --quiet

.PHONY: coverage-build coverage-report

obj/cov/%.o: src/%.c
	@echo "  CC      $< (coverage)"
	$(Q)mkdir -p obj/cov
	$(Q)$(CC) $(CPPFLAGS) $(WARN) $(COVFLAGS) -MMD -MP -c -o $@ $<

# _exit (a -j worker, a second signal) skips gcov's writing at exit:
# tools/cov_exit.c writes the counts first.
obj/cov/cov_exit.o: tools/cov_exit.c
	$(Q)mkdir -p obj/cov
	$(Q)$(CC) -O0 -g -c -o $@ $<

obj/cov/gather: $(COVOBJ) obj/cov/cov_exit.o
	@echo "  LINK    $@"
	$(Q)$(CC) $(COVFLAGS) -Wl,--wrap=_exit -o $@ $(COVOBJ) \
		obj/cov/cov_exit.o $(LDLIBS)

obj/cov/unit/%: tests/unit/%.c $(COVLIB)
	@echo "  LINK    $@"
	$(Q)mkdir -p obj/cov/unit
	$(Q)$(CC) $(CPPFLAGS) $(WARN) $(COVFLAGS) -o $@ $< $(COVLIB) $(LDLIBS)

coverage-build: obj/cov/gather $(COVUNIT) obj/faultinj.so

coverage: coverage-build
	$(Q)rm -rf obj/coverage
	$(Q)find obj/cov -name '*.gcda' -delete
	$(Q)st=0; for t in $(COVUNIT); do $$t >/dev/null || st=1; done; \
	nice -n 10 env GATHER=$(CURDIR)/obj/cov/gather bats $(COV_BATS) || st=1; \
	$(MAKE) --no-print-directory coverage-report || st=1; \
	[ $$st = 0 ] || echo "coverage: a test failed or a floor was missed"; \
	exit $$st

# The report of what obj/cov/ has gathered so far; the floors checked.
coverage-report:
	$(Q)mkdir -p obj/coverage
	$(Q)$(LCOV) --capture --directory obj/cov \
		--output-file obj/coverage/all.info 2>obj/coverage/lcov.log || \
		{ cat obj/coverage/lcov.log; exit 1; }
	$(Q)$(LCOV) --extract obj/coverage/all.info '$(CURDIR)/src/*' \
		--output-file obj/coverage/src.info
	$(Q)$(LCOV) --list obj/coverage/src.info | sed 's|$(CURDIR)/||'
	$(Q)genhtml --quiet --branch-coverage --rc lcov_branch_coverage=1 \
		--output-directory obj/coverage obj/coverage/src.info
	$(Q)lcov --rc lcov_branch_coverage=1 --summary obj/coverage/src.info 2>&1 | \
		awk -v l=$(COV_MIN_LINES) -v b=$(COV_MIN_BRANCHES) \
		'/lines\.*:/ { L = $$2 + 0 } /branches\.*:/ { B = $$2 + 0 } \
		END { printf "coverage: src/ %.1f %% of lines (floor %s), " \
		"%.1f %% of branches (floor %s); obj/coverage/index.html\n", \
		L, l, B, b; exit !(L >= l && B >= b) }'

-include $(COVOBJ:.o=.d)

include fuzz/Makefile.inc

-include $(OBJ:.o=.d) $(ASANOBJ:.o=.d)
