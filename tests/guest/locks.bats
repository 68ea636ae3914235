#!/usr/bin/env bats
# Locks beyond device mutexes, live: the known global mutexes named
# in focused mode, and a lock-order cycle through a VFIO user predicted from
# real kernel paths before anything hangs. Clean orders repeated stay silent.

load guest-helpers

setup_file() {
	require_guest
	pf_ready
	[ -x "$HM" ] || { echo "missing $HM: run make first" >&2; return 1; }
	[ -x "$VFIO_OPEN" ] || { echo "missing $VFIO_OPEN" >&2; return 1; }
}

teardown() {
	[ -z "${tracer:-}" ] || kill -INT "$tracer" 2>/dev/null || true
	[ -z "${holder:-}" ] || kill -TERM "$holder" 2>/dev/null || true
	wait 2>/dev/null || true
	reset_pf
}

# hold_vf VF [vfio-open options]: a VFIO user holding VF open, in the background.
hold_vf() {
	local vf=$1
	shift
	"$VFIO_OPEN" "$@" "$vf" >"$BATS_TEST_TMPDIR/holder" 2>&1 &
	holder=$!
	for _ in $(seq 100); do
		grep -q "^device=$vf" "$BATS_TEST_TMPDIR/holder" && return 0
		sleep 0.1
	done
	cat "$BATS_TEST_TMPDIR/holder"
	return 1
}

@test "focused: a VFIO user takes the PF lock, later SR-IOV disable waits for it: cycle, no hang" {
	modprobe vfio-pci # loaded first: the VFIO hooks attach at start
	trace_start run --json --locks focused -o "$BATS_TEST_TMPDIR/user.hmt"
	sriov_enable 1
	vf=$(vf_addr 0)
	bind_vfio "$vf"
	# the user reads sriov_numvfs (device_lock(PF)) while it holds the VF
	hold_vf "$vf" --hold 3 --read "$PFDIR/sriov_numvfs"
	for _ in $(seq 50); do
		grep -q "^read " "$BATS_TEST_TMPDIR/holder" && break
		sleep 0.1
	done
	grep "^read " "$BATS_TEST_TMPDIR/holder"
	# PF lock, VF lock, then vfio_unregister_group_dev() waits until the
	# holder exits (3 s): a wait, not a deadlock, since the user runs
	timeout 60 bash -c "echo 0 >$PFDIR/sriov_numvfs"
	wait "$holder"
	holder=
	trace_stop
	cat "$BATS_TEST_TMPDIR/out"
	[ "$trace_status" -eq 1 ]
	grep '"kind":"lock-order-cycle"' "$BATS_TEST_TMPDIR/out" >"$BATS_TEST_TMPDIR/cycle"
	# the pseudo-lock of this VF, device locks by role (the driver a label)
	grep -q "vfio_user($vf) --> device_lock(pf) --> vfio_user($vf)" "$BATS_TEST_TMPDIR/cycle"
	grep -q 'pf:nvme' "$BATS_TEST_TMPDIR/cycle"
	grep -q 'sriov_numvfs_show' "$BATS_TEST_TMPDIR/cycle"
	[ "$(count_findings "$BATS_TEST_TMPDIR/out")" -eq 1 ]
	# replay elsewhere: the same finding
	run "$HM" replay --json "$BATS_TEST_TMPDIR/user.hmt"
	[ "$status" -eq 1 ]
	[[ "$output" == *"vfio_user($vf)"* ]]
	# the kernel walks an acquisition's stack at its WAIT only; every
	# recorded device-lock acquisition carries that stack
	"$HM" dump "$BATS_TEST_TMPDIR/user.hmt" | grep ' lock-acquired .*kind=device_lock' >"$BATS_TEST_TMPDIR/acquired"
	[ -s "$BATS_TEST_TMPDIR/acquired" ]
	run grep -c ' stack=-1 ' "$BATS_TEST_TMPDIR/acquired"
	[ "$output" = 0 ]
}

@test "focused: correct orders repeated (rescan, SR-IOV, VFIO users, BAR faults, resets) are silent; global, VFIO core and rwsem locks are named" {
	modprobe vfio-pci # loaded first: the VFIO hooks attach at start
	trace_start run --json --locks focused -o "$BATS_TEST_TMPDIR/clean.hmt"
	for _ in $(seq 3); do
		sriov_enable 2
		vf=$(vf_addr 0)
		bind_vfio "$vf"
		# a BAR fault (mmap_lock -> vma_lock -> memory_lock) and a VFIO
		# reset (memory_lock for write) by the VFIO user
		hold_vf "$vf" --touch-bar 0 --reset 2 --hold 1
		wait "$holder"
		holder=
		unbind "$vf"
		# pci_rescan_remove_lock (VFs have no remove attribute, and a PF
		# remove + rescan makes the next SR-IOV enable BUG() in 6.1 under
		# QEMU's NVMe: pci_iov_add_virtfn)
		echo 1 >/sys/bus/pci/rescan
		sriov_disable
	done
	trace_stop
	cat "$BATS_TEST_TMPDIR/out"
	[ "$trace_status" -eq 0 ]
	[ "$(count_findings "$BATS_TEST_TMPDIR/out")" -eq 0 ]
	"$HM" dump "$BATS_TEST_TMPDIR/clean.hmt" >"$BATS_TEST_TMPDIR/dump"
	[ -z "${HISIMIG_OUT:-}" ] || cp "$BATS_TEST_TMPDIR/dump" "$HISIMIG_OUT/locks-clean.dump"
	grep -q "^meta locks.mode=focused" "$BATS_TEST_TMPDIR/dump"
	grep -q "lock-class .*origin=1 name=pci_rescan_remove_lock" "$BATS_TEST_TMPDIR/dump"
	grep -q "lock-acquired .*kind=mutex .*origin=1" "$BATS_TEST_TMPDIR/dump"
	# the VFIO core's mutexes, learned at open, traced and named in focused mode
	grep -q "lock-class .*origin=4 name=vfio_device_set.lock$" "$BATS_TEST_TMPDIR/dump"
	grep -q "lock-class .*origin=4 name=vfio_group.group_lock$" "$BATS_TEST_TMPDIR/dump"
	grep -q "lock-acquired .*kind=mutex .*origin=4" "$BATS_TEST_TMPDIR/dump"
	# rwsems: pci_bus_sem (SR-IOV adds and removes VFs under it), the VFIO
	# user's mmap_lock, the device's memory_lock (and vma_lock on 6.1)
	grep -q "lock-class .*origin=1 name=pci_bus_sem$" "$BATS_TEST_TMPDIR/dump"
	grep -q "lock-acquired .*kind=rwsem(write) .*origin=1" "$BATS_TEST_TMPDIR/dump"
	grep -q "lock-class .*origin=2 name=mmap_lock$" "$BATS_TEST_TMPDIR/dump"
	grep -q "lock-class .*origin=4 name=vfio_pci_core_device.memory_lock$" "$BATS_TEST_TMPDIR/dump"
	grep -q "lock-acquired .*kind=rwsem(write) .*origin=4" "$BATS_TEST_TMPDIR/dump"
	grep -q "lock-acquired .*kind=rwsem(read) .*origin=4" "$BATS_TEST_TMPDIR/dump"
	# focused mode: no other mmap_lock than the VFIO user's, no other rwsem
	[ "$(grep -c 'lock-acquired .*kind=rwsem.*origin=3' "$BATS_TEST_TMPDIR/dump")" -eq 0 ]
}

@test "full: every mutex and rwsem is traced and the same clean run stays silent" {
	trace_start run --json --locks full -o "$BATS_TEST_TMPDIR/full.hmt"
	sriov_enable 2
	sriov_disable
	trace_stop
	cat "$BATS_TEST_TMPDIR/out"
	[ "$trace_status" -eq 0 ]
	[ "$(count_findings "$BATS_TEST_TMPDIR/out")" -eq 0 ]
	"$HM" dump "$BATS_TEST_TMPDIR/full.hmt" >"$BATS_TEST_TMPDIR/dump"
	grep -q "^meta locks.mode=full" "$BATS_TEST_TMPDIR/dump"
	# far more mutexes than the device ones, and every rwsem: any task's
	# mmap_lock (named), others by address
	[ "$(grep -c 'lock-acquired .*kind=mutex .*origin=3' "$BATS_TEST_TMPDIR/dump")" -gt 10 ]
	[ "$(grep -c 'lock-acquired .*kind=rwsem.*origin=3' "$BATS_TEST_TMPDIR/dump")" -gt 10 ]
	grep -q "lock-class .*origin=2 name=mmap_lock$" "$BATS_TEST_TMPDIR/dump"
}
