# make bench: speed proved by ratios measured in one run (docs/bench.md).
#   BENCH_EVENTS=N   replay throughput trace (default 1000000)
#   BENCH_LARGE=N    second trace, for the memory ratio (default 10000000)
#   BENCH_RUNS=N     repeats of each replay figure (default 5)
#   BENCH_OPS=N      guest workload operations per configuration (default 20000)
.PHONY: bench bench-replay bench-guest

$(BUILD)/bench/op-loop: tests/bench/op-loop.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 $(WARN) -o $@ $<

bench: bench-replay bench-guest

bench-replay: $(BIN)
	HISIMIG=./$(BIN) scripts/bench-replay.sh

bench-guest: $(BIN) $(BUILD)/bench/op-loop
	$(MAKE) vm-run CMD='scripts/bench-guest.sh'
