# Out-of-tree kernel modules for the guest kernel, shared by mk/kmod.mk (the
# hmtest drivers) and mk/hisi.mk (the upstream HiSilicon drivers). Included
# after mk/guest.mk (for $(GUEST_KVER), $(GUEST_VMLINUX)), before its users.
#
# Modules are built against Debian's linux-headers for $(GUEST_KVER),
# unpacked (never installed) into build/kmod/headers/<kver>/ by
# tests/kmod/fetch-headers.sh.

KBUILD_HDRS  = $(CURDIR)/build/kmod/headers/$(GUEST_KVER)
KBUILD_KDIR  = $(KBUILD_HDRS)/usr/src/linux-headers-$(GUEST_KVER)
# Module BTF (fentry on module functions needs it) when pahole is installed:
# kbuild generates it against the vmlinux it finds in the headers directory,
# so the guest kernel's vmlinux (with its BTF) is linked there.
KBUILD_BTF   = $(if $(shell command -v pahole 2>/dev/null),yes)

# What a module build depends on: list it as a prerequisite.
KBUILD_PREREQS = $(KBUILD_HDRS)/.ready $(if $(KBUILD_BTF),$(KBUILD_KDIR)/vmlinux)

$(KBUILD_HDRS)/.ready: | guest-deps
	@$(CURDIR)/tests/kmod/fetch-headers.sh $(GUEST_KVER) $(KBUILD_HDRS) >/dev/null

# (order-only on .ready: the link is as new as the vmlinux it points to)
$(KBUILD_KDIR)/vmlinux: $(GUEST_VMLINUX) | $(KBUILD_HDRS)/.ready
	ln -sfn $(GUEST_VMLINUX) $@

# $(call kbuild_modules,DIR[,MAKE ARGS]): the recipe line building the modules
# of the Kbuild tree DIR. resolve_btfids is not shipped in the headers and
# has nothing to do for modules without BTF_ID sets.
kbuild_modules = $(MAKE) -C $(KBUILD_KDIR) M=$(1) $(KBUILD_CROSS) $(if $(KBUILD_BTF),RESOLVE_BTFIDS=true) $(2) modules
