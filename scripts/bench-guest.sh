#!/bin/bash
# Tracing overhead, in the guest, measured in this one run: the same
# mutex-heavy workload (N preads of the PF's sriov_numvfs: kernfs mutex +
# device_lock(PF)) without the tool, under `run --locks focused`, under
# `run --locks full`, and without the tool again (drift check). Prints ratios.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
HM=$REPO/hisimig-trace
LOOP=$REPO/build/bench/sysfs-loop
N=${BENCH_OPS:-20000}
PF=${HISIMIG_PF:-0000:01:00.0}
ATTR=/sys/bus/pci/devices/$PF/sriov_numvfs
modprobe nvme
for _ in $(seq 50); do [ -e "$ATTR" ] && break; sleep 0.1; done

workload() { "$LOOP" "$N" "$ATTR" | sed -n 's/.*ns=\([0-9]*\) .*/\1/p'; }

under_tool() {
	local mode=$1 err tracer ns
	err=$(mktemp)
	"$HM" run --locks "$mode" >/dev/null 2>"$err" &
	tracer=$!
	for _ in $(seq 600); do grep -q "tracing:" "$err" && break; sleep 0.1; done
	ns=$(workload)
	kill -INT "$tracer"
	wait "$tracer" || true
	rm -f "$err"
	echo "$ns"
}

workload >/dev/null # warm the caches
base=$(workload)
focused=$(under_tool focused)
full=$(under_tool full)
base2=$(workload)
awk -v n="$N" -v b="$base" -v fo="$focused" -v fu="$full" -v b2="$base2" -v k="$(uname -r)" \
	-v attr="$ATTR" 'BEGIN {
	printf "guest overhead: %d x pread(%s), kernel %s\n", n, attr, k
	printf "  no tool        %8.0f ns/op\n", b / n
	printf "  --locks focused %7.0f ns/op  ratio %.2f\n", fo / n, fo / b
	printf "  --locks full   %8.0f ns/op  ratio %.2f\n", fu / n, fu / b
	printf "  no tool again  %8.0f ns/op  ratio %.2f (drift)\n", b2 / n, b2 / b }'
