#!/usr/bin/env bats
# hisimig-trace against the hmtest drivers (tests/kmod) in a real kernel:
# every injected fault is reported as exactly the expected finding(s), on the
# right devices, live and again when the recording is replayed; correct
# migrations give no finding at all. Fault 3 (a real deadlock) hangs the
# guest: tests/guest/host/deadlock.bats checks it from the host.

load guest-helpers
load ../kmod/guest-lib

setup_file() {
	hm_setup_suite "$MIGCTL" "$HM"
}

teardown_file() {
	hm_teardown
}

setup() {
	hm_skip_unsupported
	hm_params_off
	# options shared by the live run and the replay of its recording
	HM_OPTS=()
	TRACE=$BATS_TEST_TMPDIR/trace.hmt
}

teardown() {
	[ -z "${tracer:-}" ] || kill -INT "$tracer" 2>/dev/null || true
	[ -z "${bg:-}" ] || kill -TERM "$bg" 2>/dev/null || true
	wait 2>/dev/null || true
	# kept for post-mortems on the host (build/guest/runs/*/)
	[ -z "${HISIMIG_OUT:-}" ] || [ ! -s "$BATS_TEST_TMPDIR/out" ] ||
		cp "$BATS_TEST_TMPDIR/out" "$HISIMIG_OUT/faults-$BATS_TEST_NUMBER.ndjson"
	hm_params_off
	hm_sriov_off
}

trace_fault() { trace_start run --json "${HM_OPTS[@]}" -o "$TRACE"; }

# kinds_severities FILE: the "kind severity" pairs of NDJSON FILE's findings, sorted,
# each once (a lock-order cycle may also show through a longer path), but for
# the info that a preemptible kernel skipped hook runs (count_findings)
kinds_severities() {
	jq -r 'select(.type == "finding") | .data.kind + " " + .data.severity' "$1" |
		grep -vx 'lost-events info' | sort -u
}

# expect_findings ["KIND SEVERITY"]...: the live run reported exactly these,
# exited accordingly, and its recording replays to the same kinds+fingerprints.
expect_findings() {
	cat "$BATS_TEST_TMPDIR/out"
	diff <(printf '%s\n' "$@" | sed '/^$/d' | sort) <(kinds_severities "$BATS_TEST_TMPDIR/out")
	[ "$trace_status" -eq $(($# > 0)) ]
	run "$HM" replay --json "${HM_OPTS[@]}" "$TRACE"
	[ "$status" -eq "$trace_status" ]
	diff <(findings_of "$BATS_TEST_TMPDIR/out") <(findings_of /dev/stdin <<<"$output")
}

# devices_of KIND: "BDF ROLE" of the devices the KIND finding names
devices_of() {
	jq -r --arg k "$1" 'select(.type == "finding" and .data.kind == $k) |
		.data.devices[] | .bdf + " " + .role' "$BATS_TEST_TMPDIR/out"
}

# expect_devices KIND "BDF ROLE"...
expect_devices() {
	local kind=$1
	shift
	diff <(printf '%s\n' "$@") <(devices_of "$kind")
}

@test "clean: 20 ping-pong migrations, resets and SR-IOV disable give no finding" {
	hm_setup 2
	trace_fault
	run "$MIGCTL" migrate --cycles 20 --pingpong "$VF0" "$VF1"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ "$(field result result)" = ok ]
	echo 1 >"/sys/bus/pci/devices/$VF0/reset"
	sriov_disable
	trace_stop
	expect_findings
	# the migration files' mutexes were learned from their read()/write()
	"$HM" dump "$TRACE" | grep -q " lock-class .* origin=4 name=hmtest_vf:migf.lock$"
}

@test "fault 1: device_lock(PF) in reset_done under the VF lock, then SR-IOV disable" {
	hm_setup 1
	hm_param fault_pf_lock 1
	trace_fault
	echo 1 >"/sys/bus/pci/devices/$VF0/reset"
	[ "$(hm_status "$VF0" pf_locks)" = 1 ]
	# sriov_numvfs_store: PF lock, then each VF's: the other half of the cycle
	sriov_disable
	trace_stop
	expect_findings "vf-pf-lock-order error" "lock-order-cycle error"
	expect_devices vf-pf-lock-order "$VF0 vf" "$PF pf"
}

@test "fault 2: device_trylock(PF) in reset_done under the VF lock" {
	hm_setup 1
	hm_param fault_pf_lock 2
	trace_fault
	echo 1 >"/sys/bus/pci/devices/$VF0/reset"
	[ "$(hm_status "$VF0" pf_locks)" = 1 ]
	sriov_disable
	trace_stop
	expect_findings "vf-pf-trylock warning"
	expect_devices vf-pf-trylock "$VF0 vf" "$PF pf"
}

@test "fault 4: STOP -> STOP_COPY fails, the device is left in ERROR until reset" {
	hm_setup 1
	hm_param fault_fail_state 3
	trace_fault
	# What QEMU does on a failed transition: try the recover state, then reset.
	run "$MIGCTL" run "$VF0" --set STOP_COPY --set RUNNING --reset --get
	echo "$output"
	[ "$(field "set dev=$VF0 from=RUNNING to=STOP_COPY" state)" = ERROR ]
	[ "$(field "get dev=$VF0" state)" = RUNNING ]
	trace_stop
	expect_findings "mig-transition-failed error" "mig-error-state error"
	expect_devices mig-transition-failed "$VF0 vf"
	expect_devices mig-error-state "$VF0 vf"
}

@test "fault 5: the driver skips the core FSM and runs RUNNING -> STOP_COPY as one arc" {
	hm_setup 1
	hm_param fault_skip_core_fsm Y
	trace_fault
	run "$MIGCTL" run "$VF0" --set STOP_COPY --get
	echo "$output"
	[ "$(field "set dev=$VF0 from=RUNNING to=STOP_COPY" rc)" = -22 ]
	[ "$(hm_status "$VF0" illegal_arcs)" = 1 ]
	trace_stop
	expect_findings "mig-transition-failed error"
	expect_devices mig-transition-failed "$VF0 vf"
}

@test "fault 6: a slow stop-copy is downtime over --mig-downtime-max-ms" {
	hm_setup 2
	hm_param fault_stop_copy_delay_ms 1500
	HM_OPTS=(--mig-downtime-max-ms 500)
	trace_fault
	run "$MIGCTL" migrate "$VF0" "$VF1"
	echo "$output"
	[ "$status" -eq 0 ]
	trace_stop
	expect_findings "mig-downtime warning"
	expect_devices mig-downtime "$VF0 vf"
	[ "$(jq 'select(.type == "finding" and .data.kind == "mig-downtime") | .data.duration_ns' "$BATS_TEST_TMPDIR/out")" -ge 1500000000 ]
}

@test "fault 7: PF drvdata cached at probe is used after the PF driver unbound" {
	hm_param fault_cache_pf_data Y
	hm_pf_param fault_keep_vfs_on_remove Y
	hm_setup 1
	trace_fault
	hm_unbind "$PF"
	run "$MIGCTL" run "$VF0" --set STOP_COPY --read
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(hm_status "$VF0" stale_pf_uses)" -ge 1 ]
	trace_stop
	expect_findings "pf-drvdata-after-unbind error"
	expect_devices pf-drvdata-after-unbind "$VF0 vf" "$PF pf"
	jq -r 'select(.type == "finding") | .data.summary' "$BATS_TEST_TMPDIR/out" |
		grep -q "^hmtest_vf_use_pf_data on VF $VF0 used the driver data of PF $PF"
}

@test "fault 7 off: without the cache the VF cannot reach the unbound PF: migration fails, no drvdata finding" {
	hm_pf_param fault_keep_vfs_on_remove Y
	hm_setup 1
	trace_fault
	hm_unbind "$PF"
	run "$MIGCTL" run "$VF0" --set STOP_COPY
	[ "$(field "set dev=$VF0 from=RUNNING to=STOP_COPY" rc)" = -22 ]
	trace_stop
	expect_findings "mig-transition-failed error"
}

@test "fault 8: SR-IOV disable while the VF is in STOP_COPY" {
	hm_setup 1
	trace_fault
	"$MIGCTL" run "$VF0" --wait-request --set STOP_COPY --hold 30000 --read >"$BATS_TEST_TMPDIR/mig" &
	bg=$!
	wait_for_line "$BATS_TEST_TMPDIR/mig" "^set dev=$VF0 .* to=STOP_COPY rc=0"
	timeout 25 sh -c "echo 0 >$PFDIR/sriov_numvfs"
	wait "$bg"
	bg=
	grep -q "^released dev=$VF0 reason=request" "$BATS_TEST_TMPDIR/mig"
	trace_stop
	expect_findings "mig-sriov-disable error"
	expect_devices mig-sriov-disable "$PF pf" "$VF0 vf"
}

@test "fault 9: FLR during STOP_COPY loses the migration" {
	hm_setup 1
	trace_fault
	"$MIGCTL" run "$VF0" --set STOP_COPY --hold 5000 --read --get >"$BATS_TEST_TMPDIR/mig" &
	bg=$!
	wait_for_line "$BATS_TEST_TMPDIR/mig" "^set dev=$VF0 .* to=STOP_COPY rc=0"
	echo 1 >"/sys/bus/pci/devices/$VF0/reset"
	wait "$bg" || true
	bg=
	grep -q "^get dev=$VF0 rc=0 state=RUNNING" "$BATS_TEST_TMPDIR/mig"
	trace_stop
	expect_findings "mig-reset-during-migration warning"
	expect_devices mig-reset-during-migration "$VF0 vf"
}

# cycle_lines: the lock-order-cycle findings, one line each
cycle_lines() {
	jq -c 'select(.type == "finding" and .data.kind == "lock-order-cycle")' "$BATS_TEST_TMPDIR/out"
}

# expect_state_mutex_named: the cycle names the learned lock, in the trace too
expect_state_mutex_named() {
	cycle_lines | grep -q 'hmtest_vf:state_mutex'
	"$HM" dump "$TRACE" | grep -q " lock-class .* origin=4 name=hmtest_vf:state_mutex$"
}

# state_mutex_fault PARAM: one VF whose reset_done waits for state_mutex, the
# fault PARAM on, traced; a migration's set_state (state_mutex, learned as
# its first mutex) then takes what PARAM makes it take
state_mutex_fault() {
	hm_setup 1
	hm_param reset_waits_state_mutex Y
	hm_param "$1" Y
	trace_fault
	run "$MIGCTL" run "$VF0" --set STOP --set RUNNING
	[ "$status" -eq 0 ] || { echo "$output"; false; }
}

@test "fault 10: set_state takes the VF lock under state_mutex, an FLR waits for state_mutex: cycle, no hang" {
	# state_mutex -> device_lock(VF)
	state_mutex_fault fault_state_vf_lock
	# later, apart: sysfs reset holds device_lock(VF), reset_done -> state_mutex
	echo 1 >"/sys/bus/pci/devices/$VF0/reset"
	trace_stop
	expect_findings "lock-order-cycle error"
	expect_state_mutex_named
}

# touch_and_reset VF: a VFIO user faults on the VF's BAR 0 (mmap_lock ->
# memory_lock), then VFIO_DEVICE_RESET (memory_lock -> reset_done)
touch_and_reset() {
	run "$VFIO_OPEN" --touch-bar 0 --reset 1 "$1"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ "$output" == *"reset 1 times"* ]]
}

@test "reset_done waiting for state_mutex (hisi >= 6.9) without the fault: migrations, BAR faults and resets stay silent" {
	hm_setup 2
	hm_param reset_waits_state_mutex Y
	trace_fault
	for _ in 1 2 3; do
		run "$MIGCTL" migrate --cycles 2 --pingpong "$VF0" "$VF1"
		[ "$status" -eq 0 ] || { echo "$output"; false; }
		echo 1 >"/sys/bus/pci/devices/$VF0/reset"
		echo 1 >"/sys/bus/pci/devices/$VF1/reset"
		touch_and_reset "$VF0"
	done
	trace_stop
	expect_findings
	"$HM" dump "$TRACE" >"$BATS_TEST_TMPDIR/dump"
	grep -q " lock-class .* origin=4 name=hmtest_vf:state_mutex$" "$BATS_TEST_TMPDIR/dump"
	# the rwsems of these paths were traced (focused mode): the VFIO user's
	# mmap_lock and the device's memory_lock, taken for read and for write
	grep -q " lock-class .* origin=2 name=mmap_lock$" "$BATS_TEST_TMPDIR/dump"
	grep -q " lock-class .* origin=4 name=vfio_pci_core_device.memory_lock$" "$BATS_TEST_TMPDIR/dump"
	grep -q " lock-acquired .*kind=rwsem(read) .*origin=4" "$BATS_TEST_TMPDIR/dump"
	grep -q " lock-acquired .*kind=rwsem(write) .*origin=4" "$BATS_TEST_TMPDIR/dump"
}

@test "fault 12: the migration file's read takes state_mutex under the file's mutex: cycle, no hang" {
	hm_setup 1
	hm_param fault_read_state_mutex Y
	trace_fault
	# read(): migf.lock -> state_mutex; then STOP: state_mutex -> migf.lock
	# (set_state disables the saving file), one task, one after the other
	run "$MIGCTL" run "$VF0" --set STOP --set STOP_COPY --read --set STOP --set RUNNING
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	trace_stop
	expect_findings "lock-order-cycle error"
	expect_state_mutex_named
	cycle_lines | grep -q 'hmtest_vf:migf.lock'
}

@test "fault 11: set_state takes mmap_lock under state_mutex; BAR fault, VFIO reset: cycle through two rwsems, no hang" {
	# state_mutex -> mmap_lock (migctl is the VFIO user)
	state_mutex_fault fault_state_mm
	# later, apart: mmap_lock -> memory_lock, then memory_lock -> state_mutex
	touch_and_reset "$VF0"
	trace_stop
	expect_findings "lock-order-cycle error"
	expect_state_mutex_named
	# one finding (one line) names the whole cycle
	cycle_lines | grep 'mmap_lock' | grep 'vfio_pci_core_device.memory_lock' |
		grep -q 'hmtest_vf:state_mutex'
}
