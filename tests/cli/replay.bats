#!/usr/bin/env bats
# The replay CLI on generated scenario traces: findings, formats, exit codes.

load helpers

@test "--version and --help work and exit 0" {
	run "$HISIMIG" --version
	[ "$status" -eq 0 ]
	[[ "$output" == "hisimig-trace "* ]]
	run "$HISIMIG" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"replay"* ]]
	run "$HISIMIG" replay --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--fail-on"* ]]
}

@test "usage errors exit 2 with one line" {
	run "$HISIMIG" frobnicate
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == "hisimig-trace: unknown command 'frobnicate'"* ]]
	run "$HISIMIG" replay
	[ "$status" -eq 2 ]
	run "$HISIMIG" replay --fail-on sometimes "$(gen_trace sriov-clean)"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--fail-on: 'sometimes'"* ]]
}

@test "clean SR-IOV cycles: no finding, exit 0" {
	trace=$(gen_trace sriov-clean)
	run "$HISIMIG" replay "$trace"
	[ "$status" -eq 0 ]
	[[ "$output" == *"0 findings"* ]]
	[[ "$output" != *"WARNING"* && "$output" != *"ERROR"* ]]
}

@test "clean migrations: no finding, exit 0" {
	run "$HISIMIG" replay "$(gen_trace migration-clean)"
	[ "$status" -eq 0 ]
	[[ "$output" == *"0 findings"* ]]
}

@test "seed bug: PF/VF order violation with both stacks, and the cycle" {
	trace=$(gen_trace seed-bug)
	run "$HISIMIG" replay "$trace"
	[ "$status" -eq 1 ]
	[[ "$output" == *"PF/VF device lock order violation"* ]]
	[[ "$output" == *"0000:01:00.1"* && "$output" == *"0000:01:00.0"* ]]
	# the VF driver's stack that took the PF lock, and the VF lock's stack
	[[ "$output" == *"hisi_acc_get_pf_qm"* ]]
	[[ "$output" == *"__device_attach"* ]]
	[[ "$output" == *"pci_iov_get_pf_drvdata()"* ]]
	[[ "$output" == *"possible circular locking dependency detected"* ]]
	[[ "$output" == *"sriov_numvfs_store"* ]]
	[ "$(kinds_of "$trace")" = "$(printf 'lock-order-cycle\nvf-pf-lock-order')" ]
}

@test "trylock of the PF under a VF lock is a warning; --fail-on decides the exit" {
	trace=$(gen_trace trylock)
	[ "$(kinds_of "$trace")" = "vf-pf-trylock" ]
	run "$HISIMIG" replay "$trace"
	[ "$status" -eq 1 ]
	run "$HISIMIG" replay --fail-on error "$trace"
	[ "$status" -eq 0 ]
}

@test "live ABBA between SR-IOV disable and a migration ioctl is a deadlock" {
	trace=$(gen_trace abba)
	kinds=$(kinds_of "$trace")
	[[ "$kinds" == *"deadlock"* ]]
	[[ "$kinds" == *"vf-pf-lock-order"* ]]
	run "$HISIMIG" replay "$trace"
	[[ "$output" == *"qemu-system-x86"* && "$output" == *"bash"* ]]
}

@test "broken migration: illegal arc, failed transition, ERROR state" {
	kinds=$(kinds_of "$(gen_trace migration-broken)")
	[[ "$kinds" == *"mig-illegal-arc"* ]]
	[[ "$kinds" == *"mig-transition-failed"* ]]
	[[ "$kinds" == *"mig-error-state"* ]]
}

@test "PF driver data used while the PF unbinds" {
	[ "$(kinds_of "$(gen_trace use-after-unbind)")" = "pf-drvdata-after-unbind" ]
}

@test "SR-IOV disable blocked by an open VFIO device, threshold from the CLI" {
	trace=$(gen_trace sriov-blocked)
	[ "$(kinds_of "$trace")" = "sriov-disable-blocked" ]
	run "$HISIMIG" replay --json --sriov-disable-warn-ms 60000 "$trace"
	[ "$status" -eq 0 ]
	[[ "$output" != *'"type":"finding"'* ]]
}

@test "JSON lines: every line is an object with type and data" {
	run "$HISIMIG" replay --json "$(gen_trace seed-bug)"
	[ "$status" -eq 1 ]
	for line in "${lines[@]}"; do
		[[ "$line" == '{"type":"'*'","data":{'*'}}' ]]
	done
	[[ "${lines[-1]}" == '{"type":"summary"'* ]]
	[[ "$output" == *'"severity":"error"'* ]]
	[[ "$output" == *'"stack":["mutex_lock+0x1c/0x80"'* ]]
}

@test "wrong magic: one clear line, exit 2" {
	printf 'this is not a trace file at all, just some text\n' >"$BATS_TEST_TMPDIR/bad.hmt"
	run "$HISIMIG" replay "$BATS_TEST_TMPDIR/bad.hmt"
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"not a hisimig-trace file (bad magic)"* ]]
}

@test "unsupported version: one clear line, exit 2" {
	trace=$(gen_trace sriov-clean)
	# the version is the u16 after magic (8) and endian mark (4)
	printf '\x63\x00' | dd of="$trace" bs=1 seek=12 conv=notrunc status=none
	run "$HISIMIG" replay "$trace"
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"trace format version 99 is not supported"* ]]
}

@test "missing file: one clear line, exit 2" {
	run "$HISIMIG" replay /nonexistent/trace.hmt
	[ "$status" -eq 2 ]
	[[ "$output" == *"cannot open trace file /nonexistent/trace.hmt"* ]]
}

@test "truncated trace: replays every whole record and says the tail was cut" {
	trace=$(gen_trace seed-bug)
	size=$(stat -c %s "$trace")
	head -c $((size - 40)) "$trace" >"$BATS_TEST_TMPDIR/cut.hmt"
	run "$HISIMIG" replay "$BATS_TEST_TMPDIR/cut.hmt"
	# the findings come from events long before the cut
	[ "$status" -eq 1 ]
	[[ "$output" == *"PF/VF device lock order violation"* ]]
	[[ "$output" == *"truncated: replayed"*"the tail was cut"* ]]
}

@test "corrupt record length: stops there with one error line, exit 2" {
	trace=$(gen_trace sriov-clean)
	# overwrite the first record header (kind, len) right after the file header
	hsize=$(od -An -tu4 -j16 -N4 "$trace" | tr -d ' ')
	printf '\x01\x00\x00\x00\xff\xff\xff\x7f' | dd of="$trace" bs=1 seek="$hsize" conv=notrunc status=none
	run "$HISIMIG" replay "$trace"
	[ "$status" -eq 2 ]
	[[ "$output" == *"corrupt record at offset $hsize"* ]]
}

@test "a recording cut before its end record is replayed and flagged" {
	trace=$(gen_trace sriov-clean)
	size=$(stat -c %s "$trace")
	# the END record is the last 1 + 1 + 24 bytes (kind, length varint, counts)
	head -c $((size - 26)) "$trace" >"$BATS_TEST_TMPDIR/noend.hmt"
	run "$HISIMIG" replay "$BATS_TEST_TMPDIR/noend.hmt"
	[ "$status" -eq 0 ]
	[[ "$output" == *"no end record: the recording was interrupted"* ]]
}

@test "the bundled seed-bug trace (committed) still replays to the same findings" {
	# guards the file format: a change that breaks old recordings fails here
	bundled="$BATS_TEST_DIRNAME/../data/seed-bug.hmt"
	[ "$(kinds_of "$bundled")" = "$(kinds_of "$(gen_trace seed-bug)")" ]
	[ "$(kinds_of "$bundled")" = "$(printf 'lock-order-cycle\nvf-pf-lock-order')" ]
}

@test "--timeline writes a Perfetto/Chrome trace-event file with holds, waits and findings" {
	trace=$(gen_trace abba)
	run "$HISIMIG" replay --quiet --timeline "$BATS_TEST_TMPDIR/t.json" "$trace"
	[ "$status" -eq 1 ]
	json="$BATS_TEST_TMPDIR/t.json"
	jq -e '.traceEvents | length > 10' "$json"
	# the deadlock: both waits are still open at the end of the trace
	[ "$(jq '[.traceEvents[] | select(.cat == "lock-wait" and .args.unfinished)] | length' "$json")" -eq 2 ]
	jq -e '[.traceEvents[] | select(.cat == "finding") | .name] | index("error: deadlock") != null' "$json"
	# every complete span has a non-negative duration
	[ "$(jq '[.traceEvents[] | select(.ph == "X" and .dur < 0)] | length' "$json")" -eq 0 ]
	run "$HISIMIG" replay --timeline /nonexistent/dir/t.json "$trace"
	[ "$status" -eq 2 ]
	[[ "$output" == *"cannot create /nonexistent/dir/t.json.partial: No such file or directory"* ]]
}

@test "--timeline of a clean migration shows each device's state track" {
	run "$HISIMIG" replay --quiet --timeline "$BATS_TEST_TMPDIR/m.json" "$(gen_trace migration-clean)"
	[ "$status" -eq 0 ]
	states=$(jq -r '[.traceEvents[] | select(.cat == "mig-state") | .name] | unique | join(",")' "$BATS_TEST_TMPDIR/m.json")
	[ "$states" = "RESUMING,RUNNING,STOP,STOP_COPY" ]
	jq -e '[.traceEvents[] | select(.ph == "M" and .name == "thread_name" and .pid == 0) | .args.name] | length == 2' "$BATS_TEST_TMPDIR/m.json"
}
