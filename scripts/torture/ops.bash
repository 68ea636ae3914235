# shellcheck shell=bash
# The torture ops: each is a plain shell function over sysfs, modprobe and
# the test programs, so a reproducer is this file plus a list of op lines.
# They change PCI devices and load modules: run them only on a test machine.
#
# Settings (environment):
#   TORTURE_PF      the SR-IOV PF (default $HISIMIG_PF or 0000:01:00.0)
#   VFIO_OPEN       tests/guest/vfio-open binary
#   MIGCTL          tests/migctl client
#   HMTEST_KODIR    directory with hmtest_pf.ko, hmtest_vf.ko (may be absent)
#   HISI_KODIR      the `make hisi` drivers/ directory (may be absent)
# An op's exit status is the failing step's; failing is normal (an op that
# makes no sense in the current state just fails).

TORTURE_PF=${TORTURE_PF:-${HISIMIG_PF:-0000:01:00.0}}
T_SYS=/sys/bus/pci/devices

# t_dev pf|vfN: the device's address (a VF through the PF's virtfnN link).
t_dev() {
	case $1 in
	pf) echo "$TORTURE_PF" ;;
	vf*)
		local l
		l=$(readlink "$T_SYS/$TORTURE_PF/virtfn${1#vf}" 2>/dev/null) || {
			echo "torture: $1: no such VF" >&2
			return 1
		}
		basename "$l" ;;
	*) echo "torture: $1: not pf or vfN" >&2; return 2 ;;
	esac
}

t_driver_of() { basename "$(readlink "$T_SYS/$1/driver" 2>/dev/null)" 2>/dev/null; }

t_numvfs() { # N: SR-IOV to N VFs (through 0 when it has other VFs)
	local f=$T_SYS/$TORTURE_PF/sriov_numvfs cur
	cur=$(cat "$f") || return 1
	[ "$cur" = "$1" ] && return 0
	# VFs stay without a driver until bound (the NVMe VFs are offline)
	echo 0 >"$T_SYS/$TORTURE_PF/sriov_drivers_autoprobe" || return 1
	[ "$cur" = 0 ] || echo 0 >"$f" || return 1
	[ "$1" = 0 ] || echo "$1" >"$f"
}

t_bind() { # DEV DRIVER: driver_override + drivers_probe, as libvirt does
	local bdf
	bdf=$(t_dev "$1") || return 1
	[ "$(t_driver_of "$bdf")" = "$2" ] && return 0
	[ ! -e "$T_SYS/$bdf/driver" ] || echo "$bdf" >"$T_SYS/$bdf/driver/unbind" || return 1
	echo "$2" >"$T_SYS/$bdf/driver_override" || return 1
	echo "$bdf" >/sys/bus/pci/drivers_probe
}

t_unbind() { # DEV
	local bdf
	bdf=$(t_dev "$1") || return 1
	[ -e "$T_SYS/$bdf/driver" ] || return 0
	echo "$bdf" >"$T_SYS/$bdf/driver/unbind"
}

t_override() { # DEV DRIVER|none
	local bdf v=$2
	bdf=$(t_dev "$1") || return 1
	[ "$v" != none ] || v=
	echo "$v" >"$T_SYS/$bdf/driver_override"
}

t_reset() { # DEV: the sysfs reset (FLR or the next method the device has)
	local bdf
	bdf=$(t_dev "$1") || return 1
	echo 1 >"$T_SYS/$bdf/reset"
}

t_remove() { # DEV: hot-remove from sysfs (t_rescan brings it back)
	local bdf
	bdf=$(t_dev "$1") || return 1
	echo 1 >"$T_SYS/$bdf/remove"
}

t_rescan() { echo 1 >/sys/bus/pci/rescan; }

t_vfio() { # DEV SECONDS plain|bar|reset|readpf: a VFIO user holding DEV
	local bdf extra=()
	bdf=$(t_dev "$1") || return 1
	case $3 in
	bar) extra=(--touch-bar 0) ;;
	reset) extra=(--reset 2) ;;
	# reads the PF's sriov_numvfs (its device lock) while holding the VF
	readpf) extra=(--read "$T_SYS/$TORTURE_PF/sriov_numvfs") ;;
	esac
	"${VFIO_OPEN:?}" --hold "$2" "${extra[@]}" "$bdf" >/dev/null
}

t_migrate() { # one migration cycle VF0 -> VF1 (both on hmtest_vf)
	local a b
	a=$(t_dev vf0) && b=$(t_dev vf1) || return 1
	"${MIGCTL:?}" migrate --cycles 1 "$a" "$b" >/dev/null
}

t_migstate() { # DEV: RUNNING -> STOP -> STOP_COPY (read) -> STOP -> RUNNING
	local bdf
	bdf=$(t_dev "$1") || return 1
	"${MIGCTL:?}" run "$bdf" --set STOP --set STOP_COPY --read --set STOP --set RUNNING >/dev/null
}

# The HiSilicon modules in load order (their in-tree dependencies first).
T_HISI_KOS=(crypto/hisilicon/hisi_qm.ko crypto/hisilicon/zip/hisi_zip.ko
	crypto/hisilicon/sec2/hisi_sec2.ko crypto/hisilicon/hpre/hisi_hpre.ko
	vfio/pci/hisilicon/hisi-acc-vfio-pci.ko)

t_ko_name() { basename "${1%.ko}" | tr - _; }

t_modload() { # hmtest|hisi|vfio-pci|nvme
	local ko dep
	case $1 in
	hmtest)
		[ -f "${HMTEST_KODIR:-/nonexistent}/hmtest_vf.ko" ] || return 3
		modprobe vfio-pci-core && modprobe vfio_iommu_type1 || return 1
		[ -d /sys/module/hmtest_pf ] || insmod "$HMTEST_KODIR/hmtest_pf.ko" || return 1
		[ -d /sys/module/hmtest_vf ] || insmod "$HMTEST_KODIR/hmtest_vf.ko" ;;
	hisi)
		[ -f "${HISI_KODIR:-/nonexistent}/${T_HISI_KOS[-1]}" ] || return 3
		modprobe vfio_iommu_type1 || return 1
		for ko in "${T_HISI_KOS[@]}"; do
			[ ! -d "/sys/module/$(t_ko_name "$ko")" ] || continue
			for dep in $(modinfo -F depends "$HISI_KODIR/$ko" | tr , ' '); do
				case $dep in hisi_qm | hisi_zip | hisi_sec2 | hisi_hpre) ;; *) modprobe "$dep" ;; esac
			done
			insmod "$HISI_KODIR/$ko" || return 1
		done ;;
	vfio-pci) modprobe vfio-pci && modprobe vfio_iommu_type1 ;;
	nvme) modprobe nvme ;;
	*) return 2 ;;
	esac
}

t_modunload() { # hmtest|hisi|vfio-pci|nvme
	local i m rc=0
	case $1 in
	hmtest) for m in hmtest_vf hmtest_pf; do [ ! -d "/sys/module/$m" ] || rmmod "$m" || rc=1; done ;;
	hisi)
		for ((i = ${#T_HISI_KOS[@]} - 1; i >= 0; i--)); do
			m=$(t_ko_name "${T_HISI_KOS[i]}")
			[ ! -d "/sys/module/$m" ] || rmmod "$m" || rc=1
		done ;;
	vfio-pci) [ ! -d /sys/module/vfio_pci ] || rmmod vfio_pci || rc=1 ;;
	nvme) [ ! -d /sys/module/nvme ] || rmmod nvme || rc=1 ;;
	*) return 2 ;;
	esac
	return $rc
}

t_read() { # DEV ATTR
	local bdf
	bdf=$(t_dev "$1") || return 1
	cat "$T_SYS/$bdf/$2" >/dev/null
}

t_sleep() { sleep "$(($1 / 1000)).$(printf '%03d' $(($1 % 1000)))"; }

# t_normalize: the state every segment and reproducer starts from: the PF
# present, on nvme, no VFs, the drivers loaded, no override.
t_normalize() {
	[ -e "$T_SYS/$TORTURE_PF" ] || t_rescan
	t_modload vfio-pci
	t_modload nvme
	t_modload hmtest >/dev/null 2>&1
	t_modload hisi >/dev/null 2>&1
	local n
	n=$(cat "$T_SYS/$TORTURE_PF/sriov_numvfs" 2>/dev/null || echo 0)
	if [ "$n" != 0 ]; then
		[ -e "$T_SYS/$TORTURE_PF/driver" ] || t_bind pf nvme
		t_numvfs 0
	fi
	echo >"$T_SYS/$TORTURE_PF/driver_override"
	[ "$(t_driver_of "$TORTURE_PF")" = nvme ] || t_bind pf nvme
	echo >"$T_SYS/$TORTURE_PF/driver_override"
}
