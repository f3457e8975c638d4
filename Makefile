# sendguard - GNU Makefile.  Objects go to build/ (normal) and build/san/
# (AddressSanitizer + UBSan, used by `make check`).
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/sbin
MANDIR   ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
DESTDIR  ?=
VERSION  := 0.1.0

CC       ?= cc
PKGS     := libpcre2-8 sqlite3 zlib liblzma libzstd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
# libbz2 ships no pkg-config file on Debian 12 (libbz2-dev has only the
# header and libbz2.so), so it is linked by name.
PKG_LIBS   := $(shell pkg-config --libs $(PKGS)) -lbz2
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
OPT ?= -O2 -g

CFLAGS_ALL := $(WARN) $(DEFS) $(PKG_CFLAGS) $(OPT) $(HARDEN) $(CFLAGS)
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CFLAGS_SAN := $(WARN) $(DEFS) $(PKG_CFLAGS) -O1 -g $(SAN) $(CRIT_CFLAGS) $(CFLAGS)

LIB_SRC  := $(sort $(wildcard util/*.c parsers/*.c store/*.c count/*.c actions/*.c agent/*.c))
LIB_SRC  := $(filter-out agent/main.c,$(LIB_SRC))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TOOL_SRC := $(sort $(wildcard bench/*.c))

LIB_OBJ     := $(LIB_SRC:%.c=build/%.o)
LIB_OBJ_SAN := $(LIB_SRC:%.c=build/san/%.o)
TESTS       := $(TEST_SRC:tests/%.c=build/san/tests/%)
TOOLS       := $(TOOL_SRC:bench/%.c=build/bench/%)

.PHONY: all check samples lint install clean tools bench bench-daemon e2e
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

lint:
	sh tests/lint.sh

install: build/sendguard
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(SYSCONFDIR)/sendguard
	install -m 0755 build/sendguard $(DESTDIR)$(BINDIR)/sendguard
	install -m 0644 man/sendguard.8 $(DESTDIR)$(MANDIR)/man8/sendguard.8
	install -m 0644 man/sendguard.conf.5 $(DESTDIR)$(MANDIR)/man5/sendguard.conf.5
	install -m 0644 agent.conf.example $(DESTDIR)$(SYSCONFDIR)/sendguard/agent.conf.example

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
