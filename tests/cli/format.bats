#!/usr/bin/env bats
# The trace format on disk, reading from pipes, and bounded memory.

load helpers

# max_rss_kb CMD... -> peak RSS of CMD in KiB (stdout of CMD discarded)
max_rss_kb() {
	# ASan keeps freed memory in quarantine: that is not the tool's footprint
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0 \
		/usr/bin/time -f '%M' -o "$BATS_TEST_TMPDIR/rss" "$@" >/dev/null 2>&1
	cat "$BATS_TEST_TMPDIR/rss"
}

@test "the bench mix takes at most 48 bytes an event on disk" {
	"$HISIMIG" gen bench --events 200000 -o "$BATS_TEST_TMPDIR/b.hmt"
	size=$(stat -c %s "$BATS_TEST_TMPDIR/b.hmt")
	[ "$size" -le $((48 * 200000)) ]
}

@test "a format 1 trace still replays with its findings" {
	run "$HISIMIG" replay --json "$BATS_TEST_DIRNAME/../data/format1-seed-bug.hmt"
	[ "$status" -eq 1 ]
	[[ "$output" == *'"kind":"vf-pf-lock-order"'* ]]
	[[ "$output" == *'"kind":"lock-order-cycle"'* ]]
	[[ "$output" == *'"events":33,'* ]]
}

@test "replay reads - and /dev/stdin from a pipe like the file" {
	trace=$(gen_trace seed-bug)
	want=$("$HISIMIG" replay --json "$trace" | grep -v '"type":"summary"')
	run bash -c "cat '$trace' | '$HISIMIG' replay --json -"
	[ "$status" -eq 1 ]
	[ "$(grep -v '"type":"summary"' <<<"$output")" = "$want" ]
	run bash -c "cat '$trace' | '$HISIMIG' replay --json /dev/stdin"
	[ "$status" -eq 1 ]
	[ "$(grep -v '"type":"summary"' <<<"$output")" = "$want" ]
}

@test "a pipe cut mid-record replays every whole record and says so" {
	"$HISIMIG" gen bench --events 20000 -o "$BATS_TEST_TMPDIR/b.hmt"
	run bash -c "head -c 100000 '$BATS_TEST_TMPDIR/b.hmt' | '$HISIMIG' replay -"
	[ "$status" -eq 0 ]
	[[ "$output" == *"hisimig-trace: -: truncated: replayed "*" whole records ("*" bytes); the tail was cut"* ]]
	[[ "$output" == *"hisimig-trace: -: "*" events over "* ]]
}

@test "gen streams: memory does not grow with --events" {
	[ -x /usr/bin/time ] || skip "needs /usr/bin/time"
	small=$(max_rss_kb "$HISIMIG" gen bench --events 100000 -o "$BATS_TEST_TMPDIR/s.hmt")
	large=$(max_rss_kb "$HISIMIG" gen bench --events 1000000 -o "$BATS_TEST_TMPDIR/l.hmt")
	echo "gen RSS: 1e5 events $small KiB, 1e6 events $large KiB"
	[ "$large" -le $((small * 11 / 10)) ]
}

@test "replay memory stays flat from 1e5 to 1e6 events" {
	[ -x /usr/bin/time ] || skip "needs /usr/bin/time"
	"$HISIMIG" gen bench --events 100000 -o "$BATS_TEST_TMPDIR/s.hmt"
	"$HISIMIG" gen bench --events 1000000 -o "$BATS_TEST_TMPDIR/l.hmt"
	small=$(max_rss_kb "$HISIMIG" replay "$BATS_TEST_TMPDIR/s.hmt")
	large=$(max_rss_kb "$HISIMIG" replay "$BATS_TEST_TMPDIR/l.hmt")
	echo "replay RSS: 1e5 events $small KiB, 1e6 events $large KiB"
	[ "$large" -le $((small * 11 / 10)) ]
}
