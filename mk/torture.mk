# Lifecycle torture mode; see docs/torture.md. Included by the top Makefile.
#
#   make torture TORTURE_MINUTES=15 [TORTURE_SEED=N] [GUEST_KERNEL=6.12] [GUEST_FLAVOUR=rt-amd64]
#   make torture-shrink TORTURE_MINUTES=20     shrink what earlier runs found, nothing else
#
# Seeded concurrent SR-IOV/VFIO lifecycle ops in the QEMU guest under
# `hisimig-trace run --locks full`, bounded by TORTURE_MINUTES (torture and
# shrinking together); results in build/torture/<kernel>/ (summary.txt).
# Not part of `make check`.

TORTURE_MINUTES        ?= 15
TORTURE_SEED           ?= 1
TORTURE_SHRINK_MINUTES ?= 10
TORTURE_RUN = $(CURDIR)/scripts/torture/make-torture.sh --minutes $(TORTURE_MINUTES) \
	--seed $(TORTURE_SEED) --shrink-minutes $(TORTURE_SHRINK_MINUTES) $(GUEST_SEL)

.PHONY: torture torture-shrink torture-prereqs
# The HiSilicon drivers are optional: without them the hisi ops fail (status 3).
torture-prereqs: $(BIN) $(GUEST_VFIO_OPEN) $(MIGCTL) kmod | guest-deps
	@$(CURDIR)/scripts/install-deps.sh test
	@$(MAKE) --no-print-directory hisi >/dev/null 2>&1 || \
		echo "torture: the HiSilicon drivers did not build for $(GUEST_KVER) (make hisi); the hisi ops will fail"

torture: torture-prereqs
	$(TORTURE_RUN)

torture-shrink: torture-prereqs
	$(TORTURE_RUN) --shrink-only
