#!/bin/bash
# Tracing overhead, in the guest, measured in this one run, for three
# workloads of N operations each (tests/bench/op-loop.c):
#   device:    pread of the PF's sriov_numvfs (kernfs mutexes + device_lock(PF)):
#              every op takes a tracked lock, the worst case;
#   untracked: pread of /sys/kernel/uevent_seqnum (kernfs mutexes only):
#              mutexes the focused mode rejects in BPF, the production case;
#   faults:    map, fault in, unmap one page (mmap_lock, no mutex): rwsems the
#              focused mode rejects (not a VFIO user's mmap_lock).
# Each: without the tool, under `run --locks focused`, without, under `run
# --locks full`, without (drift check). Prints ratios.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
HM=$REPO/hisimig-trace
LOOP=$REPO/build/bench/op-loop
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

# measure NAME ATTR: no tool, focused, no tool, full, no tool; each mode's
# ratio is against the mean of the two no-tool runs around it, so drift
# (caches, memory the previous tracer left) is not charged to a mode
measure() {
	local name=$1 attr=$2 b1 focused b2 full b3
	workload "$attr" >/dev/null # warm the caches
	b1=$(workload "$attr")
	focused=$(under_tool focused "$attr")
	b2=$(workload "$attr")
	full=$(under_tool full "$attr")
	b3=$(workload "$attr")
	awk -v n="$N" -v b1="$b1" -v fo="$focused" -v b2="$b2" -v fu="$full" -v b3="$b3" \
		-v name="$name" -v attr="$attr" 'BEGIN {
		lo = b1; hi = b1
		if (b2 < lo) lo = b2; if (b3 < lo) lo = b3
		if (b2 > hi) hi = b2; if (b3 > hi) hi = b3
		printf "%s: %d x %s\n", name, n, attr == "faults" ? "mmap + page fault + munmap" : "pread(" attr ")"
		printf "  no tool        %8.0f ns/op  (then %.0f, %.0f: drift %.2f)\n", b1 / n, b2 / n, b3 / n, hi / lo
		printf "  --locks focused %7.0f ns/op  ratio %.2f\n", fo / n, 2 * fo / (b1 + b2)
		printf "  --locks full   %8.0f ns/op  ratio %.2f\n", fu / n, 2 * fu / (b2 + b3) }'
}

echo "guest overhead, kernel $(uname -r)"
measure "device (every op takes a tracked lock)" "$DEVICE_ATTR"
measure "untracked (no device lock: what focused mode filters out)" "$UNTRACKED_ATTR"
measure "faults (mmap_lock of a process without a VFIO device: filtered out too)" faults
