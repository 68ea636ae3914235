#!/usr/bin/env bats
# hmtest_pf/hmtest_vf (tests/kmod) and migctl (tests/migctl) in the guest:
# clean VFIO migrations with the bugs off, and each injected fault's
# observable effect with it on. Guest only; built by `make kmod migctl`.

load guest-helpers
REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
load ../kmod/guest-lib

setup_file() {
	hm_setup_suite "$MIGCTL"
}

teardown_file() {
	hm_teardown
}

setup() {
	hm_skip_unsupported
	hm_params_off
	warns_before=$(dmesg | grep -c 'WARNING:' || true)
}

teardown() {
	# A failed test may leave a migctl holding a VF: SR-IOV off would wait.
	[ -z "${bg:-}" ] || kill -TERM "$bg" 2>/dev/null || true
	wait 2>/dev/null || true
	hm_params_off
	hm_sriov_off
}

no_new_warnings() {
	[ "$(dmesg | grep -c 'WARNING:' || true)" = "$warns_before" ]
}

@test "hmtest_pf owns the PF, hmtest_vf the VFs, which advertise STOP_COPY" {
	hm_setup 2
	[ "$(driver_of "$PF")" = hmtest_pf ]
	[ "$(driver_of "$VF0")" = hmtest_vf ]
	[ "$(driver_of "$VF1")" = hmtest_vf ]
	[ "$(hm_status "$VF0" migration)" = 1 ]
	run "$MIGCTL" run "$VF0" --get
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(field "open dev=$VF0" migration_flags)" = 0x1 ]
	[ "$(field "get dev=$VF0" state)" = RUNNING ]
}

@test "clean migrations round-trip the device state (5 ping-pong cycles)" {
	hm_setup 2
	run "$MIGCTL" migrate --cycles 5 --pingpong "$VF0" "$VF1"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(field result result)" = ok ]
	[ "$(grep -c '^cycle=' <<<"$output")" = 5 ]
	# Every successful SET is confirmed by the GET that follows it.
	! grep '^set ' <<<"$output" | grep -v ' rc=0 '
	grep '^set ' <<<"$output" | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		if (f["to"] != f["state"]) { print "mismatch: " $0; bad = 1 } } END { exit bad }'
	# Last cycle VF0 -> VF1: what VF1 loaded and now holds is what VF0 saved.
	saved=$(hm_status "$VF0" saved_crc)
	[ "$saved" != 0x00000000 ]
	[ "$(hm_status "$VF1" loaded_crc)" = "$saved" ]
	[ "$(hm_status "$VF1" content_crc)" = "$saved" ]
	[ "$(hm_status "$VF1" loaded_generation)" = "$(hm_status "$VF0" saved_generation)" ]
	[ "$(hm_status "$VF0" saves)" = 3 ] && [ "$(hm_status "$VF1" loads)" = 3 ]
	[ "$(hm_status "$VF1" saves)" = 2 ] && [ "$(hm_status "$VF0" loads)" = 2 ]
	# Bugs off: no fault path ran, nothing warned.
	for vf in "$VF0" "$VF1"; do
		for k in stale_pf_uses pf_locks illegal_arcs injected_failures resets_deferred; do
			[ "$(hm_status "$vf" "$k")" = 0 ]
		done
	done
	no_new_warnings
}

@test "a reset (FLR) outside migration goes through reset_done directly" {
	hm_setup 1
	echo 1 >"/sys/bus/pci/devices/$VF0/reset"
	[ "$(hm_status "$VF0" resets_direct)" = 1 ]
	[ "$(hm_status "$VF0" resets_deferred)" = 0 ]
	[ "$(hm_status "$VF0" pf_locks)" = 0 ]
}

@test "fault 1: fault_pf_lock=1 takes the PF lock in reset_done under the VF lock" {
	hm_setup 1
	hm_param fault_pf_lock 1
	timeout 20 sh -c "echo 1 >/sys/bus/pci/devices/$VF0/reset"
	[ "$(hm_status "$VF0" pf_locks)" = 1 ]
	[ "$(hm_status "$VF0" resets_direct)" = 1 ]
}

@test "fault 2: fault_pf_lock=2 trylocks the PF and gives up while SR-IOV disable holds it" {
	hm_setup 2
	hm_param fault_pf_lock 2
	# Uncontended: the trylock succeeds.
	echo 1 >"/sys/bus/pci/devices/$VF1/reset"
	[ "$(hm_status "$VF1" pf_locks)" = 1 ]
	# VF0 held open: SR-IOV disable takes the PF lock and waits in VF0's remove.
	# Held until killed: a fixed hold could end first on a loaded host.
	"$MIGCTL" run "$VF0" --hold 120000 >"$BATS_TEST_TMPDIR/hold" &
	bg=$!
	wait_for_line "$BATS_TEST_TMPDIR/hold" '^open '
	sriov_disable &
	disabler=$!
	sleep 2
	kill -0 "$disabler"
	timeout 20 sh -c "echo 1 >/sys/bus/pci/devices/$VF1/reset"
	[ "$(hm_status "$VF1" pf_trylock_fails)" = 1 ]
	[ "$(hm_status "$VF1" pf_locks)" = 1 ]
	kill -TERM "$bg"
	wait "$bg" || true
	bg=
	wait "$disabler"
	[ "$(cat "$PFDIR/sriov_numvfs")" = 0 ]
}

@test "fault 1 (migration path): fault_pf_lock=3 locks VF then PF in STOP -> STOP_COPY" {
	hm_setup 1
	hm_param fault_pf_lock 3
	run "$MIGCTL" run "$VF0" --set STOP_COPY --read
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(hm_status "$VF0" pf_locks)" = 1 ]
	hm_param fault_pf_lock 4
	run "$MIGCTL" run "$VF0" --set STOP_COPY
	[ "$status" -eq 0 ]
	[ "$(hm_status "$VF0" pf_locks)" = 2 ]
}

@test "fault 3: ABBA between reset_done and SR-IOV disable (hangs the guest)" {
	skip "deadlocks the guest by design: run 'make kmod-deadlock-check' (host, bounded by --timeout)"
}

@test "fault 4: fault_fail_state=3 fails STOP -> STOP_COPY, device in ERROR until reset" {
	hm_setup 1
	hm_param fault_fail_state 3
	run "$MIGCTL" run "$VF0" --set STOP_COPY --get --set RUNNING --reset --get
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(field "set dev=$VF0 from=RUNNING to=STOP_COPY" rc)" = -5 ]
	[ "$(field "set dev=$VF0 from=RUNNING to=STOP_COPY" state)" = ERROR ]
	# The core refuses every arc out of ERROR; only a reset recovers.
	[ "$(field "set dev=$VF0 from=ERROR to=RUNNING" rc)" = -22 ]
	[ "$(field "reset dev=$VF0" rc)" = 0 ]
	[ "$(field "get dev=$VF0" state)" = RUNNING ]
	[ "$(hm_status "$VF0" injected_failures)" = 1 ]
}

@test "fault 5: fault_skip_core_fsm=Y sends a combination arc to the driver, which WARNs" {
	hm_setup 1
	hm_param fault_skip_core_fsm Y
	run "$MIGCTL" run "$VF0" --set STOP_COPY --get --set STOP --get
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(field "set dev=$VF0 from=RUNNING to=STOP_COPY" rc)" = -22 ]
	# A single legal arc still works.
	[ "$(field "set dev=$VF0 from=RUNNING to=STOP" rc)" = 0 ]
	[ "$(hm_status "$VF0" illegal_arcs)" = 1 ]
	dmesg | grep -q "illegal arc RUNNING -> STOP_COPY"
}

@test "fault 5 (client side): arcs the core refuses never reach the per-arc handler" {
	hm_setup 1
	run "$MIGCTL" run "$VF0" --set RUNNING_P2P --set ERROR --arc RESUMING:STOP_COPY --get
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(field "set dev=$VF0 from=RUNNING to=RUNNING_P2P" rc)" = -22 ]
	[ "$(field "set dev=$VF0 from=RUNNING to=ERROR" rc)" = -22 ]
	# RESUMING -> STOP_COPY is legal as a combination (via STOP): it loads
	# an empty stream, which the driver rejects.
	[ "$(field "set dev=$VF0 from=RESUMING to=STOP_COPY" rc)" = -22 ]
	[ "$(hm_status "$VF0" illegal_arcs)" = 0 ]
	no_new_warnings
}

@test "fault 6: fault_stop_copy_delay_ms=1500 makes stop-copy (downtime) last >= 1.5 s" {
	hm_setup 2
	hm_param fault_stop_copy_delay_ms 1500
	run "$MIGCTL" migrate "$VF0" "$VF1"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(field "set dev=$VF0 from=STOP to=STOP_COPY" ms)" -ge 1500 ]
	[ "$(field cycle= downtime_ms)" -ge 1500 ]
	[ "$(hm_status "$VF0" last_stop_copy_ms)" -ge 1500 ]
	[ "$(hm_status "$VF1" loaded_crc)" = "$(hm_status "$VF0" saved_crc)" ]
}

@test "fault 7 off: after the PF driver left (VFs kept), the VF cannot reach PF data" {
	hm_pf_param fault_keep_vfs_on_remove Y
	hm_setup 1
	hm_unbind "$PF"
	[ "$(cat "$PFDIR/sriov_numvfs")" = 1 ]
	[ "$(driver_of "$VF0")" = hmtest_vf ]
	run "$MIGCTL" run "$VF0" --set STOP_COPY
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(field "set dev=$VF0 from=RUNNING to=STOP_COPY" rc)" = -22 ]
	[ "$(hm_status "$VF0" stale_pf_uses)" = 0 ]
}

@test "fault 7: fault_cache_pf_data=Y uses the PF drvdata cached at probe after PF unbind" {
	hm_param fault_cache_pf_data Y
	hm_pf_param fault_keep_vfs_on_remove Y
	hm_setup 1
	run "$MIGCTL" run "$VF0" --set STOP_COPY --read
	[ "$status" -eq 0 ]
	[ "$(hm_status "$VF0" stale_pf_uses)" = 0 ]
	hm_unbind "$PF"
	run "$MIGCTL" run "$VF0" --set STOP_COPY --read
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(hm_status "$VF0" stale_pf_uses)" -ge 1 ]
	dmesg | grep -q "using PF drvdata after the PF driver unbound"
}

@test "fault 8: SR-IOV disable mid-migration; migctl releases the VF on the request" {
	hm_setup 1
	"$MIGCTL" run "$VF0" --wait-request --set STOP_COPY --hold 30000 --read >"$BATS_TEST_TMPDIR/mig" &
	bg=$!
	wait_for_line "$BATS_TEST_TMPDIR/mig" "^set dev=$VF0 .* to=STOP_COPY rc=0"
	start=$SECONDS
	timeout 25 sh -c "echo 0 >$PFDIR/sriov_numvfs"
	wait "$bg"
	bg=
	cat "$BATS_TEST_TMPDIR/mig"
	grep -q "^hold dev=$VF0 .*request=yes" "$BATS_TEST_TMPDIR/mig"
	grep -q "^released dev=$VF0 reason=request" "$BATS_TEST_TMPDIR/mig"
	[ $((SECONDS - start)) -lt 10 ]
	[ ! -e "/sys/bus/pci/devices/$VF0" ]
}

@test "fault 9: FLR during STOP_COPY resets the FSM to RUNNING and kills the data fd" {
	hm_setup 1
	"$MIGCTL" run "$VF0" --set STOP_COPY --hold 5000 --read --get >"$BATS_TEST_TMPDIR/mig" &
	bg=$!
	wait_for_line "$BATS_TEST_TMPDIR/mig" "^set dev=$VF0 .* to=STOP_COPY rc=0"
	echo 1 >"/sys/bus/pci/devices/$VF0/reset"
	wait "$bg" || true
	bg=
	cat "$BATS_TEST_TMPDIR/mig"
	grep -q "^read dev=$VF0 rc=-19 " "$BATS_TEST_TMPDIR/mig"
	grep -q "^get dev=$VF0 rc=0 state=RUNNING" "$BATS_TEST_TMPDIR/mig"
	# Nobody held state_mutex: reset_done applied the reset itself (vfio's
	# own resets at open and close count as direct ones too).
	[ "$(hm_status "$VF0" resets_direct)" -ge 1 ]
	[ "$(hm_status "$VF0" resets_deferred)" = 0 ]
}

@test "fault 9 (deferred): FLR while stop-copy holds state_mutex is applied at unlock" {
	hm_setup 1
	hm_param fault_stop_copy_delay_ms 4000
	slow_before=$(dmesg | grep -c 'fault: slow stop-copy' || true)
	"$MIGCTL" run "$VF0" --set STOP_COPY --read --get >"$BATS_TEST_TMPDIR/mig" &
	bg=$!
	# Inside the stop-copy sleep once the driver said so.
	slow_count() { dmesg | grep -c 'fault: slow stop-copy' || true; }
	for _ in $(seq 100); do [ "$(slow_count)" -gt "$slow_before" ] && break; sleep 0.1; done
	[ "$(slow_count)" -gt "$slow_before" ]
	# reset_done cannot get state_mutex: it only flags the reset and returns.
	timeout 10 sh -c "echo 1 >/sys/bus/pci/devices/$VF0/reset"
	[ "$(hm_status "$VF0" resets_deferred)" = 1 ]
	wait "$bg" || true
	bg=
	cat "$BATS_TEST_TMPDIR/mig"
	grep -q "^set dev=$VF0 from=RUNNING to=STOP_COPY rc=0 .* state=RUNNING" "$BATS_TEST_TMPDIR/mig"
	grep -q "^read dev=$VF0 rc=-19 " "$BATS_TEST_TMPDIR/mig"
	grep -q "^get dev=$VF0 rc=0 state=RUNNING" "$BATS_TEST_TMPDIR/mig"
	[ "$(hm_status "$VF0" resets_applied)" -ge 1 ]
}
