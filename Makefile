# hisimig-trace: one `make` builds the tool; `make check` runs every test tier.
CC      ?= gcc
# Link-time optimization lets the analyzers inline the lock tracker's and
# hash map's small functions across files: a replay needs ~14% less CPU.
CFLAGS  ?= -O2 -g -flto=auto
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

# Header dependencies come from the compiler: each compile also writes
# TARGET.d listing the headers it read (-MMD), with an empty rule per header
# (-MP) so that a removed header does not stop the build. A first build has
# no .d files and compiles everything anyway.
DEPFLAGS  := -MMD -MP

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

$(BUILD)/obj/%.o: %.c | gen-headers
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CFLAGS) $(WARN) $(CPPFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/asan/%.o: %.c | gen-headers
	@mkdir -p $(dir $@)
	$(CC) $(STD) -O1 -g $(SAN) $(WARN) $(CPPFLAGS) $(DEPFLAGS) -c $< -o $@

$(BIN): $(LIB_OBJS) $(BUILD)/obj/src/main.o
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lpthread

# The sanitizer build the tests run.
$(BUILD)/asan/$(BIN): $(ASAN_OBJS) $(BUILD)/asan/src/main.o
	$(CC) $(SAN) -o $@ $^ $(LDLIBS) -lpthread
asan: $(BUILD)/asan/$(BIN)

$(BUILD)/unit/%: tests/unit/%.c $(ASAN_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(STD) -O1 -g $(SAN) $(WARN) -Wno-missing-prototypes $(CPPFLAGS) -Itests/unit \
		$(DEPFLAGS) -o $@ $< $(ASAN_OBJS) -lcmocka $(LDLIBS) -lpthread

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

# The fragments, in this order: a fragment may use at parse time (in a rule's
# targets or prerequisites, an ifeq, a :=) only what the Makefile above and
# the fragments before it define.
#   bpf.mk      BPF objects and skeletons: BPF_SKELS, BPF_USERS; vm-* need BIN
#               (needs BUILD, BPF_ARCH, DEPFLAGS, gen-headers; GUEST_VMLINUX of
#               guest.mk only when no vmlinux.h is committed for the
#               architecture, expanded when the rule runs)
#   fuzz.mk     libFuzzer targets (needs LIB_SRCS, DEPFLAGS; BPF_USERS and
#               BPF_SKELS from bpf.mk)
#   guest.mk    the guest kernel: GUEST_KERNEL, GUEST_KVER, GUEST_SEL,
#               GUEST_VMLINUX, guest-deps, GUEST_VFIO_OPEN (needs BUILD, CC,
#               GUEST_ARCH and the GUEST_KVER preset above)
#   headers.mk  Kbuild against the guest's headers: KBUILD_PREREQS,
#               kbuild_modules (needs guest.mk)
#   hisi.mk     the HiSilicon modules (needs guest.mk, headers.mk)
#   kmod.mk     the test modules and MIGCTL (needs guest.mk, headers.mk)
#   torture.mk  torture mode (needs BIN; GUEST_VFIO_OPEN, GUEST_SEL from
#               guest.mk; MIGCTL from kmod.mk)
#   metrics.mk  the alert rules' checks (needs nothing)
#   bench.mk    benchmarks (needs BIN, BUILD, WARN; runs vm-run of guest.mk)
include mk/bpf.mk
include mk/fuzz.mk
include mk/guest.mk
include mk/headers.mk
include mk/hisi.mk
include mk/kmod.mk
include mk/torture.mk
include mk/metrics.mk
include mk/bench.mk

# What each target was built from, as the compiler wrote it (DEPFLAGS).
-include $(wildcard $(BUILD)/obj/src/*.d $(BUILD)/obj/src/analyzers/*.d \
	$(BUILD)/asan/src/*.d $(BUILD)/asan/src/analyzers/*.d $(BUILD)/unit/*.d \
	$(BUILD)/bpf/*.d $(FUZZ_DIR)/obj/src/*.d $(FUZZ_DIR)/obj/src/analyzers/*.d \
	$(FUZZ_DIR)/*.d)
