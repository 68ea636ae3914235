#!/usr/bin/env bats
# The upstream hisi_acc_vfio_pci in the guest: the HiSilicon QM,
# ZIP, SEC2, HPRE and hisi-acc-vfio-pci modules built from Debian's
# linux-source for this kernel (make hisi), bound to the emulated NVMe VFs.
# Not HiSilicon VFs, so probe picks the generic (non-migration) vfio ops, but
# the driver's real probe, hisi_acc_get_pf_qm, open, reset_done and remove
# paths run -- remove also under SR-IOV disable, the path of the 2021 review.

load guest-helpers

setup_file() {
	require_guest
	pf_ready
	[ -x "$HM" ] || { echo "missing $HM: run make first" >&2; return 1; }
}

setup() {
	# shellcheck source=tests/hisi/guest-lib.bash
	. "$REPO/tests/hisi/guest-lib.bash"
	hisi_built || skip "no HiSilicon modules for $HISIMIG_KVER: make hisi"
	[ -x "$VFIO_OPEN" ] || { echo "missing $VFIO_OPEN"; return 1; }
}

teardown() {
	[ -z "${tracer:-}" ] || kill -INT "$tracer" 2>/dev/null || true
	wait 2>/dev/null || true
	reset_pf
	hisi_unload # after the tracer exited: its fentry links pin the module
}

# first_line DUMP PATTERN: line number of the first event whose type and
# fields match PATTERN (anchored: comm=vfio-open is not a vfio-open event)
# (fails if there is none).
first_line() { grep -n -m1 -E -- "^[0-9]+ $2" "$1" | cut -d: -f1 | grep .; }

# in_order DUMP PATTERN...: each PATTERN first matches after the previous one.
in_order() {
	local d=$1 prev=0 n p
	shift
	for p in "$@"; do
		n=$(first_line "$d" "$p") || { echo "no event: $p"; return 1; }
		[ "$n" -gt "$prev" ] || { echo "out of order: $p (line $n <= $prev)"; return 1; }
		prev=$n
	done
}

# hisi_hooks_json: the hisi_acc_vfio_pci entries of `probe -j`, "function mode" lines.
hisi_hooks() {
	"$HM" probe -j "$@" | jq -r '.attach[] | select(.module == "hisi_acc_vfio_pci") | .function + " " + .mode'
}

# in_module_syms FUNC: FUNC is a text symbol of the loaded hisi_acc_vfio_pci.
in_module_syms() { grep -Eq "^[0-9a-f]+ [tT] $1\s+\[hisi_acc_vfio_pci\]$" /proc/kallsyms; }

# check_attach_list MODE: every hisi callback hisimig-trace hooks attaches
# (by MODE) exactly when this build of the module has it out of line.
check_attach_list() {
	local func mode n=0
	while read -r func mode; do
		echo "$func: $mode"
		if in_module_syms "$func"; then
			[ "$mode" = "$1" ] || { echo "$func is in kallsyms but plans '$mode'"; return 1; }
			n=$((n + 1))
		else
			[ "$mode" = missing ] || { echo "$func is not in kallsyms but plans '$mode'"; return 1; }
		fi
	done < <(hisi_hooks)
	# Address-taken callbacks are never inlined (kernel-facts Q1): both attach.
	[ "$n" -ge 2 ]
}

@test "the HiSilicon modules load and hisi_acc_vfio_pci binds to the NVMe VFs" {
	hisi_load
	for m in hisi_qm hisi_zip hisi_sec2 hisi_hpre hisi_acc_vfio_pci; do
		[ -d "/sys/module/$m" ]
	done
	sriov_enable 2
	for i in 0 1; do
		vf=$(vf_addr "$i")
		hisi_bind "$vf"
		# the VFIO device exists: vfio_pci_core_register_device ran in probe
		[ -e "/dev/vfio/$(basename "$(readlink "/sys/bus/pci/devices/$vf/iommu_group")")" ]
	done
	# Not a HiSilicon VF: no PF qm, the generic ops, so no migration support.
	run "$VFIO_OPEN" "$(vf_addr 0)"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "probe: the hisi callbacks attach by fentry exactly when the module has them" {
	hisi_load
	[ -d /sys/kernel/btf/hisi_acc_vfio_pci ] || [ -e /sys/kernel/btf/hisi_acc_vfio_pci ]
	check_attach_list "$AUTO_MODE"
}

@test "probe: without module BTF the hisi callbacks attach by kprobe" {
	hisi_load "$(hisi_vf_ko_without_btf "$BATS_TEST_TMPDIR")"
	[ ! -e /sys/kernel/btf/hisi_acc_vfio_pci ]
	check_attach_list kprobe
}

# traced_story: the real driver's life on both VFs, traced by a hisimig-trace
# started before the module loads; leaves the dump in $d.
traced_story() {
	local vf0 vf1 ko=${1:-}
	hisi_unload
	trace_start run --json -o "$BATS_TEST_TMPDIR/hisi.hmt"
	hisi_load $ko
	# The loader re-reads /proc/modules every 2 s: wait for the late attach.
	for _ in $(seq 100); do
		grep -q "late attach: hisi_acc_vf_pci_aer_reset_done" "$BATS_TEST_TMPDIR/err" && break
		sleep 0.1
	done
	sriov_enable 2
	vf0=$(vf_addr 0) vf1=$(vf_addr 1)
	hisi_bind "$vf0"
	hisi_bind "$vf1"
	run "$VFIO_OPEN" "$vf0" # open_device (resets the VF: reset_done), then close
	[ "$status" -eq 0 ]
	echo 1 >"/sys/bus/pci/devices/$vf1/reset" # FLR: the driver's reset_done
	unbind "$vf1"
	sriov_disable # VF0 still bound: removed under SR-IOV disable
	trace_stop
	cat "$BATS_TEST_TMPDIR/out"
	[ "$trace_status" -eq 0 ]
	[ "$(count_findings "$BATS_TEST_TMPDIR/out")" -eq 0 ]
	d=$BATS_TEST_TMPDIR/dump
	"$HM" dump "$BATS_TEST_TMPDIR/hisi.hmt" >"$d"
	[ -z "${HISIMIG_OUT:-}" ] || cp "$d" "$HISIMIG_OUT/hisi-test$BATS_TEST_NUMBER.dump"
	grep '^meta attach.hisi\|^end ' "$d"
	grep -Eq "^end events=[0-9]+ lost=0 " "$d"
}

# check_story DUMP: devices, roles, driver and order of the story's events.
check_story() {
	local d=$1 pf=$PF vf0=0000:01:00.1 vf1=0000:01:00.2 drv=hisi_acc_vfio_pci
	grep -v ' lock-' "$d" | grep -v '^meta' # shown when a check fails
	# No pf-drvdata: hisi_acc_get_pf_qm() only calls pci_iov_get_pf_drvdata()
	# for HiSilicon VF device ids, and these are NVMe VFs.
	in_order "$d" \
		"bind-end .*ret=0 .*dev=$vf0 role=vf driver=$drv .*pf=$pf vf_id=0" \
		"bind-end .*ret=0 .*dev=$vf1 role=vf driver=$drv .*pf=$pf vf_id=1" \
		"device-reset .*kind=1 .*dev=$vf0 role=vf driver=$drv" \
		"vfio-open .*ret=0 .*dev=$vf0 role=vf driver=$drv" \
		"vfio-close .*dev=$vf0 role=vf driver=$drv" \
		"device-reset .*kind=1 .*dev=$vf1 role=vf driver=$drv" \
		"unbind-begin .*dev=$vf1 role=vf driver=$drv" \
		"vfio-unregister-begin .*dev=$vf1" \
		"unbind-end .*dev=$vf1" \
		"sriov-disable-begin .*dev=$pf role=pf driver=nvme" \
		"unbind-begin .*dev=$vf0 role=vf driver=$drv" \
		"vfio-unregister-end .*dev=$vf0" \
		"vf-removed .*dev=$vf0 role=vf .*pf=$pf vf_id=0" \
		"sriov-disable-end .*dev=$pf role=pf"
	# VF0's device lock taken while the same task holds the PF's: PF first.
	grep -q "lock-acquired .*dev=$vf0 role=vf driver=$drv" "$d"
}

@test "run: the real driver's bind, open/close, reset, unbind and SR-IOV disable, zero findings" {
	traced_story
	grep -q "^meta attach.hisi_acc_vfio_pci_set_device_state=$AUTO_MODE" "$d"
	grep -q "^meta attach.hisi_acc_vf_pci_aer_reset_done=$AUTO_MODE" "$d"
	grep -q "late attach: hisi_acc_vf_pci_aer_reset_done: $AUTO_MODE" "$BATS_TEST_TMPDIR/err"
	check_story "$d"
}

@test "run: the same story by kprobe when the module has no BTF" {
	traced_story "$(hisi_vf_ko_without_btf "$BATS_TEST_TMPDIR")"
	grep -q "^meta attach.hisi_acc_vf_pci_aer_reset_done=kprobe" "$d"
	grep -q "late attach: hisi_acc_vf_pci_aer_reset_done: kprobe" "$BATS_TEST_TMPDIR/err"
	check_story "$d"
}
