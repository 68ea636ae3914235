#!/usr/bin/env bats
# SR-IOV and VFIO on QEMU's NVMe PF (guest only; see docs/guest.md).

load guest-helpers

setup_file() {
	require_guest
	pf_ready
}

teardown() {
	# A failed test may leave its VFIO holder running: it would block reset_pf.
	[ -z "${holder:-}" ] || kill -TERM "$holder" 2>/dev/null || true
	wait 2>/dev/null || true
	reset_pf
}

@test "PF is an SR-IOV capable NVMe controller bound to nvme" {
	[ "$(cat "$PFDIR/vendor"):$(cat "$PFDIR/device")" = 0x1b36:0x0010 ]
	[ "$(cat "$PFDIR/sriov_totalvfs")" = 2 ]
	[ "$(cat "$PFDIR/sriov_numvfs")" = 0 ]
	[ "$(basename "$(readlink "$PFDIR/driver")")" = nvme ]
}

@test "enabling SR-IOV creates VFs with physfn links" {
	sriov_enable 2
	[ "$(cat "$PFDIR/sriov_numvfs")" = 2 ]
	for i in 0 1; do
		vf=$(vf_addr "$i")
		[ "$vf" = "0000:01:00.$((i + 1))" ]
		[ "$(basename "$(readlink "/sys/bus/pci/devices/$vf/physfn")")" = "$PF" ]
		# autoprobe was off: no driver may have claimed the VF.
		[ ! -e "/sys/bus/pci/devices/$vf/driver" ]
	done
	[ ! -e "$PFDIR/virtfn2" ]
}

@test "disabling SR-IOV removes the VFs" {
	sriov_enable 2
	[ -e /sys/bus/pci/devices/0000:01:00.1 ]
	sriov_disable
	[ "$(cat "$PFDIR/sriov_numvfs")" = 0 ]
	[ ! -e "$PFDIR/virtfn0" ]
	[ ! -e /sys/bus/pci/devices/0000:01:00.1 ]
	[ ! -e /sys/bus/pci/devices/0000:01:00.2 ]
}

@test "a VF binds to vfio-pci and its VFIO device opens" {
	[ -x "$VFIO_OPEN" ] || { echo "missing $VFIO_OPEN (built by make vm-check)"; false; }
	sriov_enable 1
	vf=$(vf_addr 0)
	bind_vfio "$vf"
	group=$(basename "$(readlink "/sys/bus/pci/devices/$vf/iommu_group")")
	[ -c "/dev/vfio/$group" ]
	run "$VFIO_OPEN" "$vf"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output =~ ^device=$vf\ group=$group\ fd=[0-9]+\ regions=([0-9]+)\ irqs=[0-9]+$ ]]
	# vfio-pci exposes BARs, ROM, config space (and VGA) regions.
	[ "${BASH_REMATCH[1]}" -ge 8 ]
	unbind "$vf"
}

@test "SR-IOV disable waits while a VF's VFIO device is held open" {
	sriov_enable 1
	vf=$(vf_addr 0)
	bind_vfio "$vf"
	"$VFIO_OPEN" --hold 0 "$vf" >"$BATS_TEST_TMPDIR/hold" &
	holder=$!
	for _ in $(seq 50); do grep -q fd= "$BATS_TEST_TMPDIR/hold" && break; sleep 0.1; done
	grep -q fd= "$BATS_TEST_TMPDIR/hold"
	sriov_disable &
	disabler=$!
	sleep 3
	# Still blocked in vfio_unregister_group_dev: the VF must still exist.
	kill -0 "$disabler"
	[ -e "/sys/bus/pci/devices/$vf" ]
	kill -TERM "$holder"
	wait "$holder"
	wait "$disabler"
	[ ! -e "/sys/bus/pci/devices/$vf" ]
	[ "$(cat "$PFDIR/sriov_numvfs")" = 0 ]
}
