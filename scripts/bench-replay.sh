#!/bin/bash
# Replay throughput of the analysis engine: one generated trace of N events
# (the locks-clean mix: device, global, driver and mm locks, VFIO users,
# migrations), replayed with every analyzer. Prints events/s.
set -euo pipefail
HM=${HISIMIG:-./hisimig-trace}
N=${BENCH_EVENTS:-500000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$HM" gen bench --events "$N" -o "$dir/bench.hmt"
events=$("$HM" dump "$dir/bench.hmt" | grep -vc '^meta\|^header\|^end' || true)
best=0
for _ in 1 2 3; do
	t0=$(date +%s%N)
	"$HM" replay --json "$dir/bench.hmt" >/dev/null
	t=$(($(date +%s%N) - t0))
	if [ "$best" -eq 0 ] || [ "$t" -lt "$best" ]; then best=$t; fi
done
awk -v e="$events" -v ns="$best" -v bytes="$(stat -c %s "$dir/bench.hmt")" 'BEGIN {
	printf "replay: %d events (%.1f MB trace) in %.3f s (best of 3): %.0f events/s, %.0f ns/event\n",
		e, bytes / 1e6, ns / 1e9, e / (ns / 1e9), ns / e }'
