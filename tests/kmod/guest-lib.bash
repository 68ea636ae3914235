# shellcheck shell=bash
# Guest-side helpers for the hmtest drivers and migctl (sourced by
# tests/guest/kmod.bats, usable from `make vm-run CMD=...` too). Needs
# $HISIMIG_KVER (set in the guest) and REPO (the repository root).

PF=${HISIMIG_PF:-0000:01:00.0}
PFDIR=/sys/bus/pci/devices/$PF
HM_KODIR=${HM_KODIR:-$REPO/build/kmod/$HISIMIG_KVER}
MIGCTL=${MIGCTL:-$REPO/build/migctl/migctl}
HM_VF_PARAMS=/sys/module/hmtest_vf/parameters
HM_PF_PARAMS=/sys/module/hmtest_pf/parameters
VF0=0000:01:00.1
VF1=0000:01:00.2

driver_of() { basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null; }

# setup_file of every hmtest suite: a 6.1 or 6.12 guest (the vfio APIs
# hmtest_vf is written for) with the drivers and the programs it names
# (default: migctl) built, and the drivers loaded. On other kernels each test
# skips (hm_skip_unsupported in setup): bats 1.8 reports a skip in setup_file
# as a failed teardown_file.
hm_setup_suite() {
	local prog
	require_guest
	case "${HISIMIG_KERNEL:-}" in
	6.1 | 6.12) ;;
	*)
		export HM_SUITE_SKIP="hmtest_vf is written for the vfio API of 6.1 and 6.12 (guest runs ${HISIMIG_KERNEL:-?})"
		return 0
		;;
	esac
	[ -f "$HM_KODIR/hmtest_vf.ko" ] || { echo "missing $HM_KODIR/hmtest_vf.ko (make kmod)"; false; }
	for prog in "${@:-$MIGCTL}"; do
		[ -x "$prog" ] || { echo "missing $prog (make kmod migctl, make)"; false; }
	done
	hm_load
}

# hm_skip_unsupported: first thing in setup of every hmtest suite
hm_skip_unsupported() {
	[ -z "${HM_SUITE_SKIP:-}" ] || skip "$HM_SUITE_SKIP"
}

hm_load() {
	modprobe vfio-pci-core
	modprobe vfio_iommu_type1
	[ -d /sys/module/hmtest_pf ] || insmod "$HM_KODIR/hmtest_pf.ko"
	[ -d /sys/module/hmtest_vf ] || insmod "$HM_KODIR/hmtest_vf.ko"
}

# hm_bind DEV DRIVER: hand DEV to DRIVER through driver_override.
hm_bind() {
	local dev=$1 drv=$2
	[ "$(driver_of "$dev")" = "$drv" ] && return 0
	[ -e "/sys/bus/pci/devices/$dev/driver" ] &&
		echo "$dev" >"/sys/bus/pci/devices/$dev/driver/unbind"
	echo "$drv" >"/sys/bus/pci/devices/$dev/driver_override"
	echo "$dev" >/sys/bus/pci/drivers_probe
	[ "$(driver_of "$dev")" = "$drv" ]
}

hm_unbind() {
	[ -e "/sys/bus/pci/devices/$1/driver" ] || return 0
	echo "$1" >"/sys/bus/pci/devices/$1/driver/unbind"
}

# hm_setup [NVFS]: PF on hmtest_pf, NVFS (2) VFs on hmtest_vf.
hm_setup() {
	local n=${1:-2} i vf
	hm_load
	hm_bind "$PF" hmtest_pf
	echo 0 >"$PFDIR/sriov_drivers_autoprobe"
	[ "$(cat "$PFDIR/sriov_numvfs")" = "$n" ] || echo "$n" >"$PFDIR/sriov_numvfs"
	for ((i = 0; i < n; i++)); do
		vf=$(basename "$(readlink "$PFDIR/virtfn$i")")
		hm_bind "$vf" hmtest_vf
	done
}

# hm_status VF KEY: one value of the VF's hmtest_status attribute.
hm_status() {
	awk -F= -v k="$2" '$1 == k { print $2 }' "/sys/bus/pci/devices/$1/hmtest_status"
}

hm_param() { echo "$2" >"$HM_VF_PARAMS/$1"; }
hm_pf_param() { echo "$2" >"$HM_PF_PARAMS/$1"; }

hm_params_off() {
	local p
	if [ -d "$HM_VF_PARAMS" ]; then
		for p in fault_pf_lock fault_pf_lock_delay_ms fault_fail_state \
			fault_stop_copy_delay_ms; do
			echo 0 >"$HM_VF_PARAMS/$p"
		done
		echo N >"$HM_VF_PARAMS/fault_skip_core_fsm"
		echo N >"$HM_VF_PARAMS/fault_cache_pf_data"
		echo N >"$HM_VF_PARAMS/fault_state_vf_lock"
		echo N >"$HM_VF_PARAMS/fault_state_mm"
		echo N >"$HM_VF_PARAMS/fault_read_state_mutex"
		echo N >"$HM_VF_PARAMS/reset_waits_state_mutex"
	fi
	[ ! -d "$HM_PF_PARAMS" ] || echo N >"$HM_PF_PARAMS/fault_keep_vfs_on_remove"
}

# hm_sriov_off: VFs gone, whatever driver the PF has (rebinding hmtest_pf if a
# test left the PF without a driver and SR-IOV on).
hm_sriov_off() {
	[ -e "$PFDIR/sriov_numvfs" ] || return 0
	[ "$(cat "$PFDIR/sriov_numvfs")" != 0 ] || return 0
	[ -e "$PFDIR/driver" ] || hm_bind "$PF" hmtest_pf
	echo 0 >"$PFDIR/sriov_numvfs"
}

# hm_teardown: back to the state the other suites expect (PF unclaimed by us,
# no VFs, modules unloaded).
hm_teardown() {
	# nothing of ours to undo: the suite was skipped (not 6.1) or never loaded
	[ -d /sys/module/hmtest_vf ] || [ -d /sys/module/hmtest_pf ] || return 0
	hm_params_off
	hm_sriov_off
	[ "$(driver_of "$PF")" != hmtest_pf ] || hm_unbind "$PF"
	echo >"$PFDIR/driver_override"
	[ ! -d /sys/module/hmtest_vf ] || rmmod hmtest_vf
	[ ! -d /sys/module/hmtest_pf ] || rmmod hmtest_pf
	# Let a loaded nvme take its controller back.
	echo "$PF" >/sys/bus/pci/drivers_probe 2>/dev/null || true
}
