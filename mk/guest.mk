# Guest test tier: live tests in a QEMU guest running Debian's own
# kernel; see docs/guest.md. Included by the top Makefile.
#
#   make vm-check                    all guest .bats files, one boot (default 6.1 amd64)
#   make vm-check GUEST_KERNEL=6.12 GUEST_FLAVOUR=rt-amd64
#   make vm-matrix                   vm-check on 6.1/6.12 x amd64/rt-amd64, result table
#   make vm-run CMD='bats tests/guest/sriov.bats'   one command / one guest test
#   make vm-shell                    interactive guest shell
#   make vm-selftest                 host-side tests of the harness itself
#   make guest-vmlinux               build $(GUEST_VMLINUX) silently
#   make vm-arm64                    vm-check on Debian's arm64 kernel (GUEST_ARCH=arm64:
#                                    any target above; docs/arm64.md)
#
# For other rules: $(GUEST_KVER) is the selected kernel release (resolved from
# apt once per make, only when used), $(GUEST_VMLINUX) the ELF vmlinux with its
# BTF (a rule target: list it as a prerequisite to get it built).

GUEST_DIR     := $(CURDIR)/tests/guest
GUEST_BUILD   := $(CURDIR)/build/guest
GUEST_KERNEL  ?= 6.1
# GUEST_ARCH (amd64, arm64) is set in the Makefile: it also selects the build.
GUEST_FLAVOUR ?= $(GUEST_ARCH)
GUEST_TIMEOUT ?= 3000
GUEST_SEL      = --kernel $(GUEST_KERNEL) --flavour $(GUEST_FLAVOUR) --arch $(GUEST_ARCH)
GUEST_RUN      = $(GUEST_DIR)/run-in-guest.sh $(GUEST_SEL) --timeout $(GUEST_TIMEOUT)
# Run in the guest, so built for its architecture (build/guest/ or build/arm64/guest/).
GUEST_VFIO_OPEN := $(CURDIR)/$(BUILD)/guest/vfio-open

# Deferred and memoised: apt is asked only by a make run that uses it.
GUEST_KVER ?= $(eval GUEST_KVER := $(shell QUIET=1 $(GUEST_DIR)/kernel.sh $(GUEST_SEL) kver))$(GUEST_KVER)
GUEST_VMLINUX = $(GUEST_BUILD)/kernels/$(GUEST_KVER)/vmlinux

.PHONY: guest-deps guest-vmlinux vm-check vm-matrix vm-run vm-shell vm-selftest vm-arm64

guest-deps:
	@$(CURDIR)/scripts/install-deps.sh $(if $(filter amd64,$(GUEST_ARCH)),guest,$(GUEST_ARCH))

$(GUEST_BUILD)/kernels/%/vmlinux: $(GUEST_DIR)/extract-vmlinux.sh | guest-deps
	@QUIET=1 $(GUEST_DIR)/kernel.sh $(GUEST_SEL) vmlinux >/dev/null

guest-vmlinux: | guest-deps
	@QUIET=1 $(GUEST_DIR)/kernel.sh $(GUEST_SEL) vmlinux >/dev/null

# Built on the host: the guest sees the host's files through its 9p root.
$(GUEST_VFIO_OPEN): $(GUEST_DIR)/vfio-open.c | guest-deps
	@mkdir -p $(@D)
	$(CC) -Wall -Wextra -Werror -O2 -o $@ $<

vm-check: $(GUEST_VFIO_OPEN) | guest-deps
	$(GUEST_RUN) -- tests/guest/run-suite.sh

# Each cell is a sub-make vm-check, so per-kernel prerequisites get built.
vm-matrix: | guest-deps
	MAKE="$(MAKE)" $(GUEST_DIR)/matrix.sh --timeout $(GUEST_TIMEOUT)

# CMD goes through the environment unexpanded ($(value)): no make or shell
# quoting on top of what the user typed; $VAR is expanded by bash in the guest.
vm-run: export GUEST_CMD = $(value CMD)
vm-run: $(GUEST_VFIO_OPEN) | guest-deps
	@test -n "$$GUEST_CMD" || { echo "usage: make vm-run CMD='command in the guest'" >&2; exit 2; }
	$(GUEST_RUN) -- bash -c "$$GUEST_CMD"

vm-shell: $(GUEST_VFIO_OPEN) | guest-deps
	$(GUEST_DIR)/run-in-guest.sh $(GUEST_SEL) --timeout 0 --shell

vm-selftest: | guest-deps
	bats $(GUEST_DIR)/host

# A sub-make: GUEST_ARCH=arm64 switches the build to build/arm64 (Makefile).
vm-arm64:
	$(MAKE) GUEST_ARCH=arm64 vm-check
