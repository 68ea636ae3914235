# shellcheck shell=bash disable=SC2034 # variables are used by the .bats files
# Helpers for the guest bats files (they run inside the QEMU guest only).

PF=${HISIMIG_PF:-0000:01:00.0}
PFDIR=/sys/bus/pci/devices/$PF
REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
VFIO_OPEN=$REPO/build/guest/vfio-open
TRACING=/sys/kernel/tracing

# Fails (not skips) outside the guest: these tests change PCI and load modules.
require_guest() {
	if [ "${HISIMIG_GUEST:-}" != 1 ]; then
		echo "not inside the hisimig guest: run via 'make vm-check' or tests/guest/run-in-guest.sh" >&2
		return 1
	fi
}

# The PF needs a driver with sriov_configure (nvme); there is no udev to load it.
pf_ready() {
	modprobe nvme
	[ "$(basename "$(readlink "$PFDIR/driver")")" = nvme ]
}

# VFs start without driver: nvme would probe the still-offline VFs and fail.
sriov_enable() {
	echo 0 >"$PFDIR/sriov_drivers_autoprobe"
	echo "${1:-2}" >"$PFDIR/sriov_numvfs"
}

sriov_disable() { echo 0 >"$PFDIR/sriov_numvfs"; }

# vf_addr N: PCI address of VF N (from the PF's virtfnN link).
vf_addr() { basename "$(readlink "$PFDIR/virtfn$1")"; }

# bind_vfio BDF: hand a device to vfio-pci the way libvirt does.
bind_vfio() {
	modprobe vfio-pci
	echo vfio-pci >"/sys/bus/pci/devices/$1/driver_override"
	echo "$1" >/sys/bus/pci/drivers_probe
	[ "$(basename "$(readlink "/sys/bus/pci/devices/$1/driver")")" = vfio-pci ]
}

unbind() {
	[ -e "/sys/bus/pci/devices/$1/driver" ] || return 0
	echo "$1" >"/sys/bus/pci/devices/$1/driver/unbind"
}

# Leave the PF as the next test expects it, whatever a test left behind.
reset_pf() {
	[ -e "$PFDIR/sriov_numvfs" ] || return 0
	local n
	n=$(cat "$PFDIR/sriov_numvfs")
	[ "$n" = 0 ] || sriov_disable
}

# btf_dump FILE: cached raw dump of a BTF blob (bpftool takes ~1 s per dump).
btf_dump() {
	local out
	out=$BATS_FILE_TMPDIR/btf-$(basename "$1").txt
	[ -s "$out" ] || bpftool btf dump file "$1" >"$out"
	echo "$out"
}

# btf_member STRUCT MEMBER: "BYTE_OFFSET TYPE_ID" of MEMBER in the one struct
# named STRUCT of vmlinux BTF; fails if absent or not byte aligned.
btf_member() {
	local dump
	dump=$(btf_dump /sys/kernel/btf/vmlinux)
	awk -v s="$1" -v m="$2" '
		/^\[[0-9]+\] / { in_s = ($2 == "STRUCT" && $3 == "\x27" s "\x27"); next }
		in_s && $1 == "\x27" m "\x27" {
			split($2, t, "="); split($3, b, "=")
			if (b[2] % 8) exit 1
			print b[2] / 8, t[2]; found++
		}
		END { exit found == 1 ? 0 : 1 }' "$dump"
}

# btf_type ID: the "[ID] KIND 'name' ..." line of a vmlinux BTF type.
btf_type() { grep -m1 "^\[$1\] " "$(btf_dump /sys/kernel/btf/vmlinux)"; }

# kprobe NAME 'SYMBOL ARGS' [FILTER]: enable tracefs kprobe hisimig/NAME.
kprobe() {
	echo "p:hisimig/$1 $2" >>"$TRACING/kprobe_events"
	[ -z "${3:-}" ] || echo "$3" >"$TRACING/events/hisimig/$1/filter"
	echo 1 >"$TRACING/events/hisimig/$1/enable"
}

kprobes_clear() {
	[ -d "$TRACING/events/hisimig" ] && echo 0 >"$TRACING/events/hisimig/enable"
	echo >"$TRACING/kprobe_events"
	echo >"$TRACING/trace"
}

# kprobe_values NAME FIELD: the FIELD=VALUE values recorded for hisimig/NAME.
kprobe_values() {
	grep " $1: " "$TRACING/trace" | grep -o " $2=0x[0-9a-f]*" | cut -d= -f2 || true
}

# hex_add ADDR OFFSET: kernel address arithmetic (bash wraps at 2^64).
hex_add() { printf '0x%x\n' $(($1 + $2)); }
