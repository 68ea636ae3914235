#!/usr/bin/env bats
# Waits on other tasks (work items, workqueues, completions), PFs that go
# while their VFs stay, and serialised set-state calls: the exact finding
# set (kind, severity, devices) of each scenario.

load helpers

# finding_set FILE -> "kind severity bdf,bdf,..." per finding (devices sorted), sorted
finding_set() {
	"$HISIMIG" replay --json "$1" |
		jq -r 'select(.type == "finding") | .data |
			"\(.kind) \(.severity) \([.devices[].bdf] | unique | join(","))"' | sort
}

# expect_findings SCENARIO LINE... : the scenario's findings are exactly these
expect_findings() {
	local scenario=$1 trace
	shift
	trace=$(gen_trace "$scenario")
	run finding_set "$trace"
	[ "$status" -eq 0 ]
	expected=$(printf '%s\n' "$@" | sed '/^$/d' | sort)
	if [ "$output" != "$expected" ]; then
		echo "scenario $scenario: expected"
		echo "$expected"
		echo "got"
		echo "$output"
		return 1
	fi
}

@test "flush-work-order: one PF/VF order finding through the kworker, and the cycle" {
	expect_findings flush-work-order \
		"vf-pf-lock-order error 0000:01:00.0,0000:01:00.1" \
		"lock-order-cycle error 0000:01:00.0,0000:01:00.1"
	run "$HISIMIG" replay "$(gen_trace flush-work-order)"
	[ "$status" -eq 1 ]
	[[ "$output" == *"task bash/812 flushes work:hmtest_vf_pf_work while holding device_lock(0000:01:00.1"* ]]
	[[ "$output" == *"run by kworker/1:2/97, takes device_lock(0000:01:00.0"* ]]
	[[ "$output" == *"hmtest_vf_pf_work"*"process_one_work"* ]]
}

@test "flush-work-deadlock: the flusher, the kworker and SR-IOV disable deadlock" {
	expect_findings flush-work-deadlock \
		"vf-pf-lock-order error 0000:01:00.0,0000:01:00.1" \
		"lock-order-cycle error 0000:01:00.0,0000:01:00.1" \
		"deadlock error 0000:01:00.0,0000:01:00.1"
	run "$HISIMIG" replay "$(gen_trace flush-work-deadlock)"
	[[ "$output" == *"bash/812 -> work:hmtest_vf_pf_work -> kworker/1:2/97"* ]]
}

@test "flush-work-clean: PF -> work -> VF and an idle cancel give no finding" {
	expect_findings flush-work-clean ""
	run "$HISIMIG" replay "$(gen_trace flush-work-clean)"
	[ "$status" -eq 0 ]
}

@test "completion-order: a wait under the VF lock, completed after the PF lock" {
	expect_findings completion-order "vf-pf-lock-order error 0000:01:00.0,0000:01:00.1"
	run "$HISIMIG" replay "$(gen_trace completion-order)"
	[[ "$output" == *"waits for completion@0xffffc90000b3fd20 while holding"* ]]
}

@test "pf-unbind-sriov-left: SR-IOV left enabled, then enable fails" {
	expect_findings pf-unbind-sriov-left \
		"sriov-left-enabled warning 0000:01:00.0,0000:01:00.1,0000:01:00.2" \
		"sriov-enable-failed warning 0000:01:00.0,0000:01:00.1,0000:01:00.2"
	run "$HISIMIG" replay "$(gen_trace pf-unbind-sriov-left)"
	[ "$status" -eq 1 ]
	[[ "$output" == *"PF driver nvme remove() returned"*"pci_device_remove"* ]]
	run "$HISIMIG" replay --fail-on error "$(gen_trace pf-unbind-sriov-left)"
	[ "$status" -eq 0 ]
}

@test "pf-remove-vfs-bound: errors for the driver data holder and the removed PF" {
	expect_findings pf-remove-vfs-bound \
		"sriov-left-enabled error 0000:01:00.0,0000:01:00.1,0000:01:00.2" \
		"pf-removed-with-vfs error 0000:01:00.0,0000:01:00.1,0000:01:00.2"
	run "$HISIMIG" replay "$(gen_trace pf-remove-vfs-bound)"
	[[ "$output" == *"pci_stop_and_remove_bus_device_locked"* ]]
}

@test "pf-unbind-disables: a PF driver that disables SR-IOV in remove() is fine" {
	expect_findings pf-unbind-disables ""
}

@test "locks-clean: set-state under the state mutex gives no concurrency finding" {
	expect_findings locks-clean ""
}
