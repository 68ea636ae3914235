#!/usr/bin/env bats
# ci mode without live tracing (arguments, exit statuses, a host that cannot
# trace), and its reports through replay: JUnit against the Jenkins schema,
# baselines of accepted findings.

load helpers

XSD=$BATS_TEST_DIRNAME/junit.xsd

# failures_in FILE -> "case-name count" for every test case with failures
failures_in() {
	xmllint --xpath '//testcase[failure]/@name' "$1" 2>/dev/null |
		sed -E 's/ name="([^"]+)"/\1\n/g' | sed '/^$/d' | sort | while read -r name; do
		echo "$name $(xmllint --xpath "count(//testcase[@name='$name']/failure)" "$1")"
	done
}

@test "ci --help documents the exit statuses and has examples" {
	run "$HISIMIG" ci --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"-- CMD [ARGS...]"* ]]
	for s in "  0  CMD succeeded" "  1  findings" "  2  usage" "  3  CMD failed" "  4  could not trace"; do
		[[ "$output" == *"$s"* ]]
	done
	[[ "$output" == *"Examples:"* ]]
	run "$HISIMIG" --help
	[[ "$output" == *"ci "* ]]
}

@test "ci usage errors exit 2 with one line, before tracing or running CMD" {
	run "$HISIMIG" ci
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"ci needs a command to run"* ]]
	run "$HISIMIG" ci --fail-on sometimes -- touch "$BATS_TEST_TMPDIR/ran"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--fail-on: 'sometimes'"* ]]
	run "$HISIMIG" ci --update-baseline -- touch "$BATS_TEST_TMPDIR/ran"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--update-baseline needs --baseline FILE"* ]]
	run "$HISIMIG" ci --locks some -- touch "$BATS_TEST_TMPDIR/ran"
	[ "$status" -eq 2 ]
	run "$HISIMIG" ci --baseline "$BATS_TEST_TMPDIR/none" -- touch "$BATS_TEST_TMPDIR/ran"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--baseline: "*"none: No such file"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/ran" ]
}

@test "ci as a user who may not trace: exit 4, CMD not run" {
	command -v setpriv >/dev/null || skip "no setpriv"
	[ "$(id -u)" -eq 0 ] || skip "needs root to drop to nobody"
	chmod 777 "$BATS_TEST_TMPDIR"
	run setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$HISIMIG" ci -- touch "$BATS_TEST_TMPDIR/ran"
	[ "$status" -eq 4 ]
	[[ "$output" == *"must run as root"* ]]
	[[ "$output" == *"see docs/host.md"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/ran" ]
}

@test "ci on a kernel that refuses tracing (lockdown): exit 4, CMD not run" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	"$HISIMIG" probe | grep -q '^tracing: not possible' || skip "this kernel allows tracing"
	run "$HISIMIG" ci --junit "$BATS_TEST_TMPDIR/r.xml" -- touch "$BATS_TEST_TMPDIR/ran"
	[ "$status" -eq 4 ]
	[[ "$output" == *"lockdown"*"see docs/host.md"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/ran" ]
	[ ! -e "$BATS_TEST_TMPDIR/r.xml" ]
}

@test "JUnit: one test case per check, a failure per finding, valid against the schema" {
	trace=$(gen_trace seed-bug)
	run "$HISIMIG" replay --quiet --junit "$BATS_TEST_TMPDIR/r.xml" "$trace"
	[ "$status" -eq 1 ]
	xmllint --noout --schema "$XSD" "$BATS_TEST_TMPDIR/r.xml"
	# one test case per finding kind
	[ "$(xmllint --xpath 'count(//testcase)' "$BATS_TEST_TMPDIR/r.xml")" -eq 23 ]
	[ "$(xmllint --xpath 'string(//testsuite/@failures)' "$BATS_TEST_TMPDIR/r.xml")" -eq 2 ]
	[ "$(failures_in "$BATS_TEST_TMPDIR/r.xml")" = "$(printf 'lock-order-cycle 1\nvf-pf-lock-order 1')" ]
	# the failure holds the text report, stacks included
	text=$(xmllint --xpath 'string(//testcase[@name="vf-pf-lock-order"]/failure)' "$BATS_TEST_TMPDIR/r.xml")
	[[ "$text" == *"PF/VF device lock order violation"* && "$text" == *"__device_attach"* ]]
}

@test "JUnit: a clean run passes every test case; below --fail-on is output, not failure" {
	run "$HISIMIG" replay --quiet --junit "$BATS_TEST_TMPDIR/c.xml" "$(gen_trace sriov-clean)"
	[ "$status" -eq 0 ]
	xmllint --noout --schema "$XSD" "$BATS_TEST_TMPDIR/c.xml"
	[ "$(xmllint --xpath 'count(//failure)' "$BATS_TEST_TMPDIR/c.xml")" -eq 0 ]
	run "$HISIMIG" replay --quiet --fail-on error --junit "$BATS_TEST_TMPDIR/t.xml" "$(gen_trace trylock)"
	[ "$status" -eq 0 ]
	xmllint --noout --schema "$XSD" "$BATS_TEST_TMPDIR/t.xml"
	[ "$(xmllint --xpath 'count(//failure)' "$BATS_TEST_TMPDIR/t.xml")" -eq 0 ]
	out=$(xmllint --xpath 'string(//testcase[@name="vf-pf-trylock"]/system-out)' "$BATS_TEST_TMPDIR/t.xml")
	[[ "$out" == "below --fail-on:"* ]]
}

@test "baseline: --update-baseline accepts this run's findings, new ones still fail" {
	bl=$BATS_TEST_TMPDIR/accepted.txt
	seed=$(gen_trace seed-bug)
	run "$HISIMIG" replay --quiet --baseline "$bl" --update-baseline "$seed"
	[ "$status" -eq 0 ]
	[ "$(grep -vc '^#' "$bl")" -eq 2 ]
	grep -Eq '^[0-9a-f]{16}  vf-pf-lock-order  task bash/812 takes device_lock' "$bl"
	# accepted: not printed, exit 0, said on stderr
	run "$HISIMIG" replay --baseline "$bl" "$seed"
	[ "$status" -eq 0 ]
	[[ "$output" == *"2 findings accepted by the baseline"* ]]
	[[ "$output" != *"PF/VF device lock order violation"* ]]
	# another bug is new: it fails and is reported
	run "$HISIMIG" replay --baseline "$bl" "$(gen_trace use-after-unbind)"
	[ "$status" -eq 1 ]
	[[ "$output" == *"pf-drvdata-after-unbind"* ]]
	# one entry dropped: that finding fails again
	grep -v 'lock-order-cycle' "$bl" >"$BATS_TEST_TMPDIR/one.txt"
	run "$HISIMIG" replay --baseline "$BATS_TEST_TMPDIR/one.txt" "$seed"
	[ "$status" -eq 1 ]
	[[ "$output" == *"possible circular locking dependency"* ]]
	[[ "$output" != *"PF/VF device lock order violation"* ]]
	[[ "$output" == *"1 finding accepted by the baseline"* ]]
}

@test "baseline: accepted findings are JUnit output, not failures; entries not seen are kept" {
	bl=$BATS_TEST_TMPDIR/accepted.txt
	run "$HISIMIG" replay --quiet --baseline "$bl" --update-baseline "$(gen_trace seed-bug)"
	run "$HISIMIG" replay --quiet --baseline "$bl" --junit "$BATS_TEST_TMPDIR/r.xml" "$(gen_trace seed-bug)"
	[ "$status" -eq 0 ]
	xmllint --noout --schema "$XSD" "$BATS_TEST_TMPDIR/r.xml"
	[ "$(xmllint --xpath 'count(//failure)' "$BATS_TEST_TMPDIR/r.xml")" -eq 0 ]
	out=$(xmllint --xpath 'string(//testcase[@name="lock-order-cycle"]/system-out)' "$BATS_TEST_TMPDIR/r.xml")
	[[ "$out" == "accepted by the baseline:"* ]]
	run "$HISIMIG" replay --quiet --baseline "$bl" --update-baseline "$(gen_trace use-after-unbind)"
	[ "$status" -eq 0 ]
	grep -q 'vf-pf-lock-order' "$bl"
	grep -q 'pf-drvdata-after-unbind' "$bl"
}

@test "baseline: a malformed line is a one-line error naming it, exit 2" {
	printf '# accepted\n\nnot-a-fingerprint  x\n' >"$BATS_TEST_TMPDIR/bad.txt"
	run "$HISIMIG" replay --baseline "$BATS_TEST_TMPDIR/bad.txt" "$(gen_trace seed-bug)"
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"bad.txt:3: not a baseline line"* ]]
}

@test "known orders: --blessed adds a project's pairs, a reversal cites the file; both rescan-lock orders are the kernel's" {
	# sysfs remove and SR-IOV take the rescan lock and device locks in both
	# orders in the kernel itself: a cycle, no known-order reversal
	run "$HISIMIG" replay --json "$(gen_trace rescan-cycle)"
	[ "$status" -eq 1 ]
	[[ "$output" == *'"kind":"lock-order-cycle"'* ]]
	[[ "$output" != *"known-order-reversal"* ]]
	# a clean run reverses a pair blessed the other way round: reported, citing the file
	printf '# ours\npci_bus_sem  pci_rescan_remove_lock\n' >"$BATS_TEST_TMPDIR/blessed"
	clean=$(gen_trace locks-clean)
	run "$HISIMIG" replay "$clean"
	[ "$status" -eq 0 ]
	run "$HISIMIG" replay --blessed "$BATS_TEST_TMPDIR/blessed" "$clean"
	[ "$status" -eq 1 ]
	[[ "$output" == *"known-order-reversal"* ]]
	[[ "$output" == *"the known order is pci_bus_sem before pci_rescan_remove_lock"* ]]
	[[ "$output" == *"blessed in $BATS_TEST_TMPDIR/blessed:2"* ]]
	# a blessed device-lock order: the remove path (rescan lock, then the
	# VF's lock) now reverses it
	printf 'device_lock pci_rescan_remove_lock\n' >"$BATS_TEST_TMPDIR/ours"
	run "$HISIMIG" replay --blessed "$BATS_TEST_TMPDIR/ours" "$(gen_trace rescan-cycle)"
	[ "$status" -eq 1 ]
	[[ "$output" == *"the known order is device_lock before pci_rescan_remove_lock"* ]]
	[[ "$output" == *"blessed in $BATS_TEST_TMPDIR/ours:1"* ]]
	printf 'one-lock-only\n' >"$BATS_TEST_TMPDIR/bad"
	run "$HISIMIG" replay --blessed "$BATS_TEST_TMPDIR/bad" "$clean"
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad:1: want 'FIRST SECOND'"* ]]
}

@test "NDJSON: the summary names its schema version; docs/json.md documents every field" {
	doc=$BATS_TEST_DIRNAME/../../docs/json.md
	out=$("$HISIMIG" replay --json "$(gen_trace seed-bug)" || true)
	[ "$(jq -r 'select(.type == "summary") | .data.schema_version' <<<"$out")" -eq 1 ]
	grep -q '^# JSON output (NDJSON), schema version 1$' "$doc"
	for key in $(jq -r '.data | keys[]' <<<"$out" | sort -u); do
		grep -q "^| [^|]*\`$key\`" "$doc" || { echo "undocumented: $key"; false; }
	done
}

@test "every command's --help exits 0 and ends with examples of it" {
	for cmd in run record replay ci probe dump gen; do
		run "$HISIMIG" "$cmd" --help
		[ "$status" -eq 0 ] || { echo "$cmd: $status"; false; }
		sed -n '/^Examples:$/,$p' <<<"$output" | grep -q "^  .*hisimig-trace $cmd " ||
			{ echo "$cmd: no examples"; false; }
	done
}

@test "--timeline names every task track: process by its main thread, thread as comm/tid" {
	tl=$BATS_TEST_TMPDIR/t.json
	run "$HISIMIG" replay --quiet --timeline "$tl" "$(gen_trace vfio-user-deadlock)"
	jq -e . "$tl" >/dev/null
	# every pid and tid with a span has its name
	for pid in $(jq -r '.traceEvents[] | select(.ph == "X" and .pid != 0) | .pid' "$tl" | sort -u); do
		jq -e --argjson p "$pid" '[.traceEvents[] | select(.ph == "M" and .name == "process_name" and .pid == $p)] | length > 0' "$tl" >/dev/null ||
			{ echo "pid $pid unnamed"; false; }
	done
	for tid in $(jq -r '.traceEvents[] | select(.ph == "X" and .pid != 0) | .tid' "$tl" | sort -u); do
		name=$(jq -r --argjson t "$tid" '.traceEvents[] | select(.ph == "M" and .name == "thread_name" and .tid == $t and .pid != 0) | .args.name' "$tl")
		[[ "$name" == *"/$tid" ]] || { echo "tid $tid: '$name'"; false; }
	done
	# bash's main thread took locks: named by its comm; of QEMU only a vCPU
	# thread did: the process keeps its pid, the thread its comm
	names=$(jq -r '.traceEvents[] | select(.ph == "M") | .args.name' "$tl")
	grep -qx 'bash (pid 812)' <<<"$names"
	grep -qx 'pid 2201' <<<"$names"
	grep -qx 'CPU 0/KVM/2205' <<<"$names"
}

@test "alert rules: each has a runbook_url whose anchor is a runbook heading of docs/metrics.md" {
	rules=$BATS_TEST_DIRNAME/../../dashboards/prometheus/hisimig-alerts.yml
	doc=$BATS_TEST_DIRNAME/../../docs/metrics.md
	alerts=$(sed -nE 's/^[[:space:]]+- alert: ([A-Za-z]+)$/\1/p' "$rules")
	[ "$(wc -l <<<"$alerts")" -ge 8 ]
	for a in $alerts; do
		lower=$(tr 'A-Z' 'a-z' <<<"$a")
		grep -q "runbook_url: \"docs/metrics.md#$lower\"" "$rules" || { echo "$a: no runbook_url"; false; }
		grep -qx "### $a" "$doc" || { echo "$a: no runbook"; false; }
	done
}

@test "--pid, --device (a PF selects its VFs), --driver choose the findings reported, not what is analysed" {
	abba=$(gen_trace abba)   # PF 0000:01:00.0 (nvme), VF 0000:01:00.1, VFIO user pid 2201
	all=$("$HISIMIG" replay --json "$abba" | jq -r 'select(.type == "finding") | .data.kind' | sort)
	[ "$(wc -l <<<"$all")" -eq 3 ]
	for sel in "--device 0000:01:00.0" "--device 0000:01:00.1" "--pid 2201" "--driver nvme"; do
		# shellcheck disable=SC2086 # two words on purpose
		got=$("$HISIMIG" replay --json $sel "$abba" | jq -r 'select(.type == "finding") | .data.kind' | sort)
		[ "$got" = "$all" ] || { echo "$sel: $got"; false; }
	done
	# a VF of another PF, another process, another driver: nothing reported, exit 0
	for sel in "--device 0000:01:00.2" "--device 0000:02:00.0" "--pid 1" "--driver mlx5_core"; do
		# shellcheck disable=SC2086
		run "$HISIMIG" replay $sel "$abba"
		[ "$status" -eq 0 ] || { echo "$sel: $status"; false; }
		[[ "$output" == *"3 findings outside --pid/--device/--driver not reported"* ]]
		[[ "$output" != *"DEADLOCK"* ]]
	done
	# findings that name only VFs: their PF selects them all, a VF its own
	mb=$(gen_trace migration-broken)
	[ "$("$HISIMIG" replay --json --device 0000:01:00.0 "$mb" | grep -c '"type":"finding"')" -eq 5 ]
	[ "$("$HISIMIG" replay --json --device 0000:01:00.2 "$mb" | grep -c '"type":"finding"')" -eq 2 ]
	# filters combine: every kind given must match
	run "$HISIMIG" replay --pid 2201 --driver mlx5_core "$abba"
	[ "$status" -eq 0 ]
	run "$HISIMIG" replay --device 01:00.0 "$abba"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--device: '01:00.0' is not a PCI address"* ]]
}
