#!/usr/bin/env bats
# Live tracing on the host, where it cannot work (kernel lockdown, no
# privileges): one clear line and exit 2, and `probe` saying why.

load helpers

# The host tier runs as root on a locked-down kernel; the guest tier tests the
# working path (tests/guest/bpf.bats).
tracing_refused() {
	run "$HISIMIG" probe
	[[ $output == *"tracing: not possible"* ]]
}

@test "probe describes lockdown, privileges, BTF and every attach point" {
	run "$HISIMIG" probe
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q '^lockdown: ' <<<"$output"
	grep -q '^privileges: ' <<<"$output"
	grep -q '^btf: vmlinux ' <<<"$output"
	grep -q '^tracing: ' <<<"$output"
	grep -Eq '^  mutex_lock +(fentry|kprobe|missing)' <<<"$output"
	grep -Eq '^  vfio_mig_get_next_state +(fentry|kprobe|missing)' <<<"$output"
	grep -Eq '^  hisi_acc_vfio_pci_set_device_state +(fentry|kprobe|missing)' <<<"$output"
}

@test "probe -j is one JSON object with the same attach points" {
	run "$HISIMIG" probe -j
	[ "$status" -eq 0 ]
	[ "$(jq -r '.attach | length' <<<"$output")" -ge 20 ]
	jq -e '.attach[] | select(.function == "mutex_lock") | .mode' <<<"$output"
	jq -e '.tracing.possible | type == "boolean"' <<<"$output"
	jq -e '.lockdown | type == "string"' <<<"$output"
}

@test "on a kernel refusing tracing programs, probe says so and run fails with one line, exit 2" {
	tracing_refused || skip "this host allows BPF tracing"
	[[ $output == *"lockdown"* ]]
	run "$HISIMIG" run --duration 1
	echo "$output"
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ ${lines[0]} == "hisimig-trace: "*"lockdown"* ]]
	run "$HISIMIG" record -o "$BATS_TEST_TMPDIR/x.hmt" --duration 1
	[ "$status" -eq 2 ]
	[ ! -e "$BATS_TEST_TMPDIR/x.hmt" ]
}

@test "as non-root, run and record say they need root, exit 2" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to drop privileges"
	command -v setpriv >/dev/null || skip "no setpriv"
	run setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$HISIMIG" run
	echo "$output"
	[ "$status" -eq 2 ]
	[ "$output" = "hisimig-trace: must run as root (CAP_BPF and CAP_PERFMON; see docs/host.md)" ]
	run setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$HISIMIG" record -o /tmp/never.hmt
	[ "$status" -eq 2 ]
	[[ $output == *"must run as root"* ]]
}

@test "live option errors are one line, exit 2" {
	run "$HISIMIG" record
	[ "$status" -eq 2 ]
	[[ $output == *"record needs -o FILE"* ]]
	run "$HISIMIG" run --attach sideways
	[ "$status" -eq 2 ]
	[[ $output == *"--attach: 'sideways' is not one of auto, fentry, kprobe"* ]]
	run "$HISIMIG" run --duration -3
	[ "$status" -eq 2 ]
	[[ $output == *"--duration"* ]]
	run "$HISIMIG" run --help
	[ "$status" -eq 0 ]
	[[ $output == *"--set-state-func"* ]]
}

@test "dump prints one line per record of a generated trace" {
	trace=$(gen_trace seed-bug)
	run "$HISIMIG" dump "$trace"
	[ "$status" -eq 0 ]
	n_events=$(grep -c -v '^meta \|^end ' <<<"$output")
	[ "$n_events" -gt 0 ]
	grep -Eq '^[0-9]+ lock-acquired .* dev=0000:[0-9a-f:.]+ role=(pf|vf) ' <<<"$output"
	grep -Eq "^end events=$n_events " <<<"$output"
	run "$HISIMIG" dump
	[ "$status" -eq 2 ]
	run "$HISIMIG" dump /nonexistent.hmt
	[ "$status" -eq 2 ]
	[[ $output == "hisimig-trace: /nonexistent.hmt: "* ]]
}
