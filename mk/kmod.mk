# Test drivers and migration client for the guest tier; see
# tests/kmod/README.md. Included by the top Makefile after mk/guest.mk.
#
#   make kmod      hmtest_pf.ko + hmtest_vf.ko for the guest kernel
#                  (GUEST_KERNEL/GUEST_FLAVOUR select it, as for vm-check)
#   make migctl    the VFIO migration client (host-built, runs in the guest)
#
# The modules are built out of tree against Debian's linux-headers for
# $(GUEST_KVER) (mk/headers.mk). Kbuild writes its objects next to the
# sources, so the sources are copied to build/kmod/<kver>/ first: the tree stays free of build products.

KMOD_SRC     := $(CURDIR)/tests/kmod
KMOD_SRCS    := $(wildcard $(KMOD_SRC)/*.c $(KMOD_SRC)/*.h) $(KMOD_SRC)/Kbuild
KMOD_OUT      = $(CURDIR)/build/kmod/$(GUEST_KVER)
KMOD_KOS      = $(KMOD_OUT)/hmtest_pf.ko $(KMOD_OUT)/hmtest_vf.ko

MIGCTL       := $(BUILD)/migctl/migctl
MIGCTL_SRCS  := $(wildcard tests/migctl/*.c)
MIGCTL_HDRS  := $(wildcard tests/migctl/*.h)

.PHONY: kmod kmod-clean migctl
# hmtest_vf is written for the vfio APIs of 6.1 and 6.12 (6.2+:
# migration_get_data_size, iommufd ops; 6.12: no no_llseek); on other
# kernels kmod.bats skips and nothing is built.
ifneq ($(filter 6.1 6.12,$(GUEST_KERNEL)),)
kmod: $(KMOD_OUT)/.built
else
kmod:
	@echo "kmod: hmtest drivers are written for Linux 6.1 and 6.12; skipped for $(GUEST_KERNEL)"
endif

# One stamp for both modules: one Kbuild run makes them.
$(KMOD_OUT)/.built: $(KMOD_SRCS) $(KBUILD_PREREQS)
	@mkdir -p $(KMOD_OUT)
	cp $(KMOD_SRCS) $(KMOD_OUT)/
	+$(call kbuild_modules,$(KMOD_OUT))
	@touch $@

kmod-clean:
	rm -rf $(CURDIR)/build/kmod

migctl: $(MIGCTL)

$(MIGCTL): $(MIGCTL_SRCS) $(MIGCTL_HDRS)
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
		-Wmissing-prototypes -D_GNU_SOURCE -o $@ $(MIGCTL_SRCS)

# The guest suite loads the modules and runs migctl: build them first.
vm-check vm-run vm-matrix: kmod $(MIGCTL)

# Fault 3 hangs the guest by design: tests/guest/host/deadlock.bats expects
# the harness' no-result timeout (124), the script's confirmation that both
# tasks sit in D state, and the deadlock hisimig-trace reported live.
KMOD_DEADLOCK_TIMEOUT ?= 150
.PHONY: kmod-deadlock-check
kmod-deadlock-check: kmod $(MIGCTL) $(BIN) | guest-deps
	GUEST_SEL="$(GUEST_SEL)" KMOD_DEADLOCK_TIMEOUT=$(KMOD_DEADLOCK_TIMEOUT) \
		bats $(GUEST_DIR)/host/deadlock.bats
