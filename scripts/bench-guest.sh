#!/bin/bash
# Tracing overhead, in the guest, measured in this one run, for two workloads
# of N preads of one sysfs attribute each:
#   device:    the PF's sriov_numvfs (kernfs mutexes + device_lock(PF)): every
#              op takes a tracked lock, the worst case;
#   untracked: /sys/kernel/uevent_seqnum (kernfs mutexes only): mutexes the
#              focused mode rejects in BPF, the production case.
# Each: without the tool, under `run --locks focused`, under `run --locks
# full`, and without the tool again (drift check). Prints ratios.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
HM=$REPO/hisimig-trace
LOOP=$REPO/build/bench/sysfs-loop
N=${BENCH_OPS:-20000}
PF=${HISIMIG_PF:-0000:01:00.0}
DEVICE_ATTR=/sys/bus/pci/devices/$PF/sriov_numvfs
UNTRACKED_ATTR=/sys/kernel/uevent_seqnum
modprobe nvme
for _ in $(seq 50); do [ -e "$DEVICE_ATTR" ] && break; sleep 0.1; done

workload() { "$LOOP" "$N" "$1" | sed -n 's/.*ns=\([0-9]*\) .*/\1/p'; }

# under_tool MODE ATTR: the workload's ns while `run --locks MODE` traces
under_tool() {
	local mode=$1 attr=$2 err tracer ns
	err=$(mktemp)
	"$HM" run --locks "$mode" >/dev/null 2>"$err" &
	tracer=$!
	for _ in $(seq 600); do grep -q "tracing:" "$err" && break; sleep 0.1; done
	ns=$(workload "$attr")
	kill -INT "$tracer"
	wait "$tracer" || true
	rm -f "$err"
	echo "$ns"
}

# measure NAME ATTR: the four configurations, ratios against the first
measure() {
	local name=$1 attr=$2 base focused full base2
	workload "$attr" >/dev/null # warm the caches
	base=$(workload "$attr")
	focused=$(under_tool focused "$attr")
	full=$(under_tool full "$attr")
	base2=$(workload "$attr")
	awk -v n="$N" -v b="$base" -v fo="$focused" -v fu="$full" -v b2="$base2" \
		-v name="$name" -v attr="$attr" 'BEGIN {
		printf "%s: %d x pread(%s)\n", name, n, attr
		printf "  no tool        %8.0f ns/op\n", b / n
		printf "  --locks focused %7.0f ns/op  ratio %.2f\n", fo / n, fo / b
		printf "  --locks full   %8.0f ns/op  ratio %.2f\n", fu / n, fu / b
		printf "  no tool again  %8.0f ns/op  ratio %.2f (drift)\n", b2 / n, b2 / b }'
}

echo "guest overhead, kernel $(uname -r)"
measure "device (every op takes a tracked lock)" "$DEVICE_ATTR"
measure "untracked (no device lock: what focused mode filters out)" "$UNTRACKED_ATTR"
