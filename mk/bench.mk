# make bench: speed proved by ratios measured in one run (docs/bench.md).
#   BENCH_EVENTS=N   replay throughput trace (default 1000000)
#   BENCH_LARGE=N    second trace, for the memory ratio (default 10000000)
#   BENCH_RUNS=N     repeats of each replay figure (default 5)
#   BENCH_OPS=N      guest workload operations per run (default 3000)
#   BENCH_REPEATS=N  runs of each guest figure (default 5)
#   BENCH_PROCS=N    device loops of the sustained-rate steps (default 2)
#   BENCH_SETTLE=N   seconds from a tool's ready to its block (default 3)
#   BENCH_SMP=N      guest vCPUs (default 1)
.PHONY: bench bench-replay bench-guest bench-kheaders
BENCH_OPS     ?= 3000
BENCH_REPEATS ?= 5
BENCH_PROCS   ?= 2
BENCH_SETTLE  ?= 3
# Single-threaded TCG runs the vCPUs in turn on one host thread: with two,
# whatever the other one does (the tracer's reader, guest housekeeping)
# halves the loop's speed while it runs, and the untraced figure drifted 2x
# between blocks. With one, the tracer's reader runs on the loop's CPU, where
# an overhead figure has to count it anyway.
BENCH_SMP     ?= 1
# bcc compiles klockstat against the guest kernel's headers: Debian's arch
# and -common header packages (mk/headers.mk), merged into one tree of links
# as a kernel build directory is.
BENCH_KHEADERS = $(CURDIR)/$(BUILD)/bench/kheaders-$(GUEST_KVER)

$(BUILD)/bench/op-loop: tests/bench/op-loop.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 $(WARN) -o $@ $<

$(BUILD)/bench/cpu-time: tests/bench/cpu-time.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 $(WARN) -o $@ $<

bench: bench-replay bench-guest

bench-replay: $(BIN) $(BUILD)/bench/cpu-time
	HISIMIG=./$(BIN) CPU_TIME=$(BUILD)/bench/cpu-time scripts/bench-replay.sh

bench-kheaders: | guest-deps
	@$(MAKE) --no-print-directory $(KBUILD_HDRS)/.ready
	@test -e $(BENCH_KHEADERS)/include/generated/autoconf.h || { \
		rm -rf $(BENCH_KHEADERS) && mkdir -p $(BENCH_KHEADERS) && \
		cp -rs $(KBUILD_HDRS)/usr/src/linux-headers-*-common*/. $(BENCH_KHEADERS)/ && \
		cp -rsf $(KBUILD_KDIR)/. $(BENCH_KHEADERS)/; }

# The host's load is printed around the run: the guest's figures move with it.
bench-guest: $(BIN) $(BUILD)/bench/op-loop bench-kheaders
	@scripts/install-deps.sh bench
	@echo "host: $$(uptime)"
	GUEST_SMP=$(BENCH_SMP) $(MAKE) vm-run CMD='BENCH_OPS=$(BENCH_OPS) BENCH_REPEATS=$(BENCH_REPEATS) BENCH_PROCS=$(BENCH_PROCS) BENCH_SETTLE_SECONDS=$(BENCH_SETTLE) BCC_KERNEL_SOURCE=$(BENCH_KHEADERS) scripts/bench-guest.sh'
	@echo "host: $$(uptime)"
