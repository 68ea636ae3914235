#!/usr/bin/env bats
# Host-side tests of the torture tooling (scripts/torture): the seeded op
# generator, the op log, kernel-log signatures and the delta-debugging
# shrinker. Nothing here touches a device; the torture run itself is
# `make torture` (docs/torture.md).

HISIMIG=${HISIMIG:-$BATS_TEST_DIRNAME/../../hisimig-trace}
TORTURE=$BATS_TEST_DIRNAME/../../scripts/torture/torture.sh
LIB=$BATS_TEST_DIRNAME/../../scripts/torture/lib.bash
OPS=$BATS_TEST_DIRNAME/../../scripts/torture/ops.bash

@test "gen: the same seed, segment and worker give the same ops; any other gives others" {
	run "$TORTURE" gen 7 0 0 200
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 200 ]
	first=$output
	run "$TORTURE" gen 7 0 0 200
	[ "$output" = "$first" ]
	for other in "8 0 0" "7 1 0" "7 0 1"; do
		# shellcheck disable=SC2086
		run "$TORTURE" gen $other 200
		[ "$status" -eq 0 ]
		[ "$output" != "$first" ]
	done
}

@test "gen: every op is an op function with its arguments, all kinds drawn" {
	run "$TORTURE" gen 3 0 0 400
	[ "$status" -eq 0 ]
	# shellcheck disable=SC1090
	. "$OPS"
	for line in "${lines[@]}"; do
		fn=${line%% *}
		declare -F "$fn" >/dev/null || { echo "not an op: $line"; false; }
	done
	kinds=$(printf '%s\n' "${lines[@]}" | cut -d' ' -f1 | sort -u | wc -l)
	[ "$kinds" -eq 14 ]
}

@test "gen: TORTURE_OPS keeps only the named ops, TORTURE_PF_REMOVE=0 never removes the PF" {
	TORTURE_OPS=numvfs,remove run "$TORTURE" gen 5 0 1 300
	[ "$status" -eq 0 ]
	[ -z "$(printf '%s\n' "${lines[@]}" | grep -v -e '^t_numvfs [0-2]$' -e '^t_remove ')" ]
	printf '%s\n' "${lines[@]}" | grep -q '^t_remove pf$'
	TORTURE_OPS=remove TORTURE_PF_REMOVE=0 run "$TORTURE" gen 5 0 1 300
	! printf '%s\n' "${lines[@]}" | grep -q 'pf'
}

@test "gen: bad arguments are one line and exit 2" {
	run "$TORTURE" gen 7 x 0 3
	[ "$status" -eq 2 ]
	[[ "$output" == *"not a number: x"* ]]
	run "$TORTURE" frobnicate
	[ "$status" -eq 2 ]
	[[ "${lines[-1]}" == "torture: error: unknown command 'frobnicate'" ]]
}

@test "op log: the workers' ops become one list in start order, cut at a time" {
	# shellcheck disable=SC1090
	. "$LIB"
	cat >"$BATS_TEST_TMPDIR/ops.log" <<'EOF'
seed=1 seg=0 w=1 i=0 start=10.50 end=11.00 rc=0 op=t_reset vf0
seed=1 seg=0 w=0 i=0 start=9.75 end=12.00 rc=1 op=t_numvfs 2
seed=1 seg=1 w=0 i=0 start=30.00 end=31.00 rc=0 op=t_rescan
seed=1 seg=0 w=2 i=0 start=100.00 end=101.00 rc=0 op=t_vfio vf1 2 readpf
seed=1 seg=0 w=0 i=1 start=12.00 end=13.00 rc=0 op=t_remove vf1
EOF
	run t_log_ops "$BATS_TEST_TMPDIR/ops.log" 0
	[ "$output" = $'t_numvfs 2\nt_reset vf0\nt_remove vf1\nt_vfio vf1 2 readpf' ]
	run t_log_before "$BATS_TEST_TMPDIR/ops.log" 0 11.5
	[ "$output" = $'t_numvfs 2\nt_reset vf0' ]
}

@test "kernel log: one signature per problem, whatever the task, CPU and addresses" {
	# shellcheck disable=SC1090
	. "$LIB"
	run t_kmsg_events <<'EOF'
[   12.000001] nvme 0000:01:00.0: enabling device
[   12.100000] WARNING: CPU: 1 PID: 812 at drivers/pci/iov.c:1010 sriov_disable+0x4c/0x110
[   40.200000] WARNING: CPU: 0 PID: 977 at drivers/pci/iov.c:1010 sriov_disable+0x4c/0x110
[   50.000000] INFO: task bash:1201 blocked for more than 30 seconds.
[   51.000000] hmtest_pf 0000:01:00.0: driver left SR-IOV enabled after remove
[   52.000000] BUG: kernel NULL pointer dereference, address: 0000000000000018
EOF
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 5 ]
	sigs=$(printf '%s\n' "${lines[@]}" | cut -f1 | sort -u)
	[ "$(wc -l <<<"$sigs")" -eq 4 ]
	grep -qx 'WARNING: CPU PID at drivers/pci/iov.c:1010 sriov_disable' <<<"$sigs"
	grep -qx 'INFO: task X blocked for more than N seconds.' <<<"$sigs"
	[ "$(t_sig_id "a")" = "$(t_sig_id "a")" ]
	[ "$(t_sig_id "a")" != "$(t_sig_id "b")" ]
}

@test "ddmin: a failure needing two of 60 ops shrinks to exactly those two" {
	seq 1 60 | sed 's/^/op /' >"$BATS_TEST_TMPDIR/in"
	run "$TORTURE" ddmin --test 'grep -qx "op 17" "$1" && grep -qx "op 42" "$1"' --seconds 120 \
		"$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 0 ]
	[[ "$output" == "ddmin: 60 -> 2 lines"* ]]
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = $'op 17\nop 42' ]
}

@test "ddmin: an order-dependent failure keeps the order; 1-minimal" {
	printf '%s\n' a b c unbind d e bind f g >"$BATS_TEST_TMPDIR/in"
	# fails only when an unbind comes before a bind (awk: exit 0 = fails)
	run "$TORTURE" ddmin --test "awk '/unbind/ { u = 1 } /^bind/ && u { f = 1 } END { exit !f }' \"\$1\"" \
		--seconds 120 "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = $'unbind\nbind' ]
}

@test "ddmin: an input that does not fail is an error; the time bound stops it early" {
	seq 1 20 >"$BATS_TEST_TMPDIR/in"
	run "$TORTURE" ddmin --test 'grep -qx 99 "$1"' --seconds 60 "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 1 ]
	[[ "$output" == *"the full input does not fail the test"* ]]
	# with no time at all the full (failing) input is the answer
	run "$TORTURE" ddmin --test 'grep -qx 5 "$1"' --seconds 0 "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 0 ]
	[[ "$output" == *"time bound hit"* ]]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/out")" -eq 20 ]
	run "$TORTURE" ddmin --seconds 5 "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 2 ]
}

@test "run refuses without root, a PF or an output directory: one line, exit 2" {
	run "$TORTURE" run --seed 1
	[ "$status" -eq 2 ]
	[ "$output" = "torture: error: run needs --out DIR" ]
	TORTURE_PF=0000:7f:1f.7 run "$TORTURE" run --out "$BATS_TEST_TMPDIR/o" --minutes x
	[ "$status" -eq 2 ]
	[ "$output" = "torture: error: run: not a number: x" ]
}

@test "run outside the guest needs --yes: one line, exit 2" {
	HISIMIG_GUEST= run "$TORTURE" run --out "$BATS_TEST_TMPDIR/o" --minutes 1
	[ "$status" -eq 2 ]
	[[ "$output" == "torture: error: run changes PCI devices"*"pass --yes on a test host only" ]]
	[ ! -e "$BATS_TEST_TMPDIR/o" ]
}

@test "classify: fork's nested mmap_lock and lost events are tool limitations, a device cycle is a candidate" {
	# shellcheck disable=SC1090
	. "$LIB"
	fork='{"kind":"lock-order-cycle","summary":"lock order cycle mmap_lock --> rwsem@0x1 --> mmap_lock","evidence":[{"stack":["down_write+0x5/0x70","dup_mmap+0xd4/0x610"]},{"stack":["down_write+0x5/0x70","dup_mmap+0xd4/0x610","copy_process+0x1945/0x1ae0"]}]}'
	[[ "$(t_classify_finding <<<"$fork")" == "tool-limitation: fork nests"* ]]
	# 6.12: dup_mmap inlined into copy_process
	[[ "$(t_classify_finding <<<"${fork//dup_mmap/copy_process}")" == "tool-limitation: fork nests"* ]]
	# the same stacks without mmap_lock in the cycle: not this limitation
	[ "$(t_classify_finding <<<"${fork//mmap_lock/mutex}")" = candidate ]
	[[ "$(t_classify_finding <<<'{"kind":"lost-events"}')" == "tool-limitation: events were lost"* ]]
	# one edge outside fork: a candidate
	mixed='{"kind":"lock-order-cycle","evidence":[{"stack":["dup_mmap+0xd4/0x610"]},{"stack":["mutex_lock","remove_store"]}]}'
	[ "$(t_classify_finding <<<"$mixed")" = candidate ]
	rescan=$("$HISIMIG" gen rescan-cycle -o "$BATS_TEST_TMPDIR/r.hmt" && "$HISIMIG" replay --json "$BATS_TEST_TMPDIR/r.hmt" |
		jq -c 'select(.type == "finding") | .data')
	[ "$(t_classify_finding <<<"$rescan")" = candidate ]
}

@test "op log: the guided guess keeps the ops at the evidence times and the last bind of each device before them" {
	# shellcheck disable=SC1090
	. "$LIB"
	cat >"$BATS_TEST_TMPDIR/ops.log" <<'EOF2'
seed=301 seg=0 w=0 i=0 start=10.00 end=12.00 rc=0 op=t_bind pf nvme
seed=301 seg=0 w=1 i=0 start=11.00 end=13.00 rc=0 op=t_bind pf hmtest_pf
seed=301 seg=0 w=2 i=0 start=11.50 end=12.50 rc=1 op=t_bind vf0 vfio-pci
seed=301 seg=0 w=0 i=1 start=20.00 end=25.00 rc=0 op=t_numvfs 1
seed=301 seg=0 w=1 i=1 start=21.00 end=22.00 rc=0 op=t_read pf config
seed=301 seg=0 w=2 i=1 start=30.00 end=33.00 rc=0 op=t_remove pf
seed=301 seg=1 w=0 i=0 start=31.00 end=32.00 rc=0 op=t_numvfs 2
EOF2
	run t_log_guided "$BATS_TEST_TMPDIR/ops.log" 0 24.5 31.2
	[ "$status" -eq 0 ]
	[ "$output" = $'t_bind pf hmtest_pf\nt_numvfs 1\nt_remove pf' ]
}

# shrink_fixture DIR: a finding whose evidence lies in ops 3 and 6 of a segment
shrink_fixture() {
	mkdir -p "$1"
	cat >"$1/ops.log" <<'EOF2'
seed=5 seg=2 w=0 i=0 start=10.00 end=11.00 rc=0 op=t_bind pf hmtest_pf
seed=5 seg=2 w=1 i=0 start=10.50 end=11.50 rc=0 op=t_read vf0 config
seed=5 seg=2 w=0 i=1 start=12.00 end=14.00 rc=0 op=t_numvfs 1
seed=5 seg=2 w=1 i=1 start=12.50 end=13.00 rc=1 op=t_reset vf1
seed=5 seg=2 w=2 i=0 start=15.00 end=16.00 rc=0 op=t_rescan
seed=5 seg=2 w=0 i=2 start=17.00 end=19.00 rc=0 op=t_remove pf
EOF2
	echo '{"kind":"lock-order-cycle","severity":"error","fingerprint":"abc123","title":"cycle","summary":"s","evidence":[{"ts_ns":13000000000},{"ts_ns":18000000000}]}' >"$1/finding.json"
	echo candidate >"$1/class"
	echo "5 2" >"$1/seen"
	printf 'x\n' >"$1/report.txt"
	awk '{ print substr($0, index($0, " op=") + 4) }' "$1/ops.log" >"$1/ops.seq"
}

@test "shrink: the evidence-guided guess, then ddmin, give a standalone repro.sh" {
	shrink_fixture "$BATS_TEST_TMPDIR/f"
	# the failure needs the bind, the SR-IOV enable and the PF remove, in that order
	cat >"$BATS_TEST_TMPDIR/fake-check" <<'EOF2'
#!/bin/bash
f=${@: -1}
echo "$f" >>"${f%/*}/../calls" 2>/dev/null
awk '/^t_bind pf hmtest_pf$/ { a = 1 } /^t_numvfs 1$/ && a { b = 1 } /^t_remove pf$/ && b { c = 1 } END { exit !c }' "$f"
EOF2
	chmod +x "$BATS_TEST_TMPDIR/fake-check"
	TORTURE_CHECK=$BATS_TEST_TMPDIR/fake-check run "$TORTURE" shrink --deadline $(($(date +%s) + 600)) "$BATS_TEST_TMPDIR/f"
	[ "$status" -eq 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/f/guided.ops")" = $'t_bind pf hmtest_pf\nt_numvfs 1\nt_reset vf1\nt_remove pf' ]
	[ "$(cat "$BATS_TEST_TMPDIR/f/repro.ops")" = $'t_bind pf hmtest_pf\nt_numvfs 1\nt_remove pf' ]
	[[ "$(cat "$BATS_TEST_TMPDIR/f/shrink-status")" == "shrunk: 4 ops (guided.ops) -> 3,"* ]]
	# repro.sh: the op functions and the list, valid bash, expecting the fingerprint
	bash -n "$BATS_TEST_TMPDIR/f/repro.sh"
	grep -q '^t_numvfs() {' "$BATS_TEST_TMPDIR/f/repro.sh"
	[[ "$(tail -n 1 "$BATS_TEST_TMPDIR/f/repro.sh")" == *'replay --json'*'abc123'* ]]
	[ "$(sed -n '/^ops() {/,/^}/p' "$BATS_TEST_TMPDIR/f/repro.sh" | grep -c '^	t_')" -eq 3 ]
}

@test "shrink: a finding the sequential run does not give is marked timing-dependent; tool limitations are skipped" {
	shrink_fixture "$BATS_TEST_TMPDIR/f"
	shrink_fixture "$BATS_TEST_TMPDIR/g"
	echo "tool-limitation: fork nests" >"$BATS_TEST_TMPDIR/g/class"
	TORTURE_CHECK=false run "$TORTURE" shrink --deadline $(($(date +%s) + 600)) "$BATS_TEST_TMPDIR/f" "$BATS_TEST_TMPDIR/g"
	[ "$status" -eq 0 ]
	[[ "$(cat "$BATS_TEST_TMPDIR/f/shrink-status")" == "not reproduced sequentially"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/f/repro.sh" ]
	[[ "$(cat "$BATS_TEST_TMPDIR/g/shrink-status")" == "not shrunk: tool-limitation"* ]]
}

@test "check's verdict: a fingerprint is found wherever it is among the run's findings" {
	# shellcheck disable=SC1090
	. "$LIB"
	printf '%s\n' '{"kind":"lock-order-cycle","fingerprint":"29bc"}' '{"kind":"lost-events","fingerprint":"acd5"}' >"$BATS_TEST_TMPDIR/f.json"
	t_has_fingerprint "$BATS_TEST_TMPDIR/f.json" 29bc
	t_has_fingerprint "$BATS_TEST_TMPDIR/f.json" acd5
	! t_has_fingerprint "$BATS_TEST_TMPDIR/f.json" ffff
	: >"$BATS_TEST_TMPDIR/empty.json"
	! t_has_fingerprint "$BATS_TEST_TMPDIR/empty.json" 29bc
}
