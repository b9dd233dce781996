# gather: fetch many URLs concurrently, results in input order as JSON.
#
#   make            build ./gather
#   make check      install missing packages, build, run every test, then
#                   the bats suite again on an ASan+UBSan build
#   make demo       fetch a URL list from a local server, piped to jq
#   make completions  write completions/ again from the option table
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

.PHONY: all check test unit bats bats-asan asan soak clang-check deps demo install \
	uninstall clean bench completions dist distcheck

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

# Both completions come from the option table (src/cli.c); tests/docs.bats
# fails when the committed files are not what this writes.
completions: gather
	@echo "  GEN     completions/gather.bash completions/_gather"
	$(Q)tools/completions.sh ./gather completions

deps:
	$(Q)tools/deps.sh

unit: $(UNIT)
	$(Q)for t in $(UNIT); do $$t || exit 1; done

bats: gather
	bats tests

bats-asan: obj/asan/gather
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

# Sub-makes, so that the packages are there before anything compiles.
check: deps
	$(Q)$(MAKE) --no-print-directory all unit clang-check
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

include fuzz/Makefile.inc

-include $(OBJ:.o=.d) $(ASANOBJ:.o=.d)
