# sendguard - GNU Makefile.  Objects go to build/ (normal) and build/san/
# (AddressSanitizer + UBSan, used by `make check`).
# Install paths (`make install`, see README "Installing").  BINDIR is the
# old name of SBINDIR and still works.  UNITDIR is /lib/systemd/system for
# PREFIX=/usr (Debian 12's systemd unit directory), else PREFIX/lib/systemd/system,
# which systemd also searches for /usr/local.
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/sbin
SBINDIR  ?= $(BINDIR)
MANDIR   ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR  ?= $(if $(filter /usr,$(PREFIX)),/lib,$(PREFIX)/lib)/systemd/system
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
DESTDIR  ?=
VERSION  := 0.1.0

CC       ?= cc
PKGS     := libpcre2-8 sqlite3 zlib liblzma libzstd libsystemd
# libpq: the cluster's PostgreSQL.  Its header only (store/pg.c and
# store/pg_lib.c include libpq-fe.h): it is not linked but dlopened by
# store/pg_lib.c when a [cluster] section is read, as linked it and the
# 22 libraries it pulls in cost every exec about 3 ms.  dlopen is in
# glibc's libc since 2.34 (Debian 12 has 2.36): no -ldl.
PKGS_HDR := libpq
# libisal (Intel ISA-L, Debian package libisal-dev): gzip logs inflate about
# twice as fast as with zlib (count/source.c).  Debian builds it for a few
# architectures only; without it (or with ISAL=no) zlib inflates gzip.
ISAL ?= $(shell pkg-config --exists libisal && echo yes)
ifeq ($(ISAL),yes)
PKGS     += libisal
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) $(PKGS_HDR))
# libbz2 ships no pkg-config file on Debian 12 (libbz2-dev has only the
# header and libbz2.so), so it is linked by name.
PKG_LIBS   := $(shell pkg-config --libs $(PKGS)) -lbz2 -pthread
CRIT_CFLAGS := $(shell pkg-config --cflags criterion 2>/dev/null)
CRIT_LIBS   := $(shell pkg-config --libs criterion 2>/dev/null || echo -lcriterion)

WARN := -std=c11 -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wcast-qual -Wpointer-arith -Wwrite-strings -Wvla \
	-Wimplicit-fallthrough -fno-common
ifneq ($(CI),)
WARN += -Werror
endif
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
HARDEN_LD := -pie -Wl,-z,relro,-z,now
DEFS := -D_GNU_SOURCE -DSG_VERSION='"$(VERSION)"' -I.
ifeq ($(ISAL),yes)
DEFS += -DHAVE_ISAL
endif
OPT ?= -O2 -g

CFLAGS_ALL := $(WARN) $(DEFS) $(PKG_CFLAGS) $(OPT) $(HARDEN) $(CFLAGS)
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CFLAGS_SAN := $(WARN) $(DEFS) $(PKG_CFLAGS) -O1 -g $(SAN) $(CRIT_CFLAGS) $(CFLAGS)

LIB_SRC  := $(sort $(wildcard util/*.c parsers/*.c store/*.c count/*.c actions/*.c cluster/*.c agent/*.c))
LIB_SRC  := $(filter-out agent/main.c,$(LIB_SRC))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TOOL_SRC := $(sort $(wildcard bench/*.c))

LIB_OBJ     := $(LIB_SRC:%.c=build/%.o)
LIB_OBJ_SAN := $(LIB_SRC:%.c=build/san/%.o)
TESTS       := $(TEST_SRC:tests/%.c=build/san/tests/%)
TOOLS       := $(TOOL_SRC:bench/%.c=build/bench/%)

.PHONY: all check samples lint install uninstall test-install deb clean tools bench bench-daemon \
	bench-compare bench-memory bench-cluster e2e fuzz fuzz-build
all: build/sendguard $(TOOLS)

build/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

build/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_SAN) -MMD -MP -c $< -o $@

build/libsendguard.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

build/san/libsendguard.a: $(LIB_OBJ_SAN)
	rm -f $@ && ar rcs $@ $^

build/sendguard: build/agent/main.o build/libsendguard.a
	$(CC) $(HARDEN_LD) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

build/san/sendguard: build/san/agent/main.o build/san/libsendguard.a
	$(CC) $(SAN) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

build/san/tests/%: tests/%.c build/san/libsendguard.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_SAN) -MMD -MP -o $@ $< build/san/libsendguard.a $(PKG_LIBS) $(CRIT_LIBS) -lm

# Where ISA-L inflates gzip, the gzip suite runs once more against
# count/source.c compiled without it: zlib's inflater, as a build on an
# architecture without libisal-dev has it, must take the same files.
ifeq ($(ISAL),yes)
TESTS += build/san/tests/test_gzip_zlib
build/san/zlib/count/source.o: count/source.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_SAN) -UHAVE_ISAL -MMD -MP -c $< -o $@

build/san/tests/test_gzip_zlib: tests/test_gzip.c build/san/zlib/count/source.o build/san/libsendguard.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_SAN) -DSG_GZIP_EXPECT='"zlib"' -o $@ $< build/san/zlib/count/source.o \
		build/san/libsendguard.a $(PKG_LIBS) $(CRIT_LIBS) -lm
endif

build/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(HARDEN_LD) -o $@ $< -lm

tools: $(TOOLS)

# `make check`: every Criterion suite under ASan+UBSan, then the sample diffs,
# closing with one line "check: N passed, N failed, N skipped (why)".  The
# tests of the real logs in $(SG_SHARED)/logs are skipped when it is absent
# (a clone without ../shared beside it).
SG_SHARED ?= $(CURDIR)/../shared
check: $(TESTS) build/san/sendguard build/sendguard $(TOOLS)
	@SG_BIN=$(CURDIR)/build/san/sendguard SG_TOOLS=$(CURDIR)/build/bench \
	SG_SHARED=$(SG_SHARED) ASAN_OPTIONS=detect_leaks=1 \
	sh tests/run.sh $(TESTS)

samples: build/san/sendguard
	@SG_BIN=$(CURDIR)/build/san/sendguard sh tests/samples.sh

bench: all
	sh bench/audit-speed.sh

# `make e2e`: a throwaway Postfix + Cyrus SASL instance on 127.0.0.1, driven by
# swaks and sendmail, with sendguard enforcing through the real programs.
# As root; packages from `sh .ci/install-deps --e2e`.
e2e: build/sendguard
	bash tests/e2e/run.sh

bench-daemon: all
	sh bench/daemon-latency.sh

# `make bench-compare`: sendguard beside grep, wc, pflogsumm and
# fail2ban-regex in one interleaved run, and the daemon's catch-up, CPU
# and latency (bench/compare; BENCH_* variables there).
bench-compare: all
	sh bench/compare

# `make bench-memory`: the daemon's peak RSS for 100k and 400k distinct logins
# at the same rate (bench/memory.sh); fails if the second exceeds 1.5 x the first.
bench-memory: all
	sh bench/memory.sh

# `make bench-cluster`: the cluster's publish and exchange rates and the
# latency of its verdicts, against a throwaway PostgreSQL (bench/cluster.sh)
bench-cluster: all
	sh bench/cluster.sh

lint:
	sh tests/lint.sh

# `make fuzz [FUZZ_SECONDS=N]`: the libFuzzer targets of fuzz/ (the line
# parser, the configuration reader, the control-socket request parser),
# built with clang and -fsanitize=fuzzer,address,undefined over the same
# sources as the library (objects in build/fuzz/obj/), each run N seconds
# (default 60) into its corpus in build/fuzz/corpus/ by fuzz/run.sh, which
# fails on any crash and ends with each target's executions.  Packages:
# clang and libclang-rt-14-dev (sh .ci/install-deps --fuzz).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS  := $(filter-out -Werror,$(WARN)) $(DEFS) $(PKG_CFLAGS) -O1 -g \
	-fno-omit-frame-pointer -fno-sanitize-recover=undefined
FUZZ_SRC     := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BIN     := $(FUZZ_SRC:fuzz/%.c=build/fuzz/%)
LIB_OBJ_FUZZ := $(LIB_SRC:%.c=build/fuzz/obj/%.o)

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -MMD -MP -c $< -o $@

build/fuzz/libsendguard.a: $(LIB_OBJ_FUZZ)
	rm -f $@ && ar rcs $@ $^

build/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h build/fuzz/libsendguard.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< \
		build/fuzz/libsendguard.a $(PKG_LIBS) -lm

fuzz-build: $(FUZZ_BIN)

fuzz: $(FUZZ_BIN)
	sh fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

# `make install`: the binary, both man pages, the systemd unit (its paths
# substituted from SBINDIR and SYSCONFDIR), the bash completion, whatever
# fail2ban files contrib/fail2ban/ holds (each DIR/NAME.conf, as
# filter.d/sendguard.conf or jail.d/sendguard.conf, to SYSCONFDIR/fail2ban/DIR/),
# agent.conf.example, and agent.conf from it only when there is none: an
# existing configuration is never overwritten.  F2B_SRC is for the test.
F2B_SRC   ?= contrib/fail2ban
F2B_FILES := $(sort $(wildcard $(F2B_SRC)/*/*.conf))
CONF_DIR  := $(DESTDIR)$(SYSCONFDIR)/sendguard
UNIT_SED  := -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'

install: build/sendguard
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(BASHCOMPDIR) $(CONF_DIR)
	install -m 0755 build/sendguard $(DESTDIR)$(SBINDIR)/sendguard
	install -m 0644 man/sendguard.8 $(DESTDIR)$(MANDIR)/man8/sendguard.8
	install -m 0644 man/sendguard.conf.5 $(DESTDIR)$(MANDIR)/man5/sendguard.conf.5
	sed $(UNIT_SED) contrib/sendguard.service.in >$(DESTDIR)$(UNITDIR)/sendguard.service.tmp
	@if grep -n '@[A-Z]*@' $(DESTDIR)$(UNITDIR)/sendguard.service.tmp; then \
		echo "install: unsubstituted @NAME@ in the unit (above)" >&2; exit 1; fi
	chmod 0644 $(DESTDIR)$(UNITDIR)/sendguard.service.tmp
	mv -f $(DESTDIR)$(UNITDIR)/sendguard.service.tmp $(DESTDIR)$(UNITDIR)/sendguard.service
	install -m 0644 contrib/bash-completion/sendguard $(DESTDIR)$(BASHCOMPDIR)/sendguard
	@set -e; for f in $(F2B_FILES); do \
		d=$(DESTDIR)$(SYSCONFDIR)/fail2ban/$$(basename $$(dirname $$f)); \
		echo "install -m 0644 $$f $$d/"; install -d $$d; install -m 0644 $$f $$d/; \
	done
	install -m 0644 agent.conf.example $(CONF_DIR)/agent.conf.example
	@if [ -e $(CONF_DIR)/agent.conf ]; then \
		echo "install: keeping the existing $(CONF_DIR)/agent.conf"; \
	else \
		echo "install -m 0640 agent.conf.example $(CONF_DIR)/agent.conf"; \
		install -m 0640 agent.conf.example $(CONF_DIR)/agent.conf; \
	fi

# `make uninstall`: what install put there, but agent.conf (your edits).
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/sendguard $(DESTDIR)$(MANDIR)/man8/sendguard.8 \
		$(DESTDIR)$(MANDIR)/man5/sendguard.conf.5 $(DESTDIR)$(UNITDIR)/sendguard.service \
		$(DESTDIR)$(BASHCOMPDIR)/sendguard $(CONF_DIR)/agent.conf.example
	@for f in $(F2B_FILES); do \
		f=$(DESTDIR)$(SYSCONFDIR)/fail2ban/$$(basename $$(dirname $$f))/$$(basename $$f); \
		echo "rm -f $$f"; rm -f $$f; \
	done
	@if [ -e $(CONF_DIR)/agent.conf ]; then echo "uninstall: $(CONF_DIR)/agent.conf kept"; fi

# `make test-install`: install into a temporary DESTDIR and check the tree
# (tests/install.sh; the unit with systemd-analyze when it is installed).
test-install: build/sendguard
	sh tests/install.sh

# `make deb`: the Debian package, built by dpkg-buildpackage -b from a copy
# of the tree in build/deb/ (dpkg-buildpackage writes beside the tree it
# builds), then lintian, which fails the target on any error (E:).  The
# .deb ends in build/deb/.  Packages: `sh .ci/install-deps --pkg`.
DEB_DIR := build/deb
deb:
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/sendguard-$(VERSION)
	tar -cf - --exclude=./build --exclude=./.git --exclude=./debian/sendguard \
		--exclude=./debian/.debhelper . | tar -xf - -C $(DEB_DIR)/sendguard-$(VERSION)
	cd $(DEB_DIR)/sendguard-$(VERSION) && dpkg-buildpackage -b -us -uc
	lintian --fail-on error --display-info $(DEB_DIR)/sendguard_$(VERSION)_*.changes

clean:
	rm -rf build

-include $(shell find build -path build/deb -prune -o -type f -name '*.d' -print 2>/dev/null)
