# shellcheck shell=bash
# Guest-side helpers for the upstream HiSilicon drivers built by mk/hisi.mk
# (sourced by tests/guest/hisi.bats, usable from `make vm-run CMD=...`).
# Needs $HISIMIG_KVER (set in the guest) and REPO (the repository root).

HISI_KODIR=${HISI_KODIR:-$REPO/build/hisi/$HISIMIG_KVER/drivers}
# In load order: the PF drivers need hisi_qm, the VF driver needs all of them.
HISI_KOS=(crypto/hisilicon/hisi_qm.ko crypto/hisilicon/zip/hisi_zip.ko
	crypto/hisilicon/sec2/hisi_sec2.ko crypto/hisilicon/hpre/hisi_hpre.ko
	vfio/pci/hisilicon/hisi-acc-vfio-pci.ko)
HISI_VF_DRIVER=hisi_acc_vfio_pci # the pci_driver's name (KBUILD_MODNAME)

hisi_built() { [ -e "$HISI_KODIR/${HISI_KOS[-1]}" ]; }

# hisi_module_name KO: the name the kernel gives it (dashes become underscores).
hisi_module_name() { basename "${1%.ko}" | tr - _; }

# hisi_load [VF_KO]: insmod the five modules, the in-tree modules they need
# first (modinfo's depends: authenc, ecc, ecdh_generic, libcurve25519-generic,
# vfio-pci-core... there is no udev or depmod entry to pull them in).
# VF_KO replaces the hisi-acc-vfio-pci.ko that is loaded (a variant build).
hisi_load() {
	local ko dep ours
	modprobe vfio_iommu_type1 # VFIO's type1 container, for vfio-open
	ours=" $(for ko in "${HISI_KOS[@]}"; do hisi_module_name "$ko"; done | tr '\n' ' ')"
	for ko in "${HISI_KOS[@]}"; do
		[ "$ko" != "${HISI_KOS[-1]}" ] || ko=${1:-$ko}
		[ "${ko:0:1}" = / ] || ko=$HISI_KODIR/$ko
		[ ! -d "/sys/module/$(hisi_module_name "$ko")" ] || continue
		for dep in $(modinfo -F depends "$ko" | tr , ' '); do
			[[ $ours == *" ${dep//-/_} "* ]] || modprobe "$dep"
		done
		insmod "$ko"
	done
}

# hisi_unload: rmmod in reverse load order (a tracer's fentry links pin the
# VF driver: stop it first).
hisi_unload() {
	local i name
	for ((i = ${#HISI_KOS[@]} - 1; i >= 0; i--)); do
		name=$(hisi_module_name "${HISI_KOS[i]}")
		[ ! -d "/sys/module/$name" ] || rmmod "$name"
	done
}

# hisi_bind VF: hand VF to the HiSilicon VFIO driver the way libvirt does.
hisi_bind() {
	echo "$HISI_VF_DRIVER" >"/sys/bus/pci/devices/$1/driver_override"
	echo "$1" >/sys/bus/pci/drivers_probe
	[ "$(basename "$(readlink "/sys/bus/pci/devices/$1/driver")")" = "$HISI_VF_DRIVER" ]
}

# hisi_vf_ko_without_btf DIR: a copy of hisi-acc-vfio-pci.ko without its
# module BTF (what a build without pahole gives), printed.
hisi_vf_ko_without_btf() {
	local out=$1/hisi-acc-vfio-pci.ko
	objcopy --remove-section=.BTF "$HISI_KODIR/${HISI_KOS[-1]}" "$out"
	echo "$out"
}
