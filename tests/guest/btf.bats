#!/usr/bin/env bats
# BTF and the device mutexes the BPF side needs (guest only).

load guest-helpers

setup_file() {
	require_guest
	pf_ready
}

teardown() {
	kprobes_clear
	reset_pf
}

@test "vmlinux BTF is present and describes struct device" {
	[ -r /sys/kernel/btf/vmlinux ]
	grep -q "^\[[0-9]*\] STRUCT 'device' size=" "$(btf_dump /sys/kernel/btf/vmlinux)"
}

@test "vfio_pci_core module BTF appears after modprobe" {
	modprobe vfio-pci
	[ -r /sys/kernel/btf/vfio_pci_core ]
	# Split BTF on top of vmlinux (bpftool bases /sys/kernel/btf/* on vmlinux).
	run bpftool btf dump file /sys/kernel/btf/vfio_pci_core
	[ "$status" -eq 0 ]
	grep -q "FUNC 'vfio_pci_core_unregister_device'" <<<"$output"
	grep -q "FUNC 'vfio_pci_core_register_device'" <<<"$output"
}

@test "BTF gives the offsets of device.mutex and pci_dev.dev" {
	read -r mutex_off mutex_type < <(btf_member device mutex)
	read -r dev_off dev_type < <(btf_member pci_dev dev)
	echo "device.mutex at $mutex_off (type $mutex_type), pci_dev.dev at $dev_off (type $dev_type)"
	[[ $(btf_type "$mutex_type") =~ ^\[$mutex_type\]\ STRUCT\ \'mutex\'\ size=([0-9]+) ]]
	mutex_size=${BASH_REMATCH[1]}
	[[ $(btf_type "$dev_type") =~ ^\[$dev_type\]\ STRUCT\ \'device\'\ size=([0-9]+) ]]
	device_size=${BASH_REMATCH[1]}
	[ "$mutex_off" -gt 0 ] && [ $((mutex_off + mutex_size)) -le "$device_size" ]
	# Brought back to the host for the BPF issue (build/guest/runs/*/).
	printf 'kver=%s device.mutex=%s pci_dev.dev=%s mutex.size=%s\n' \
		"$HISIMIG_KVER" "$mutex_off" "$dev_off" "$mutex_size" >>"${HISIMIG_OUT:-$BATS_FILE_TMPDIR}/btf-offsets.txt"
}

# The offsets are only useful if pdev + off(pci_dev.dev) + off(device.mutex)
# is the lock the kernel really takes: check that against live mutex_lock calls.
@test "the PF's device mutex computed from BTF is the one sriov_numvfs_store locks" {
	read -r mutex_off _ < <(btf_member device mutex)
	read -r dev_off _ < <(btf_member pci_dev dev)
	kprobe numvfs "sriov_numvfs_store dev=$ARG1:x64"
	kprobe disable "sriov_disable pdev=$ARG1:x64"
	sriov_enable 1
	sriov_disable
	dev=$(kprobe_values numvfs dev | sort -u)
	pdev=$(kprobe_values disable pdev | sort -u)
	echo "PF struct device $dev, struct pci_dev $pdev"
	[ -n "$dev" ] && [ -n "$pdev" ]
	[ "$(hex_add "$pdev" "$dev_off")" = "$dev" ]

	kprobes_clear
	lock=$(hex_add "$dev" "$mutex_off")
	kprobe lock "mutex_lock lock=$ARG1:x64" "lock == $lock"
	sriov_enable 1
	echo 0 >"$TRACING/events/hisimig/enable"
	hits=$(kprobe_values lock lock | grep -c "^$lock\$" || true)
	echo "mutex_lock($lock) seen $hits times"
	[ "$hits" -ge 1 ]
}

@test "a VF's device mutex computed from BTF is the one unbinding it locks" {
	read -r mutex_off _ < <(btf_member device mutex)
	sriov_enable 1
	vf=$(vf_addr 0)
	kprobe probe "pci_device_probe dev=$ARG1:x64"
	bind_vfio "$vf"
	dev=$(kprobe_values probe dev | sort -u)
	echo "VF $vf struct device $dev"
	[ "$(wc -w <<<"$dev")" -eq 1 ]

	kprobes_clear
	lock=$(hex_add "$dev" "$mutex_off")
	kprobe lock "mutex_lock lock=$ARG1:x64" "lock == $lock"
	unbind "$vf"
	echo 0 >"$TRACING/events/hisimig/enable"
	hits=$(kprobe_values lock lock | grep -c "^$lock\$" || true)
	echo "mutex_lock($lock) seen $hits times"
	[ "$hits" -ge 1 ]
}
