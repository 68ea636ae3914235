#!/usr/bin/env bats
# The BPF side live: record/run/probe on SR-IOV, bind/unbind and VFIO
# (guest only; the host build of hisimig-trace runs over the 9p root).

load guest-helpers

setup_file() {
	require_guest
	pf_ready
	[ -x "$HM" ] || { echo "missing $HM: run make first" >&2; return 1; }
}

teardown() {
	[ -z "${tracer:-}" ] || kill -INT "$tracer" 2>/dev/null || true
	[ -z "${holder:-}" ] || kill -TERM "$holder" 2>/dev/null || true
	wait 2>/dev/null || true
	# after the tracer exited: its fentry links pin the modules
	kmod_teardown
	reset_pf
	scratch_check
}

sriov_cycles() {
	for _ in $(seq "${1:-2}"); do
		sriov_enable 2
		sriov_disable
	done
}

# check_sriov_dump DUMP: the events of SR-IOV enable/disable cycles on $PF.
check_sriov_dump() {
	local d=$1
	# kept for post-mortems on the host (build/guest/runs/*/)
	[ -z "${HISIMIG_OUT:-}" ] || cp "$d" "$HISIMIG_OUT/bpf-test$BATS_TEST_NUMBER.dump"
	grep -v ' lock-\|^meta' "$d" # shown when a check fails
	grep -q "sriov-enable-begin .*num_vfs=2 .*dev=$PF role=pf driver=nvme" "$d"
	grep -q "sriov-enable-end .*num_vfs=2 ret=0 .*dev=$PF role=pf" "$d"
	grep -q "sriov-disable-begin .*num_vfs=2 .*dev=$PF role=pf" "$d"
	grep -q "sriov-disable-end .*dev=$PF role=pf" "$d"
	for i in 0 1; do
		vf=0000:01:00.$((i + 1))
		grep -q "vf-added .*dev=$vf role=vf driver=- .*pf=$PF vf_id=$i" "$d"
		grep -q "vf-removed .*dev=$vf role=vf .*pf=$PF vf_id=$i" "$d"
		grep -q "lock-acquired .*dev=$vf role=vf .*pf=$PF vf_id=$i" "$d"
	done
	grep -q "lock-acquired .*dev=$PF role=pf driver=nvme" "$d"
	grep -q "lock-released .*dev=$PF role=pf" "$d"
	# Only PCI device mutexes and the known global locks (origin=1, named by
	# a lock-class record; --locks focused): nothing else is traced.
	! grep " lock-" "$d" | grep -v " dev=0000:" | grep -qv " origin=1\b"
}

# pf_then_vf DUMP: count VF lock acquisitions made while the same task held
# the PF lock, and acquisitions of the PF lock while holding a VF lock.
pf_then_vf() {
	awk -v pf="$PF" '
		function field(k,   i) { for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) return substr($i, length(k) + 2); return "" }
		$2 == "lock-acquired" || ($2 == "lock-trylock" && field("ret") == 1) {
			tid = field("tid"); dev = field("dev"); role = field("role")
			if (role == "vf" && held[tid, pf] > 0) ok++
			if (dev == pf) for (k in held) { split(k, p, SUBSEP); if (p[1] == tid && p[2] != pf && held[k] > 0) bad++ }
			held[tid, dev]++
		}
		$2 == "lock-released" { tid = field("tid"); dev = field("dev"); if (held[tid, dev] > 0) held[tid, dev]-- }
		END { printf "pf_then_vf=%d vf_then_pf=%d\n", ok, bad }' "$1"
}

@test "probe lists every attach point with how it attaches" {
	run "$HM" probe
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"tracing: possible"* ]]
	grep -Eq "^  mutex_lock +$AUTO_MODE " <<<"$output"
	grep -Eq "^  mutex_unlock +$RELEASE_MODE " <<<"$output"
	grep -Eq "^  sriov_disable +$AUTO_MODE " <<<"$output"
	grep -Eq "^  pci_iov_add_virtfn +$AUTO_MODE " <<<"$output"
	grep -Eq '^  mutex_lock_nested +missing .*not in this kernel' <<<"$output"
	run "$HM" probe --attach kprobe -j
	[ "$status" -eq 0 ]
	[ "$(jq -r '.attach[] | select(.function == "mutex_lock") | .mode' <<<"$output")" = kprobe ]
	[ "$(jq -r '.tracing.possible' <<<"$output")" = true ]
}

@test "record SR-IOV cycles: BDFs, roles, PF lock held when VF locks are taken, zero findings" {
	trace_start record -o "$BATS_TEST_TMPDIR/sriov.hmt"
	t0=$(date +%s%N)
	sriov_cycles 2
	t1=$(date +%s%N)
	trace_stop
	[ "$trace_status" -eq 0 ]
	"$HM" dump "$BATS_TEST_TMPDIR/sriov.hmt" >"$BATS_TEST_TMPDIR/dump"
	check_sriov_dump "$BATS_TEST_TMPDIR/dump"
	grep -q "^meta attach.mutex_lock=$AUTO_MODE" "$BATS_TEST_TMPDIR/dump"
	grep -q "^meta attach.sriov_disable=$AUTO_MODE" "$BATS_TEST_TMPDIR/dump"
	grep -Eq "^end events=[0-9]+ lost=0 " "$BATS_TEST_TMPDIR/dump"
	read -r order < <(pf_then_vf "$BATS_TEST_TMPDIR/dump")
	echo "$order"
	[[ $order =~ ^pf_then_vf=([0-9]+)\ vf_then_pf=0$ ]]
	[ "${BASH_REMATCH[1]}" -gt 0 ]
	# Figures for the report: events per cycle, load time, cycle time.
	printf 'events_per_sriov_cycle=%s load_ms=%s cycles_ms=%s\n' \
		$(($(grep -c -v '^meta\|^end' "$BATS_TEST_TMPDIR/dump") / 2)) \
		"$(sed -n 's/^meta load.ms=//p' "$BATS_TEST_TMPDIR/dump")" $(((t1 - t0) / 1000000)) |
		tee -a "${HISIMIG_OUT:-$BATS_FILE_TMPDIR}/bpf-figures.txt"
	# Skipped hook runs (PREEMPT_RT): the tracer's last line names the
	# programs; they add up to at least the lost records' total (the
	# counters are read once more after the final drain).
	recorded=$(awk '/^[0-9]+ lost .* lost_cpu=4294967295$/ {
		for (i = 1; i <= NF; i++) if (sub(/^lost=/, "", $i)) n += $i } END { print n + 0 }' \
		"$BATS_TEST_TMPDIR/dump")
	named=$(sed -n 's/^hisimig-trace: hook runs the kernel skipped: //p' "$BATS_TEST_TMPDIR/err" |
		grep -oE ' [0-9]+(,|$)' | tr -dc '0-9\n' | awk '{ n += $1 } END { print n + 0 }')
	echo "skipped hook runs: recorded=$recorded named=$named"
	[ "$recorded" -le "$named" ]
	# PREEMPT_RT may skip hook runs: that info is the one finding allowed.
	"$HM" replay --json "$BATS_TEST_TMPDIR/sriov.hmt" >"$BATS_TEST_TMPDIR/replay.json"
	cat "$BATS_TEST_TMPDIR/replay.json"
	[ "$(count_findings "$BATS_TEST_TMPDIR/replay.json")" -eq 0 ]
}

@test "the kprobe path records the same SR-IOV story" {
	trace_start record --attach kprobe -o "$BATS_TEST_TMPDIR/kp.hmt"
	sriov_cycles 1
	trace_stop
	[ "$trace_status" -eq 0 ]
	"$HM" dump "$BATS_TEST_TMPDIR/kp.hmt" >"$BATS_TEST_TMPDIR/dump"
	grep -q "^meta attach.mutex_lock=kprobe" "$BATS_TEST_TMPDIR/dump"
	grep -q "^meta attach.sriov_enable=kprobe" "$BATS_TEST_TMPDIR/dump"
	[ "$(grep -c "=fentry$" "$BATS_TEST_TMPDIR/dump")" -eq 0 ]
	check_sriov_dump "$BATS_TEST_TMPDIR/dump"
	read -r order < <(pf_then_vf "$BATS_TEST_TMPDIR/dump")
	[[ $order =~ ^pf_then_vf=[1-9][0-9]*\ vf_then_pf=0$ ]]
	run "$HM" replay --json "$BATS_TEST_TMPDIR/kp.hmt"
	[ "$status" -eq 0 ]
}

@test "run: vfio-pci bind/unbind and VFIO open/close, hooks attach late, zero findings" {
	[ -x "$VFIO_OPEN" ] || { echo "missing $VFIO_OPEN"; false; }
	modprobe -r vfio-pci vfio-pci-core 2>/dev/null || true
	trace_start run --json -o "$BATS_TEST_TMPDIR/vfio.hmt"
	sriov_enable 1
	vf=$(vf_addr 0)
	bind_vfio "$vf"     # loads vfio-pci: the VFIO hooks attach late
	for _ in $(seq 300); do
		grep -q "late attach: vfio_mig_get_next_state" "$BATS_TEST_TMPDIR/err" && break
		sleep 0.1
	done
	grep "late attach: vfio_pci_core_enable: $AUTO_MODE" "$BATS_TEST_TMPDIR/err"
	run "$VFIO_OPEN" "$vf"
	echo "$output"
	[ "$status" -eq 0 ]
	unbind "$vf"
	sriov_disable
	trace_stop
	cat "$BATS_TEST_TMPDIR/out"
	[ "$trace_status" -eq 0 ]
	[ "$(count_findings "$BATS_TEST_TMPDIR/out")" -eq 0 ]
	"$HM" dump "$BATS_TEST_TMPDIR/vfio.hmt" >"$BATS_TEST_TMPDIR/dump"
	[ -z "${HISIMIG_OUT:-}" ] || cp "$BATS_TEST_TMPDIR/dump" "$HISIMIG_OUT/bpf-vfio.dump"
	grep "^meta attach.vfio" "$BATS_TEST_TMPDIR/dump"
	grep -q "^meta attach.vfio_pci_core_enable=$AUTO_MODE" "$BATS_TEST_TMPDIR/dump"
	grep -q "bind-end .*ret=0 .*dev=$vf role=vf driver=vfio-pci" "$BATS_TEST_TMPDIR/dump"
	grep -q "unbind-begin .*dev=$vf role=vf driver=vfio-pci" "$BATS_TEST_TMPDIR/dump"
	grep -q "vfio-open .*ret=0 .*dev=$vf role=vf driver=vfio-pci" "$BATS_TEST_TMPDIR/dump"
	grep -q "vfio-close .*dev=$vf role=vf driver=vfio-pci" "$BATS_TEST_TMPDIR/dump"
	grep -q "vfio-unregister-begin .*dev=$vf" "$BATS_TEST_TMPDIR/dump"
	grep -q "vfio-unregister-end .*dev=$vf" "$BATS_TEST_TMPDIR/dump"
}

@test "live findings equal replay findings of the same recording" {
	sriov_enable 1
	vf=$(vf_addr 0)
	bind_vfio "$vf"
	# A VFIO user holding the VF open blocks SR-IOV disable: a finding to compare.
	trace_start run --json --sriov-disable-warn-ms 300 -o "$BATS_TEST_TMPDIR/live.hmt"
	"$VFIO_OPEN" --hold 0 "$vf" >"$BATS_TEST_TMPDIR/hold" &
	holder=$!
	for _ in $(seq 50); do grep -q fd= "$BATS_TEST_TMPDIR/hold" && break; sleep 0.1; done
	sriov_disable &
	disabler=$!
	sleep 2
	kill -TERM "$holder"
	wait "$holder" || true
	holder=
	wait "$disabler"
	trace_stop
	findings_of "$BATS_TEST_TMPDIR/out" >"$BATS_TEST_TMPDIR/live.txt"
	run "$HM" replay --json --sriov-disable-warn-ms 300 "$BATS_TEST_TMPDIR/live.hmt"
	echo "$output" >"$BATS_TEST_TMPDIR/replay.json"
	findings_of "$BATS_TEST_TMPDIR/replay.json" >"$BATS_TEST_TMPDIR/replay.txt"
	[ -z "${HISIMIG_OUT:-}" ] || cp "$BATS_TEST_TMPDIR/live.txt" "$HISIMIG_OUT/bpf-live-findings.txt"
	echo "live:"; cat "$BATS_TEST_TMPDIR/live.txt"
	echo "replay:"; cat "$BATS_TEST_TMPDIR/replay.txt"
	[ "$status" -eq "$trace_status" ]
	diff "$BATS_TEST_TMPDIR/live.txt" "$BATS_TEST_TMPDIR/replay.txt"
}

# ---- migration, with the hmtest drivers (tests/kmod) and migctl ----

kmod_ready() {
	HM_KODIR=$REPO/build/kmod/$HISIMIG_KVER
	[ -e "$HM_KODIR/hmtest_vf.ko" ] && [ -x "$MIGCTL" ] || skip "make kmod migctl first"
	# shellcheck source=tests/kmod/guest-lib.bash
	. "$REPO/tests/kmod/guest-lib.bash"
	hm_setup 2
}

kmod_teardown() {
	[ "$(type -t hm_teardown)" != function ] || hm_teardown
}

@test "migration: set_state callbacks and FSM steps of a clean migration, zero findings" {
	kmod_ready
	trace_start run --json -o "$BATS_TEST_TMPDIR/mig.hmt"
	grep "late attach\|tracing:" "$BATS_TEST_TMPDIR/err"
	run "$MIGCTL" migrate --cycles 1 "$VF0" "$VF1"
	echo "$output"
	[ "$status" -eq 0 ]
	trace_stop
	kmod_teardown
	cat "$BATS_TEST_TMPDIR/out"
	[ "$trace_status" -eq 0 ]
	"$HM" dump "$BATS_TEST_TMPDIR/mig.hmt" >"$BATS_TEST_TMPDIR/dump"
	[ -z "${HISIMIG_OUT:-}" ] || cp "$BATS_TEST_TMPDIR/dump" "$HISIMIG_OUT/bpf-mig.dump"
	d=$BATS_TEST_TMPDIR/dump
	grep -q "^meta attach.hmtest_vf_set_device_state=$AUTO_MODE" "$d"
	grep -q "^meta attach.vfio_mig_get_next_state=$AUTO_MODE" "$d"
	grep -q "mig-set-state-begin .*to=STOP_COPY .*caps=0x1 .*dev=$VF0 role=vf driver=hmtest_vf" "$d"
	grep -q "mig-set-state-end .*to=STOP_COPY .*ret=0 .*dev=$VF0" "$d"
	grep -q "mig-step .*from=RUNNING to=STOP next=STOP caps=0x1 ret=0 .*dev=$VF0" "$d"
	grep -q "mig-step .*from=RUNNING to=RESUMING next=STOP .*dev=$VF1" "$d"
	grep -q "device-reset .*kind=1 ret=0 .*dev=$VF0 role=vf driver=hmtest_vf" "$d"
	grep -q "mig-step .*from=STOP to=STOP_COPY next=STOP_COPY .*dev=$VF0" "$d"
	grep -q "mig-step .*from=STOP to=RESUMING next=RESUMING .*dev=$VF1" "$d"
	grep -q "pf-drvdata .*ret=0 .*dev=$VF0 role=vf driver=hmtest_vf .*pf_dev=$PF pf_role=pf pf_driver=hmtest_pf" "$d"
	grep -q "vfio-open .*ret=0 .*dev=$VF1 role=vf driver=hmtest_vf" "$d"
	[ "$(count_findings "$BATS_TEST_TMPDIR/out")" -eq 0 ]
}

@test "the seed bug live: a VF driver locking its PF under the VF lock is reported" {
	kmod_ready
	hm_param fault_pf_lock 3
	trace_start run --json -o "$BATS_TEST_TMPDIR/seed.hmt"
	run "$MIGCTL" run "$VF0" --set STOP_COPY --read
	echo "$output"
	[ "$status" -eq 0 ]
	trace_stop
	kmod_teardown
	cat "$BATS_TEST_TMPDIR/out"
	[ "$trace_status" -eq 1 ]
	jq -r 'select(.type == "finding") | .data.kind' "$BATS_TEST_TMPDIR/out" | grep -qx vf-pf-lock-order
	# and the recording replays to the same findings
	run "$HM" replay --json "$BATS_TEST_TMPDIR/seed.hmt"
	[ "$status" -eq 1 ]
	diff <(findings_of "$BATS_TEST_TMPDIR/out") <(echo "$output" | findings_of /dev/stdin)
}

@test "a full ring buffer loses records: counted, recorded as lost records, reported" {
	# 4 KiB holds a few dozen records; --locks full on a fork/exec loop overflows
	# it. Bounded in time (--duration, the loop stops with the tracer) and so in
	# size: a slow guest once kept tracing every mutex until its disk was full.
	trace_start run --json --locks full --ringbuf-kb 4 --duration 15 -o "$BATS_TEST_TMPDIR/loss.hmt"
	for _ in $(seq 300); do
		kill -0 "$tracer" 2>/dev/null || break
		cat /sys/kernel/uevent_seqnum >/dev/null
	done
	trace_stop
	ls -l "$BATS_TEST_TMPDIR/loss.hmt"
	[ "$trace_status" -eq 1 ]
	jq -r 'select(.type == "finding") | .data.kind' "$BATS_TEST_TMPDIR/out" | grep -qx lost-events
	"$HM" dump "$BATS_TEST_TMPDIR/loss.hmt" >"$BATS_TEST_TMPDIR/dump"
	# the per-CPU records and the trailer agree, and neither is zero
	# records the ring buffer refused (not the skipped hook runs of a
	# PREEMPT_RT kernel, lost_cpu=4294967295, which the trailer leaves out)
	lost_records=$(awk '$2 == "lost" && !/lost_cpu=4294967295/ { for (i = 3; i <= NF; i++) if ($i ~ /^lost=/) { sub("lost=", "", $i); n += $i } } END { print n + 0 }' "$BATS_TEST_TMPDIR/dump")
	lost_end=$(sed -n 's/^end events=[0-9]* lost=\([0-9]*\) .*/\1/p' "$BATS_TEST_TMPDIR/dump")
	echo "lost records: $lost_records, trailer: $lost_end"
	[ "$lost_records" -gt 0 ]
	[ "$lost_records" -eq "$lost_end" ]
	# the replay reports the same loss
	run "$HM" replay --json "$BATS_TEST_TMPDIR/loss.hmt"
	grep -q '"kind":"lost-events"' <<<"$output"
}

@test "record -o: an existing file survives a failed setup; a killed recording leaves a replayable FILE.partial" {
	local keep=$BATS_TEST_TMPDIR/keep.hmt port
	echo precious >"$keep"
	# a later setup step fails: the metrics port is taken
	python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True); time.sleep(60)' >"$BATS_TEST_TMPDIR/port" &
	holder=$!
	for _ in $(seq 50); do [ -s "$BATS_TEST_TMPDIR/port" ] && break; sleep 0.1; done
	port=$(cat "$BATS_TEST_TMPDIR/port")
	run "$HM" record -o "$keep" --metrics "127.0.0.1:$port" --duration 1
	echo "$output"
	[ "$status" -eq 2 ]
	[[ $output == *"Address already in use"* ]]
	[ "$(cat "$keep")" = precious ]
	[ ! -e "$keep.partial" ]
	# SIGKILL mid-recording: FILE as it was, FILE.partial replays
	trace_start record -o "$keep"
	sriov_enable 2
	sriov_disable
	sleep 1 # a poll round or two: flushed
	[ "$(cat "$keep")" = precious ]
	kill -KILL "$tracer"
	wait "$tracer" || true
	tracer=
	[ "$(cat "$keep")" = precious ]
	run "$HM" replay "$keep.partial"
	echo "$output"
	[ "$status" -le 1 ]
	[[ $output == *"no end record: the recording was interrupted"* ]]
	[[ $output =~ :\ ([1-9][0-9]*)\ events ]]
	# the next recording to the same FILE refuses to overwrite that evidence
	run "$HM" record -o "$keep" --duration 1
	[ "$status" -eq 2 ]
	[[ $output == *"$keep.partial exists"* ]]
}
