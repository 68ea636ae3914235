# hisimig-trace: one `make` builds the tool; `make check` runs every test tier.
CC      ?= gcc
CFLAGS  ?= -O2 -g
BUILD   := build
BIN     := hisimig-trace

# An arm64 guest (GUEST_ARCH=arm64, see docs/arm64.md) runs everything built
# for it with Debian's cross toolchain into build/arm64/: the tool, its BPF
# objects (arm64 vmlinux.h and __TARGET_ARCH), the guest helpers and modules.
GUEST_ARCH ?= amd64
ifeq ($(GUEST_ARCH),arm64)
CROSS_COMPILE ?= aarch64-linux-gnu-
CC       := $(CROSS_COMPILE)gcc
BUILD    := build/arm64
BIN      := $(BUILD)/hisimig-trace
BPF_ARCH := arm64
KBUILD_CROSS := ARCH=arm64 CROSS_COMPILE=$(CROSS_COMPILE)
endif

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CPPFLAGS := -Iinclude -Isrc -I$(BUILD)/gen -D_GNU_SOURCE
STD     := -std=gnu11
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# Every userspace source but the entry point is library code shared by the
# binary and the unit tests.
LIB_SRCS  := $(filter-out src/main.c,$(wildcard src/*.c src/analyzers/*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
ASAN_OBJS := $(LIB_SRCS:%.c=$(BUILD)/asan/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/unit/%)
HDRS      := $(wildcard include/hisimig/*.h src/*.h src/analyzers/*.h)

LDLIBS  := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz)

.PHONY: all deps deps-test clean check unit cli demo asan arm64
all: $(BIN)

# The arm64 build alone (build/arm64/hisimig-trace).
arm64:
	@scripts/install-deps.sh arm64
	$(MAKE) GUEST_ARCH=arm64 all

deps:
	@scripts/install-deps.sh build

deps-test:
	@scripts/install-deps.sh test

$(BUILD)/obj/%.o: %.c $(HDRS) | gen-headers
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CFLAGS) $(WARN) $(CPPFLAGS) -c $< -o $@

$(BUILD)/asan/%.o: %.c $(HDRS) | gen-headers
	@mkdir -p $(dir $@)
	$(CC) $(STD) -O1 -g $(SAN) $(WARN) $(CPPFLAGS) -c $< -o $@

$(BIN): $(LIB_OBJS) $(BUILD)/obj/src/main.o
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lpthread

# The sanitizer build the tests run.
$(BUILD)/asan/$(BIN): $(ASAN_OBJS) $(BUILD)/asan/src/main.o
	$(CC) $(SAN) -o $@ $^ $(LDLIBS) -lpthread
asan: $(BUILD)/asan/$(BIN)

$(BUILD)/unit/%: tests/unit/%.c $(ASAN_OBJS) tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(STD) -O1 -g $(SAN) $(WARN) -Wno-missing-prototypes $(CPPFLAGS) -Itests/unit \
		-o $@ $< $(ASAN_OBJS) -lcmocka $(LDLIBS) -lpthread

unit: deps-test $(UNIT_BINS)
	@tests/run-unit.sh $(UNIT_BINS)

cli: deps-test $(BUILD)/asan/$(BIN)
	HISIMIG=$(CURDIR)/$(BUILD)/asan/$(BIN) bats tests/cli

# Host tiers first (fast, no guest), then the guest tier; last the guest
# that deadlocks on purpose (fault 3), judged from the host.
check: deps-test
	$(MAKE) unit
	$(MAKE) cli
	FUZZ_SEED=1 $(MAKE) fuzz FUZZ_SECONDS=20
	$(MAKE) vm-check
	$(MAKE) kmod-deadlock-check

demo: deps $(BIN)
	@scripts/demo.sh

clean:
	rm -rf $(BUILD) $(BIN)

# make install [PREFIX=/usr/local] [DESTDIR=/staging]: the binary (its BPF
# objects are embedded), the man page, bash completion, the exporter's
# systemd unit, and the Grafana dashboards and Prometheus rules under
# share/hisimig-trace/.
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/sbin
DATADIR    ?= $(PREFIX)/share
MANDIR     ?= $(DATADIR)/man
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
UNITDIR    ?= $(PREFIX)/lib/systemd/system
INSTALL    ?= install

.PHONY: install uninstall
install: $(BIN)
	$(INSTALL) -D -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/hisimig-trace
	$(INSTALL) -D -m 0644 dist/hisimig-trace.8 $(DESTDIR)$(MANDIR)/man8/hisimig-trace.8
	$(INSTALL) -D -m 0644 dist/hisimig-trace.bash-completion $(DESTDIR)$(BASHCOMPDIR)/hisimig-trace
	@mkdir -p $(DESTDIR)$(UNITDIR)
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@DATADIR@|$(DATADIR)|g' \
		dist/hisimig-trace-exporter.service >$(DESTDIR)$(UNITDIR)/hisimig-trace-exporter.service
	cd dashboards && find . -type f \( -name '*.y*ml' -o -name '*.json' \) ! -name '*.test.yml' | while read -r f; do \
		$(INSTALL) -D -m 0644 "$$f" "$(DESTDIR)$(DATADIR)/hisimig-trace/dashboards/$$f" || exit 1; done
	$(INSTALL) -D -m 0644 LICENSE $(DESTDIR)$(DATADIR)/doc/hisimig-trace/LICENSE

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/hisimig-trace $(DESTDIR)$(MANDIR)/man8/hisimig-trace.8 \
		$(DESTDIR)$(BASHCOMPDIR)/hisimig-trace $(DESTDIR)$(UNITDIR)/hisimig-trace-exporter.service
	rm -rf $(DESTDIR)$(DATADIR)/hisimig-trace $(DESTDIR)$(DATADIR)/doc/hisimig-trace

# Generated headers (BPF skeletons, vmlinux.h) land in build/gen.
.PHONY: gen-headers
gen-headers:
	@mkdir -p $(BUILD)/gen

# A plain `make` (and the other host goals) never asks apt for the guest
# kernel's release: rules that name it are parsed, never run, for them.
HOST_GOALS := all clean install uninstall asan bpf unit cli deps deps-test rules-check
ifeq ($(filter-out $(HOST_GOALS),$(or $(MAKECMDGOALS),all)),)
GUEST_KVER := unused-by-host-goals
endif

-include mk/*.mk
