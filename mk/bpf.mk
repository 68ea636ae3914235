# BPF objects and their skeletons (bpf/*.bpf.c -> build/gen/*.skel.h).
#
# vmlinux.h is committed per architecture (include/vmlinux/<arch>/vmlinux.h,
# dumped with bpftool from the BTF of Debian's 6.1 kernel, as libbpf-tools
# does; x86 and arm64): CO-RE relocates every access to the running kernel at load time, so
# a plain `make` needs no kernel download and no package manager. To build
# against another kernel's types, name its BTF: BPF_VMLINUX=/sys/kernel/btf/vmlinux
# (or a vmlinux ELF with BTF). The skeletons are generated, never committed.
CLANG        ?= clang
BPFTOOL      ?= bpftool
BPF_ARCH     ?= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
BPF_CFLAGS   := -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -Wall -Werror \
		-Iinclude -I$(BUILD)/gen
BPF_SRCS     := $(wildcard bpf/*.bpf.c)
BPF_OBJS     := $(BPF_SRCS:bpf/%.bpf.c=$(BUILD)/bpf/%.bpf.o)
BPF_SKELS    := $(BPF_SRCS:bpf/%.bpf.c=$(BUILD)/gen/%.skel.h)

VMLINUX_H_COMMITTED := include/vmlinux/$(BPF_ARCH)/vmlinux.h

ifdef BPF_VMLINUX
$(BUILD)/gen/vmlinux.h: $(BPF_VMLINUX) | gen-headers
	$(BPFTOOL) btf dump file $< format c > $@.tmp && mv $@.tmp $@
else ifneq ($(wildcard $(VMLINUX_H_COMMITTED)),)
$(BUILD)/gen/vmlinux.h: $(VMLINUX_H_COMMITTED) | gen-headers
	cp $< $@
else
# No committed header for this architecture: the guest kernel's BTF,
# which mk/guest.mk downloads.
.SECONDEXPANSION:
$(BUILD)/gen/vmlinux.h: $$(GUEST_VMLINUX) | gen-headers
	$(BPFTOOL) btf dump file $< format c > $@.tmp && mv $@.tmp $@
endif

# vmlinux.h is generated: named here so that it exists before the first
# compile; the headers each object read are in its .d file (DEPFLAGS).
$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BUILD)/gen/vmlinux.h
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/gen/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< name hm_$(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

# The userspace objects that include a skeleton: generated headers must exist
# before the first compile, when there is no .d file to name them yet.
BPF_USERS := bpf_objects
$(foreach u,$(BPF_USERS),$(BUILD)/obj/src/$(u).o $(BUILD)/asan/src/$(u).o): $(BPF_SKELS)

.PHONY: bpf
bpf: $(BPF_SKELS)
.SECONDARY: $(BPF_OBJS)

# The guest runs the host's build through its 9p root: build it first.
vm-check vm-matrix vm-run: $(BIN)
