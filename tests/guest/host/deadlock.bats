#!/usr/bin/env bats
# Fault 3 from the host (make kmod-deadlock-check): a real ABBA deadlock
# between hmtest_vf's reset_done (VF lock, then PF lock) and SR-IOV disable
# (PF lock, then VF lock) hangs the guest, so only the host can check that
# hisimig-trace reported it live: the guest wrote the finding to its run
# directory before the harness gave up on it (status 124, no result).

REPO=$(cd "$BATS_TEST_DIRNAME/../../.." && pwd)
RUN=$REPO/tests/guest/run-in-guest.sh
PF=0000:01:00.0
VF0=0000:01:00.1

setup_file() {
	[ -x "$REPO/hisimig-trace" ] && [ -x "$REPO/build/migctl/migctl" ] &&
		compgen -G "$REPO/build/kmod/*/hmtest_vf.ko" >/dev/null ||
		skip "needs make, make kmod migctl (run make kmod-deadlock-check)"
}

# the run directory of the guest that just ran (from the harness' message)
run_dir() {
	dirname "$(grep -o 'console log at [^ ;]*console.log' <<<"$output" | tail -n 1 | awk '{print $NF}')"
}

@test "fault 3: the ABBA deadlock is reported live, with both tasks and their stacks" {
	# shellcheck disable=SC2086 # GUEST_SEL: the kernel options make passes
	run "$RUN" ${GUEST_SEL:-} --timeout "${KMOD_DEADLOCK_TIMEOUT:-150}" -- "$REPO/tests/kmod/abba-guest.sh" --trace
	echo "$output"
	[ "$status" -eq 124 ]
	grep -q 'hmtest-abba: DEADLOCK CONFIRMED' <<<"$output"
	findings=$(run_dir)/abba-findings.ndjson
	cat "$findings"
	# the order violation at the VF's attempt, the cycle it closes, the deadlock
	diff <(printf '%s\n' "deadlock error" "lock-order-cycle error" "vf-pf-lock-order error") \
		<(jq -r 'select(.type == "finding") | .data.kind + " " + .data.severity' "$findings" | sort)
	deadlock=$(jq -c 'select(.type == "finding" and .data.kind == "deadlock") | .data' "$findings")
	# both devices, both tasks (reset via sysfs, sriov_numvfs), each with a stack
	[ "$(jq -r '[.devices[].bdf] | sort | join(" ")' <<<"$deadlock")" = "$PF $VF0" ]
	[ "$(jq '[.evidence[] | select((.stack | length) > 0) | .tid] | unique | length' <<<"$deadlock")" -ge 2 ]
	jq -r '.evidence[].stack[]' <<<"$deadlock" | grep -q 'hmtest_vf_reset_done'
	jq -r '.evidence[].stack[]' <<<"$deadlock" | grep -q 'sriov_numvfs_store'
	# no summary: the tool never exited, the finding came out as it formed
	! jq -e 'select(.type == "summary")' "$findings"
}
