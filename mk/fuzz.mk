# libFuzzer targets (tests/fuzz), built with clang and ASan + UBSan:
#   make fuzz                      every target FUZZ_SECONDS (default 60) each
#   make fuzz FUZZ_SECONDS=20      the bounded pass `make check` runs
#   make fuzz FUZZ_TARGETS=http    one target
# Seeds are generated each time: every `gen` scenario as a trace, a few HTTP
# requests; the corpus grows in build/fuzz/corpus/, crashes land in
# build/fuzz/crashes/.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= trace session http
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_OBJS    := $(LIB_SRCS:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)

.PHONY: fuzz fuzz-build fuzz-seeds
fuzz: deps-test
	$(MAKE) fuzz-build
	$(MAKE) fuzz-run

.PHONY: fuzz-run
fuzz-run: fuzz-seeds
	@tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-build: $(FUZZ_BINS)

$(FUZZ_DIR)/obj/%.o: %.c | gen-headers
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(STD) -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(WARN) $(CPPFLAGS) \
		$(DEPFLAGS) -c $< -o $@

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS)
	$(FUZZ_CC) $(STD) -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer $(WARN) $(CPPFLAGS) $(DEPFLAGS) \
		-o $@ $< $(FUZZ_OBJS) $(LDLIBS) -lpthread

fuzz-seeds: $(BIN)
	@tests/fuzz/seeds.sh $(BIN) $(FUZZ_DIR)/seeds
.SECONDARY: $(FUZZ_OBJS)
# (mk/bpf.mk is included first: the objects that include a skeleton need it
# generated before their first compile, when there is no .d file yet)
$(foreach u,$(BPF_USERS),$(FUZZ_DIR)/obj/src/$(u).o): $(BPF_SKELS)
