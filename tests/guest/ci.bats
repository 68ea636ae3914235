#!/usr/bin/env bats
# hisimig-trace ci -- CMD around hmtest scenarios in a real kernel: a clean
# migration run passes, an injected PF/VF lock-order fault fails with exactly
# its findings, a failing or signalled command is exit 3, and the JUnit
# report of each is valid against the Jenkins/Ant schema.

load guest-helpers
load ../kmod/guest-lib

XSD=$REPO/tests/cli/junit.xsd

setup_file() {
	hm_setup_suite "$MIGCTL" "$HM"
}

teardown_file() {
	hm_teardown
}

setup() {
	hm_skip_unsupported
	hm_params_off
	J=$BATS_TEST_TMPDIR/report.xml
	N=$BATS_TEST_TMPDIR/findings.ndjson
}

teardown() {
	[ -z "${bg:-}" ] || kill -TERM "$bg" 2>/dev/null || true
	wait 2>/dev/null || true
	hm_params_off
	hm_sriov_off
}

# kinds_in NDJSON: the finding kinds, sorted, each once (a lock-order cycle
# may also show through a longer path), but for the info that a preemptible
# kernel skipped hook runs
kinds_in() {
	jq -r 'select(.type == "finding" and
		(.data.kind != "lost-events" or .data.severity != "info")) | .data.kind' "$1" | sort -u
}

# failing_cases JUNIT: the test cases with a failure, sorted
failing_cases() {
	xmllint --xpath '//testcase[failure]/@name' "$1" 2>/dev/null |
		sed -E 's/ name="([^"]+)"/\1\n/g' | sed '/^$/d' | sort
}

@test "ci -- clean ping-pong migrations: exit 0, no failure in the JUnit report" {
	hm_setup 2
	run "$HM" ci --junit "$J" --json "$N" -- "$MIGCTL" migrate --cycles 5 --pingpong "$VF0" "$VF1"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"tracing:"*"running the command"* ]]
	[[ "$output" == *"result=ok"* ]]            # migctl's own stdout passed through
	xmllint --noout --schema "$XSD" "$J"
	[ "$(xmllint --xpath 'count(//failure)' "$J")" -eq 0 ]
	[ -z "$(kinds_in "$N")" ]
	jq -e 'select(.type == "summary")' "$N" >/dev/null
}

@test "ci -- a VF reset that locks its PF, then SR-IOV disable: exit 1, exactly those findings" {
	hm_setup 1
	hm_param fault_pf_lock 1
	run "$HM" ci --junit "$J" --json "$N" -- \
		sh -c "echo 1 >/sys/bus/pci/devices/$VF0/reset && echo 0 >$PFDIR/sriov_numvfs"
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(kinds_in "$N")" = "$(printf 'lock-order-cycle\nvf-pf-lock-order')" ]
	xmllint --noout --schema "$XSD" "$J"
	[ "$(failing_cases "$J")" = "$(printf 'lock-order-cycle\nvf-pf-lock-order')" ]
	text=$(xmllint --xpath 'string(//testcase[@name="vf-pf-lock-order"]/failure)' "$J")
	[[ "$text" == *"$VF0"* && "$text" == *"$PF"* ]]
}

@test "ci --baseline: the same fault, once accepted, passes; --update-baseline wrote it" {
	hm_setup 1
	hm_param fault_pf_lock 1
	bl=$BATS_TEST_TMPDIR/accepted.txt
	fault="echo 1 >/sys/bus/pci/devices/$VF0/reset && echo 0 >$PFDIR/sriov_numvfs"
	run "$HM" ci --baseline "$bl" --update-baseline -- sh -c "$fault"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q '  vf-pf-lock-order  ' "$bl"
	hm_sriov_off
	hm_setup 1
	run "$HM" ci --baseline "$bl" --junit "$J" -- sh -c "$fault"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"accepted by the baseline"* ]]
	[ "$(xmllint --xpath 'count(//failure)' "$J")" -eq 0 ]
}

@test "ci -- a failing command: exit 3 and a JUnit error; a signal reaches the command" {
	run "$HM" ci --junit "$J" -- sh -c 'exit 7'
	echo "$output"
	[ "$status" -eq 3 ]
	[[ "$output" == *"exited with status 7"* ]]
	xmllint --noout --schema "$XSD" "$J"
	[ "$(xmllint --xpath 'string(//testcase[@name="command"]/error/@message)' "$J")" = "exited with status 7" ]
	run "$HM" ci -- /nonexistent/cmd
	[ "$status" -eq 3 ]
	# SIGTERM to ci is forwarded: the command dies of it, ci reports and exits 3
	"$HM" ci -- sleep 60 >"$BATS_TEST_TMPDIR/out" 2>&1 &
	bg=$!
	# attaching every hook takes a while under TCG: up to 2 minutes
	wait_for_line "$BATS_TEST_TMPDIR/out" "tracing:" 120
	sleep 0.5
	kill -TERM "$bg"
	status=0
	wait "$bg" || status=$?
	bg=
	cat "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 3 ]
	grep -q "killed by signal 15" "$BATS_TEST_TMPDIR/out"
}
