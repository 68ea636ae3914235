# The real hisi_acc_vfio_pci in the guest; see tests/hisi/README.md.
#
#   make hisi      hisi_qm, hisi_zip, hisi_sec2, hisi_hpre and hisi-acc-vfio-pci
#                  for the guest kernel (GUEST_KERNEL/GUEST_FLAVOUR select it)
#
# Debian does not build the HiSilicon drivers (they need ARM64 or
# COMPILE_TEST), but its linux-source-X.Y package carries their source: the
# two driver directories are extracted from the version the guest kernel was
# built from (tests/hisi/fetch-source.sh; the .deb is cached in build/hisi/debs)
# into build/hisi/<kver>/ and built there out of tree (mk/headers.mk), with
# module BTF when pahole is installed.

HISI_OUT      = $(CURDIR)/build/hisi/$(GUEST_KVER)
HISI_SRC     := $(CURDIR)/tests/hisi
# What Kconfig would select on a Kunpeng kernel; the Makefiles test only these.
HISI_KCONFIG := CONFIG_CRYPTO_DEV_HISI_QM=m CONFIG_CRYPTO_DEV_HISI_ZIP=m \
	CONFIG_CRYPTO_DEV_HISI_SEC2=m CONFIG_CRYPTO_DEV_HISI_HPRE=m CONFIG_HISI_ACC_VFIO_PCI=m

.PHONY: hisi hisi-clean
hisi: $(HISI_OUT)/.built

$(HISI_OUT)/.ready: $(HISI_SRC)/fetch-source.sh | guest-deps
	@$(HISI_SRC)/fetch-source.sh $(GUEST_KVER) $(HISI_OUT) >/dev/null

# One stamp for the five modules: one Kbuild run makes them.
$(HISI_OUT)/.built: $(HISI_OUT)/.ready $(HISI_SRC)/Kbuild $(KBUILD_PREREQS)
	cp $(HISI_SRC)/Kbuild $(HISI_OUT)/Kbuild
	+$(call kbuild_modules,$(HISI_OUT),$(HISI_KCONFIG))
	@touch $@

hisi-clean:
	rm -rf $(CURDIR)/build/hisi/*/

# The guest suite (tests/guest/hisi.bats) loads them.
vm-check vm-run vm-matrix: hisi
