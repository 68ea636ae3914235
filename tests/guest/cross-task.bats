#!/usr/bin/env bats
# Live, in a real kernel: a PF/VF lock-order violation through a kworker
# (flush_work under the VF lock), the seed bug in a real VF probe, and a PF
# driver unbound with SR-IOV left enabled (nvme). Each gives exactly the
# expected findings on the right devices, live and again from the recording.

load guest-helpers
load ../kmod/guest-lib

setup_file() {
	require_guest
	pf_ready
	hm_setup_suite "$HM"
}

teardown_file() {
	hm_teardown
}

setup() {
	TRACE=$BATS_TEST_TMPDIR/trace.hmt
}

teardown() {
	# a VFIO user left holding a VF would block SR-IOV disable for good
	[ -z "${holder:-}" ] || kill -TERM "$holder" 2>/dev/null || true
	[ -z "${tracer:-}" ] || kill -INT "$tracer" 2>/dev/null || true
	wait 2>/dev/null || true
	[ -z "${HISIMIG_OUT:-}" ] || [ ! -s "$BATS_TEST_TMPDIR/out" ] ||
		cp "$BATS_TEST_TMPDIR/out" "$HISIMIG_OUT/cross-task-$BATS_TEST_NUMBER.ndjson"
	[ ! -d /sys/module/hmtest_vf ] || hm_params_off
	# the PF back on a driver that can disable SR-IOV
	[ -e "$PFDIR/driver" ] || echo "$PF" >/sys/bus/pci/drivers_probe
	hm_sriov_off
}

# "kind severity BDF,BDF..." per finding of the live run (devices sorted),
# but for the info that a preemptible kernel skipped hook runs
finding_set() {
	jq -r 'select(.type == "finding") | .data |
		select(.kind != "lost-events" or .severity != "info") |
		"\(.kind) \(.severity) \([.devices[].bdf] | unique | join(","))"' "$1" | sort -u
}

# expect_findings LINE...: the live run found exactly these, its exit status
# says so, and the recording replays to the same kinds and fingerprints
expect_findings() {
	cat "$BATS_TEST_TMPDIR/out"
	diff <(printf '%s\n' "$@" | sed '/^$/d' | sort) <(finding_set "$BATS_TEST_TMPDIR/out")
	[ "$trace_status" -eq $(($# > 0)) ]
	run "$HM" replay --json "$TRACE"
	[ "$status" -eq "$trace_status" ]
	diff <(findings_of "$BATS_TEST_TMPDIR/out") <(findings_of /dev/stdin <<<"$output")
}

summary_of() {
	jq -r --arg k "$1" 'select(.type == "finding" and .data.kind == $k) | .data.summary' \
		"$BATS_TEST_TMPDIR/out"
}

@test "nvme unbound from the PF with its VFs enabled: SR-IOV left enabled" {
	[ "$(driver_of "$PF")" = nvme ] || skip "PF not on nvme"
	trace_start run --json -o "$TRACE"
	sriov_enable 2
	hm_unbind "$PF"
	[ "$(cat "$PFDIR/sriov_numvfs")" = 2 ]
	trace_stop
	expect_findings "sriov-left-enabled warning $PF,$VF0,$VF1"
	summary_of sriov-left-enabled | grep -q "^PF $PF driver nvme unbound with SR-IOV enabled: 2 VF(s) remain"
}

@test "SR-IOV disable held up by a VFIO user: reported while it still waits, naming the user" {
	[ "$(driver_of "$PF")" = nvme ] || skip "PF not on nvme"
	# vfio's hooks attach at start, not during the wait: attaching late makes
	# records (RCU tasks completions), and this wait must make none
	modprobe vfio-pci
	trace_start run --json -o "$TRACE"
	sriov_enable 1
	bind_vfio "$VF0"
	"$VFIO_OPEN" --hold 0 "$VF0" >"$BATS_TEST_TMPDIR/hold" &
	holder=$!
	wait_for_line "$BATS_TEST_TMPDIR/hold" fd=
	sriov_disable &
	disabler=$!
	# the waiting kernel makes no records: the tracer's clock reports it,
	# past the default threshold of 5 s
	wait_for_line "$BATS_TEST_TMPDIR/out" '"kind":"sriov-disable-blocked"' 30
	kill -0 "$disabler"
	# soon after the threshold: the wait's next record, vfio_unregister_group_dev's
	# 10 s request retry, comes later
	jq -e 'select(.type == "finding") | .data.duration_ns < 9000000000' "$BATS_TEST_TMPDIR/out"
	kill -TERM "$holder"
	wait "$holder" || true
	holder=
	wait "$disabler"
	trace_stop
	expect_findings "sriov-disable-blocked warning $PF,$VF0"
	summary_of sriov-disable-blocked |
		grep -q "^SR-IOV disable on PF $PF blocked for .*: VF $VF0 is still open by VFIO user \"vfio-open\""
}

@test "fault 13: the VF's store flushes work that takes the PF lock, then SR-IOV disable" {
	hm_skip_unsupported
	hm_setup 1
	trace_start run --json -o "$TRACE"
	echo 1 >"/sys/bus/pci/devices/$VF0/pf_work"
	[ "$(hm_status "$VF0" pf_works)" = 1 ]
	sriov_disable
	trace_stop
	expect_findings "vf-pf-lock-order error $PF,$VF0" "lock-order-cycle error $PF,$VF0"
	# one finding names the flusher, the kworker and the work function
	summary_of vf-pf-lock-order |
		grep -Eq "^task bash/[0-9]+ flushes work:hmtest_vf_pf_work while holding device_lock\($VF0 .*\); the work, run by kworker/[^ ]+, takes device_lock\($PF "
	summary_of lock-order-cycle | grep -q "work:hmtest_vf_pf_work"
}

@test "fault 14: a VF's probe takes the PF lock, then SR-IOV disable" {
	hm_skip_unsupported
	hm_load
	hm_bind "$PF" hmtest_pf
	trace_start run --json -o "$TRACE"
	echo 0 >"$PFDIR/sriov_drivers_autoprobe"
	echo 1 >"$PFDIR/sriov_numvfs"
	hm_param fault_probe_pf_lock Y
	# drivers_probe: the binding task holds the VF lock (__device_attach), not the PF's
	hm_bind "$VF0" hmtest_vf
	hm_param fault_probe_pf_lock N
	[ "$(hm_status "$VF0" pf_locks)" = 1 ]
	sriov_disable
	trace_stop
	# the violation itself, and the cycle SR-IOV disable closes: the VF
	# locked unbound in probe and bound in disable is one lock class
	expect_findings "vf-pf-lock-order error $PF,$VF0" "lock-order-cycle error $PF,$VF0"
	run "$HM" replay "$TRACE"
	[[ "$output" == *"hmtest_vf_probe"* ]]
}
