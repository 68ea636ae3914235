#!/usr/bin/env bats
# Output files and streams: nothing of the user's is destroyed, outputs are
# complete or absent, JSON is valid UTF-8, bad numbers and options get one
# line, exit 2.

load helpers

# patch_trace IN OUT PYTHON-EXPR: OUT is IN with its bytes passed through a
# Python expression over `d` (bytes) and `events` (offsets of event records)
patch_trace() {
	python3 - "$1" "$2" "$3" <<-'PY'
		import struct, sys
		d = bytearray(open(sys.argv[1], 'rb').read())
		off = struct.unpack_from('<I', d, 16)[0]          # header_size
		events = []
		while off + 8 <= len(d):
		    kind, length = struct.unpack_from('<II', d, off)
		    if kind == 1:
		        events.append(off + 8)
		    off += 8 + length
		exec(sys.argv[3])
		open(sys.argv[2], 'wb').write(bytes(d))
	PY
}

# strict_json FILE [ndjson]: parses as UTF-8 and JSON (each line for ndjson)
strict_json() {
	python3 - "$1" "${2:-}" <<-'PY'
		import json, sys
		text = open(sys.argv[1], 'rb').read().decode('utf-8', errors='strict')
		docs = text.splitlines() if sys.argv[2] else [text]
		for doc in docs:
		    json.loads(doc)
	PY
}

# a listener holding a port: prints the port, keeps it until the test ends
busy_port() {
	python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True); time.sleep(120)' >"$BATS_TEST_TMPDIR/port" 3>&- &
	echo $! >"$BATS_TEST_TMPDIR/port.pid"
	for _ in $(seq 50); do [ -s "$BATS_TEST_TMPDIR/port" ] && break; sleep 0.1; done
	cat "$BATS_TEST_TMPDIR/port"
}

teardown() {
	[ -f "$BATS_TEST_TMPDIR/port.pid" ] && kill "$(cat "$BATS_TEST_TMPDIR/port.pid")" 2>/dev/null
	mountpoint -q "$BATS_TEST_TMPDIR/disk" 2>/dev/null && umount "$BATS_TEST_TMPDIR/disk"
	true
}

@test "outputs: device nodes, directories and fifos are refused, one line, exit 2, nothing touched" {
	# a private device node: a tool that deletes its target must not take /dev/null
	mknod "$BATS_TEST_TMPDIR/null" c 1 3 || skip "cannot create a device node here"
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	for target in "$BATS_TEST_TMPDIR/null" "$BATS_TEST_TMPDIR" "$BATS_TEST_TMPDIR/fifo"; do
		for cmd in "record -o $target" "run -o $target" "replay --timeline $target $(gen_trace seed-bug)"; do
			run $HISIMIG $cmd
			echo "$cmd: $output"
			[ "$status" -eq 2 ]
			[ "${#lines[@]}" -eq 1 ]
			[[ $output == "hisimig-trace: "*"$target is a "*": write to a regular file" ]]
		done
	done
	[ -c "$BATS_TEST_TMPDIR/null" ] && [ -p "$BATS_TEST_TMPDIR/fifo" ] && [ -d "$BATS_TEST_TMPDIR" ]
	[ ! -e "$BATS_TEST_TMPDIR/null.partial" ]
}

@test "outputs: an existing timeline survives a failed setup and is replaced only when complete" {
	trace=$(gen_trace seed-bug)
	tl=$BATS_TEST_TMPDIR/tl.json
	echo precious >"$tl"
	port=$(busy_port)
	run "$HISIMIG" replay --timeline "$tl" --metrics "127.0.0.1:$port" "$trace"
	[ "$status" -eq 2 ]
	[[ $output == *"Address already in use"* ]]
	[ "$(cat "$tl")" = precious ]
	[ ! -e "$tl.partial" ]
	# while replaying, FILE is still the old one; the new one lands at the end
	"$HISIMIG" replay --quiet --replay-speed 1 --timeline "$tl" "$trace" >/dev/null 3>&- &
	pid=$!
	sleep 0.5
	[ "$(cat "$tl")" = precious ]
	[ -e "$tl.partial" ]
	wait "$pid" || [ $? -eq 1 ]
	[ ! -e "$tl.partial" ]
	jq -e '.traceEvents | length > 10' "$tl"
}

@test "outputs: a leftover FILE.partial is never overwritten" {
	tl=$BATS_TEST_TMPDIR/tl.json
	echo "interrupted data" >"$tl.partial"
	run "$HISIMIG" replay --timeline "$tl" "$(gen_trace seed-bug)"
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ $output == *"$tl.partial exists"* ]]
	[ "$(cat "$tl.partial")" = "interrupted data" ]
	[ ! -e "$tl" ]
}

@test "replay: SIGINT and SIGTERM finish the outputs (summary, valid timeline), exit 128+signal" {
	trace=$(gen_trace migration-clean)
	for sig in INT TERM; do
		tl=$BATS_TEST_TMPDIR/$sig.json
		"$HISIMIG" replay --json --replay-speed 0.5 --timeline "$tl" "$trace" \
			>"$BATS_TEST_TMPDIR/$sig.out" 2>"$BATS_TEST_TMPDIR/$sig.err" 3>&- &
		pid=$!
		sleep 1
		kill -"$sig" "$pid"
		rc=0
		wait "$pid" || rc=$?
		cat "$BATS_TEST_TMPDIR/$sig.err"
		[ "$rc" -eq $((128 + $(kill -l "$sig"))) ]
		grep -q "stopped by" "$BATS_TEST_TMPDIR/$sig.err"
		strict_json "$tl"
		tail -n 1 "$BATS_TEST_TMPDIR/$sig.out" | jq -e '.type == "summary"'
		[ ! -e "$tl.partial" ]
	done
}

@test "stdout write errors: one line, exit 2, for every command" {
	trace=$(gen_trace seed-bug)
	for cmd in "replay $trace" "replay --json $trace" "dump $trace" "probe" "probe -j" \
		"gen --list" "--help" "replay --help"; do
		run bash -c "'$HISIMIG' $cmd >/dev/full"
		echo "$cmd: $status $output"
		[ "$status" -eq 2 ]
		[ "${#lines[@]}" -eq 1 ]
		[[ $output == "hisimig-trace: writing standard output failed"* ]]
	done
}

@test "JSON stays valid UTF-8 when comm and driver names are not (findings, timeline)" {
	# a task may name itself anything (PR_SET_NAME): lone bytes, a cut sequence,
	# an overlong NUL, a surrogate; a driver name with a stray continuation byte
	# a format-1 trace: fixed-size event records at known offsets
	patch_trace "$BATS_TEST_DIRNAME/../data/format1-seed-bug.hmt" "$BATS_TEST_TMPDIR/bad.hmt" '
for i, e in enumerate(events):
    bad = [b"\xff\xfe\"\\\x01", b"ok\xc3", b"\xc0\x80z", b"\xed\xa0\x80", b"\xe2\x82\xac\xf0\x9f"][i % 5]
    d[e + 32:e + 48] = (bad + bytes(16))[:16]
d[:] = d.replace(b"nvme\0", b"n\x80me\0")'
	run "$HISIMIG" replay --json --timeline "$BATS_TEST_TMPDIR/bad.json" "$BATS_TEST_TMPDIR/bad.hmt"
	[ "$status" -eq 1 ]
	echo "$output" >"$BATS_TEST_TMPDIR/bad.ndjson"
	strict_json "$BATS_TEST_TMPDIR/bad.ndjson" ndjson
	strict_json "$BATS_TEST_TMPDIR/bad.json"
	jq -e . "$BATS_TEST_TMPDIR/bad.json" >/dev/null
	# replaced, not dropped: U+FFFD where the bad bytes were, good ones kept
	grep -q '"comm":"\\ufffd\\ufffd\\"\\\\\\u0001"' "$BATS_TEST_TMPDIR/bad.ndjson"
	jq -se '[.[] | select(.type == "finding") | .data.devices[] | select(.driver == "n\ufffdme")]
		| length > 0' "$BATS_TEST_TMPDIR/bad.ndjson"
}

@test "numbers: nan, inf, signs, spaces, hex and extremes are refused, one line, exit 2" {
	trace=$(gen_trace seed-bug)
	check() {
		run $HISIMIG $1 "$2" --metrics 127.0.0.1:0 "$trace"
		echo "$1 '$2': $output"
		[ "$status" -eq 2 ]
		[ "${#lines[@]}" -eq 1 ]
		[[ $output == "hisimig-trace: --"* ]]
	}
	for bad in nan inf -1 +5 " 5" "5 " 0x10 1e400 ""; do
		for cmd in "run --duration" "replay --replay-speed" "replay --mig-state-max-ms" \
			"replay --metrics-linger" "run --ringbuf-kb"; do
			check "$cmd" "$bad"
		done
	done
	# a factor or a duration must be > 0 and not vanishingly small
	for bad in 0 1e-300 0.0000001; do
		check "run --duration" "$bad"
		check "replay --replay-speed" "$bad"
	done
	for bad in "127.0.0.1: 5" "127.0.0.1:+5" "127.0.0.1:-1" "127.0.0.1:0x50"; do
		run "$HISIMIG" replay --metrics "$bad" "$trace"
		[ "$status" -eq 2 ]
		[ "${#lines[@]}" -eq 1 ]
	done
	# good ones still work
	run "$HISIMIG" replay --quiet --replay-speed 1e3 --mig-state-max-ms 100 "$trace"
	[ "$status" -eq 1 ]
}

@test "pacing: a jump of days in the trace's timestamps waits a few seconds, not days" {
	patch_trace "$BATS_TEST_DIRNAME/../data/format1-seed-bug.hmt" "$BATS_TEST_TMPDIR/jump.hmt" '
for e in events[len(events) // 2:]:
    ts = struct.unpack_from("<Q", d, e + 8)[0]
    struct.pack_into("<Q", d, e + 8, ts + 3 * 86400 * 10**9)'
	run timeout 60 "$HISIMIG" replay --quiet --replay-speed 100 "$BATS_TEST_TMPDIR/jump.hmt"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"33 events"* ]]
}

@test "a bad option is one line pointing at --help, not the whole usage" {
	trace=$(gen_trace seed-bug)
	run "$HISIMIG" replay --frob "$trace"
	[ "$status" -eq 2 ]
	[ "$output" = "hisimig-trace: replay: unrecognized option '--frob'; try 'hisimig-trace replay --help'" ]
	run "$HISIMIG" replay --timeline
	[ "$status" -eq 2 ]
	[ "$output" = "hisimig-trace: replay: option '--timeline' needs an argument; try 'hisimig-trace replay --help'" ]
	for cmd in "run -Z" "record --frob" "probe --frob" "dump --frob" "gen --frob" "replay -Z" "ci --frob" "ci -Z" "ci --json"; do
		run $HISIMIG $cmd
		echo "$cmd: $output"
		[ "$status" -eq 2 ]
		[ "${#lines[@]}" -eq 1 ]
		[[ $output == "hisimig-trace: ${cmd%% *}: "*"; try 'hisimig-trace ${cmd%% *} --help'" ]]
	done
}

@test "a full disk: one line, exit 2, the old file untouched, what was written kept in FILE.partial" {
	local disk=$BATS_TEST_TMPDIR/disk
	trace=$(gen_trace migration-clean)
	mkdir "$disk"
	mount -t tmpfs -o size=64k hisimig-full "$disk" 2>/dev/null || skip "cannot mount a small tmpfs here"
	echo precious >"$disk/t.json"
	echo precious >"$disk/t.hmt"
	head -c 56k /dev/zero >"$disk/filler" 2>/dev/null || true
	run "$HISIMIG" replay --quiet --timeline "$disk/t.json" "$trace"
	echo "$output"
	[ "$status" -eq 2 ]
	[[ $output == *"writing $disk/t.json failed"* ]]
	[ "$(cat "$disk/t.json")" = precious ]
	[ -e "$disk/t.json.partial" ]
	rm "$disk/t.json.partial"
	run "$HISIMIG" gen migration-clean -o "$disk/t.hmt"
	echo "$output"
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$(cat "$disk/t.hmt")" = precious ]
	umount "$disk"
}
