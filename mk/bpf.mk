# BPF objects and their skeletons (bpf/*.bpf.c -> build/gen/*.skel.h).
#
# vmlinux.h comes from the BTF of the kernel we target (the guest's Debian
# kernel, GUEST_VMLINUX from mk/guest.mk); CO-RE relocates to the running
# kernel at load time. Neither vmlinux.h nor the skeletons are committed.
CLANG        ?= clang
BPFTOOL      ?= bpftool
BPF_ARCH     ?= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
BPF_CFLAGS   := -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -Wall -Werror \
		-Iinclude -I$(BUILD)/gen
BPF_SRCS     := $(wildcard bpf/*.bpf.c)
BPF_OBJS     := $(BPF_SRCS:bpf/%.bpf.c=$(BUILD)/bpf/%.bpf.o)
BPF_SKELS    := $(BPF_SRCS:bpf/%.bpf.c=$(BUILD)/gen/%.skel.h)
BPF_HDRS     := $(wildcard bpf/*.h include/hisimig/*.h)

# The target kernel's BTF: the default guest's (generic 6.1) vmlinux when
# there is one, else the current guest's (the rule in mk/guest.mk builds it).
# One object serves every kernel (CO-RE); pinning the header keeps a matrix
# cell from rebuilding it against its own kernel.
BPF_VMLINUX_DEFAULT := $(firstword $(filter-out %-rt-$(GUEST_ARCH)/vmlinux,\
			$(wildcard build/guest/kernels/6.1.*-$(GUEST_ARCH)/vmlinux)))
# An extracted vmlinux is used as is: naming GUEST_VMLINUX asks apt for the
# current kernel release, which a plain build should not need.
BPF_VMLINUX   = $(or $(BPF_VMLINUX_DEFAULT),$(GUEST_VMLINUX))

.SECONDEXPANSION:
$(BUILD)/gen/vmlinux.h: $$(BPF_VMLINUX) | gen-headers
	$(BPFTOOL) btf dump file $< format c > $@.tmp && mv $@.tmp $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) $(BUILD)/gen/vmlinux.h
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/gen/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< name hm_$(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

# The userspace objects that include a skeleton.
BPF_USERS := bpf_objects
$(foreach u,$(BPF_USERS),$(BUILD)/obj/src/$(u).o $(BUILD)/asan/src/$(u).o): $(BPF_SKELS)

.PHONY: bpf
bpf: $(BPF_SKELS)
.SECONDARY: $(BPF_OBJS)

# The guest runs the host's build through its 9p root: build it first.
vm-check vm-matrix vm-run: $(BIN)
