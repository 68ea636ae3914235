#!/bin/bash
# Tracing overhead in the guest, every figure measured in this one run, for
# three workloads of N operations each (tests/bench/op-loop.c):
#   device:    pread of the PF's sriov_numvfs (kernfs mutexes + device_lock(PF)):
#              every op takes a tracked lock, the worst case;
#   untracked: pread of /sys/kernel/uevent_seqnum (kernfs mutexes only):
#              mutexes the focused mode rejects in BPF, the production case;
#   faults:    map, fault in, unmap one page (mmap_lock, no mutex): rwsems the
#              focused mode rejects (not a VFIO user's mmap_lock).
# Configurations, one after the other with an untraced block between each two
# and at both ends: `run --locks focused`, `run --locks full`, the bpftrace
# equivalent of the focused mode (tests/bench/locks-focused.bt), bcc's
# klockstat where it runs, and the same hooks with empty programs
# (tests/bench/locks-hooks-only.bt): the floor no program body can go under. A block runs every workload REPEATS times under one
# tracer; a traced run's ratio is against the median of the untraced runs of
# the two blocks around it, so drift is not charged to a tool. A tool's block
# starts SETTLE seconds after it reports ready: what is measured is tracing,
# not a tool's start-up (symbol tables, late attaches), which its "ready in"
# note times instead; and each workload starts once the tool has caught up
# with the records of the one before, which are not the next one's cost.
# Then the sustained rate: run --locks focused at its default ring size while
# P device loops, paced, double their rate until a lost record is reported.
# Prints figures (min / median / max), never fails on a number.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
HM=$REPO/hisimig-trace
LOOP=$REPO/build/bench/op-loop
BT_SCRIPT=$REPO/tests/bench/locks-focused.bt
HOOKS_SCRIPT=$REPO/tests/bench/locks-hooks-only.bt
N=${BENCH_OPS:-3000}
REPEATS=${BENCH_REPEATS:-5}
PROCS=${BENCH_PROCS:-2}
STEP_SECONDS=${BENCH_STEP_SECONDS:-5}
SETTLE=${BENCH_SETTLE_SECONDS:-3}
PF=${HISIMIG_PF:-0000:01:00.0}
# the tools write to the guest's tmpfs (the 9p share is slow); copied to
# the run's directory at the end
OUT=$(mktemp -d /tmp/bench.XXXXXX)
WORKLOADS=(device untracked faults)
declare -A WHAT=([device]=/sys/bus/pci/devices/$PF/sriov_numvfs
	[untracked]=/sys/kernel/uevent_seqnum [faults]=faults)
# An untracked op is the cheapest (a few us under TCG): N of them would be a
# run of tens of ms, the scale of the guest's timer and host noise.
declare -A OPS=([device]=$N [untracked]=$((N * 5)) [faults]=$N)
declare -A TITLE=([device]="device (every op takes a tracked lock)"
	[untracked]="untracked (no device lock: what focused mode filters out)"
	[faults]="faults (mmap_lock of a process without a VFIO device: filtered out too)")
RESULTS=$OUT/results   # "BLOCK WORKLOAD NS_PER_OP" per run
NOTES=$OUT/notes       # "BLOCK text" per tool: what it wrote, or why it did not run

# the focused mode's default ring buffer, KiB
RING_KB=$("$HM" run --help | sed -n 's/.*(default \([0-9]*\), .*/\1/p' | head -n 1)
RING_KB=${RING_KB:-8192}

mkdir -p "$OUT"
: >"$RESULTS"
: >"$NOTES"
modprobe nvme
for _ in $(seq 50); do [ -e "${WHAT[device]}" ] && break; sleep 0.1; done

# btf_member (struct offsets from BTF) comes from the guest tests' helpers
BATS_TEST_DIRNAME=$REPO/tests/guest
BATS_FILE_TMPDIR=$OUT
source "$REPO/tests/guest/guest-helpers.bash"

per_op() { "$LOOP" "${OPS[$1]}" "${WHAT[$1]}" | sed -n 's/.*ns=\([0-9]*\) .*/\1/p' | awk -v n="${OPS[$1]}" '{ print $1 / n }'; }

# cpu_ticks PID: the process's user + system time so far, in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# quiet PID: until the tracer has caught up (under 2 ticks of CPU in 0.5 s),
# so that the backlog of one workload's records is not charged to the next
# workload; at most 15 s: --locks full traces its own reads and never idles
quiet() {
	local before after
	for _ in $(seq 30); do
		before=$(cpu_ticks "$1")
		sleep 0.5
		after=$(cpu_ticks "$1")
		[ $((after - before)) -lt 2 ] && return
	done
}

# block NAME [TRACER-PID]: every workload REPEATS times
block() {
	local w
	for w in "${WORKLOADS[@]}"; do
		[ -n "${2:-}" ] && quiet "$2"
		for _ in $(seq "$REPEATS"); do
			echo "$1 $w $(per_op "$w")" >>"$RESULTS"
		done
	done
}

note() { echo "$1 $2" >>"$NOTES"; }

# wait_for PID FILE PATTERN SECONDS: until PATTERN is in FILE (0), PID died or time ran out (1)
wait_for() {
	local pid=$1 file=$2 pattern=$3
	for _ in $(seq $(($4 * 10))); do
		grep -q "$pattern" "$file" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# stop PID: SIGINT (each tool's summary), then wait
stop() {
	kill -INT "$1" 2>/dev/null
	for _ in $(seq 1200); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# traced NAME READY-FILE PATTERN START-SECONDS CMD...: one block under CMD
traced() {
	local name=$1 ready=$2 pattern=$3 limit=$4 pid t0
	shift 4
	t0=$(date +%s)
	"$@" >"$OUT/$name.out" 2>"$OUT/$name.err" &
	pid=$!
	if ! wait_for "$pid" "$ready" "$pattern" "$limit"; then
		stop "$pid"
		note "$name" "did not run: $(grep -v '^\s*$' "$OUT/$name.err" "$OUT/$name.out" | tail -n 1 | cut -c1-200)"
		return
	fi
	note "$name" "ready in $(($(date +%s) - t0)) s"
	sleep "$SETTLE"
	block "$name" "$pid"
	stop "$pid"
}

echo "guest overhead, kernel $(uname -r), $(nproc) vCPU, $N ops per run ($((N * 5)) untracked), $REPEATS runs per figure, tools measured from $SETTLE s after ready"
block untraced1
traced focused "$OUT/focused.err" "tracing:" 300 "$HM" run --locks focused
block untraced2
traced full "$OUT/full.err" "tracing:" 300 "$HM" run --locks full
block untraced3
if command -v bpftrace >/dev/null; then
	read -r mutex_off _ < <(btf_member device mutex)
	read -r dev_off _ < <(btf_member pci_dev dev)
	# stdout line-buffered: "tracing" (BEGIN) reaches the file when written.
	# bpftrace's perf buffer is as large as the tool's ring buffer (its
	# default, 64 pages per CPU, drops most records of the device workload,
	# and a tool that drops its data does less work than the one it is
	# compared with); what it still loses is in the notes.
	traced bpftrace "$OUT/bpftrace.out" "^tracing" 300 \
		env BPFTRACE_PERF_RB_PAGES=$((RING_KB / 4)) stdbuf -oL bpftrace "$BT_SCRIPT" "$mutex_off" "$dev_off"
else
	note bpftrace "did not run: bpftrace is not installed (scripts/install-deps.sh guest)"
fi
block untraced4
if ! command -v klockstat-bpfcc >/dev/null; then
	note klockstat "did not run: klockstat-bpfcc is not installed (bpfcc-tools)"
elif [ -z "${BCC_KERNEL_SOURCE:-}" ] || [ ! -e "$BCC_KERNEL_SOURCE/include/generated/autoconf.h" ]; then
	note klockstat "did not run: no kernel headers for $(uname -r) (BCC_KERNEL_SOURCE; make bench-guest prepares them)"
else
	traced klockstat "$OUT/klockstat.out" "^Tracing" 600 env PYTHONUNBUFFERED=1 klockstat-bpfcc
fi
block untraced5
if command -v bpftrace >/dev/null; then
	traced hooks "$OUT/hooks.out" "^tracing" 300 stdbuf -oL bpftrace "$HOOKS_SCRIPT"
else
	note hooks "did not run: bpftrace is not installed (scripts/install-deps.sh guest)"
fi
block untraced6

# What each tool wrote: the tool's own event count, bpftrace's lines.
focused_events=$(sed -n 's/.*: \([0-9]*\) events over .*/\1/p' "$OUT/focused.out" "$OUT/focused.err" | head -n 1)
full_events=$(sed -n 's/.*: \([0-9]*\) events over .*/\1/p' "$OUT/full.out" "$OUT/full.err" | head -n 1)
[ -n "$focused_events" ] && note focused "$focused_events events recorded"
[ -n "$full_events" ] && note full "$full_events events recorded"
[ -s "$OUT/bpftrace.out" ] &&
	note bpftrace "$(grep -cE '^(wait|acquired|trylock|released) ' "$OUT/bpftrace.out") records written, $(grep -c '^@stacks\[' "$OUT/bpftrace.out") distinct stacks, $(sed -n 's/^Lost \([0-9]*\) events.*/\1/p' "$OUT/bpftrace.out" | awk '{ n += $1 } END { print n + 0 }') lost"

awk -v ndev="${OPS[device]}" -v nunt="${OPS[untracked]}" -v nflt="${OPS[faults]}" -v reps="$REPEATS" -v results="$RESULTS" -v notes="$NOTES" \
	-v tdev="${TITLE[device]}" -v tunt="${TITLE[untracked]}" -v tflt="${TITLE[faults]}" \
	-v wdev="${WHAT[device]}" -v wunt="${WHAT[untracked]}" '
function sort_n(a, k,   i, j, t) {
	for (i = 2; i <= k; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
}
function median(a, k) { return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2 }
# stats of the runs of blocks b1 (and b2) on workload w into S[]
function stats(w, b1, b2,   k, i, v) {
	k = 0
	for (i = 1; i <= nrows; i++)
		if (rw[i] == w && (rb[i] == b1 || rb[i] == b2)) v[++k] = rv[i]
	S["k"] = k
	if (!k) return 0
	sort_n(v, k); S["min"] = v[1]; S["med"] = median(v, k); S["max"] = v[k]
	return k
}
BEGIN {
	while ((getline line < results) > 0) { split(line, f, " "); nrows++; rb[nrows] = f[1]; rw[nrows] = f[2]; rv[nrows] = f[3] }
	while ((getline line < notes) > 0) { i = index(line, " "); b = substr(line, 1, i - 1); note[b] = note[b] (note[b] ? "; " : "") substr(line, i + 1) }
	tool[1] = "focused"; label["focused"] = "run --locks focused"
	tool[2] = "full"; label["full"] = "run --locks full"
	tool[3] = "bpftrace"; label["bpftrace"] = "bpftrace, same hooks"
	tool[4] = "klockstat"; label["klockstat"] = "klockstat-bpfcc"
	tool[5] = "hooks"; label["hooks"] = "hooks, empty programs"
	split("device untracked faults", wl, " ")
	title["device"] = tdev; title["untracked"] = tunt; title["faults"] = tflt
	ops["device"] = ndev; ops["untracked"] = nunt; ops["faults"] = nflt
	what["device"] = "pread(" wdev ")"; what["untracked"] = "pread(" wunt ")"; what["faults"] = "mmap + page fault + munmap"
	for (wi = 1; wi <= 3; wi++) {
		w = wl[wi]
		printf "\n%s: %d x %s\n", title[w], ops[w], what[w]
		printf "  %-22s %9s %9s %9s   %7s %7s %7s   %s\n", "ns/op", "min", "median", "max", "ratio", "min", "max", "overhead ns/op"
		for (b = 1; b <= 6; b++) { if (stats(w, "untraced" b)) bmed[b] = S["med"] }
		lo = hi = bmed[1]; for (b = 2; b <= 6; b++) { if (bmed[b] < lo) lo = bmed[b]; if (bmed[b] > hi) hi = bmed[b] }
		# all untraced runs
		k = 0; for (i = 1; i <= nrows; i++) if (rw[i] == w && rb[i] ~ /^untraced/) v[++k] = rv[i]
		sort_n(v, k)
		printf "  %-22s %9.0f %9.0f %9.0f   (6 blocks, drift of their medians %.2f)\n", "untraced", v[1], median(v, k), v[k], hi / lo
		for (t = 1; t <= 5; t++) {
			name = tool[t]
			if (!stats(w, name)) { printf "  %-22s %s\n", label[name], "not measured"; continue }
			tmin = S["min"]; tmed = S["med"]; tmax = S["max"]
			stats(w, "untraced" t, "untraced" (t + 1)); base = S["med"]
			printf "  %-22s %9.0f %9.0f %9.0f   %7.2f %7.2f %7.2f   %.0f\n", label[name], tmin, tmed, tmax,
				tmed / base, tmin / base, tmax / base, tmed - base
			ratio[w, name] = tmed / base; over[w, name] = tmed - base
			over_lo[w, name] = tmin - base; over_hi[w, name] = tmax - base
		}
	}
	printf "\ntools:\n"
	for (t = 1; t <= 5; t++) printf "  %-22s %s\n", label[tool[t]], note[tool[t]] ? note[tool[t]] : "-"
	printf "\ntargets (medians of this run):\n"
	for (wi = 2; wi <= 3; wi++) {
		w = wl[wi]
		if ((w, "focused") in ratio)
			printf "  focused / untraced, %-9s %6.2f  (target <= 1.2: %s)\n", w, ratio[w, "focused"], ratio[w, "focused"] <= 1.2 ? "met" : "not met"
		if ((w, "focused") in over && (w, "hooks") in over)
			printf "    the hooks alone, empty programs: %.2f; focused costs %.0f ns/op above them\n", ratio[w, "hooks"], over[w, "focused"] - over[w, "hooks"]
	}
	if (("device", "focused") in over && ("device", "bpftrace") in over && over["device", "bpftrace"] > 0) {
		r = over["device", "focused"] / over["device", "bpftrace"]
		printf "  focused overhead / bpftrace overhead, device %.2f (from extremes %.2f..%.2f; target <= 0.5: %s)\n", r,
			over_lo["device", "focused"] / over_hi["device", "bpftrace"],
			over_hi["device", "focused"] / (over_lo["device", "bpftrace"] > 0 ? over_lo["device", "bpftrace"] : over["device", "bpftrace"]),
			r <= 0.5 ? "met" : "not met"
	} else printf "  focused overhead / bpftrace overhead, device: not measured\n"
}'

# Sustained rate: the highest event rate recorded with no lost record.
echo
echo "sustained rate: run --locks focused (ring buffer ${RING_KB} KiB), $PROCS device loops paced together, ${STEP_SECONDS} s a step"
printf "  %-16s %12s %12s %8s\n" "ops/s asked" "ops/s done" "events/s" "lost"
best=0 lost_at=""
for rate in 250 500 1000 2000 4000 8000 16000 0; do
	per=$((rate > 0 ? (rate + PROCS - 1) / PROCS : 0))
	ops=$((rate > 0 ? per * STEP_SECONDS : N))
	"$HM" run --locks focused >"$OUT/rate.out" 2>"$OUT/rate.err" &
	pid=$!
	if ! wait_for "$pid" "$OUT/rate.err" "tracing:" 300; then
		stop "$pid"
		echo "  run --locks focused did not start: $(tail -n 1 "$OUT/rate.err")"
		break
	fi
	t0=$(date +%s%N)
	for _ in $(seq "$PROCS"); do "$LOOP" "$ops" "${WHAT[device]}" "$per" >/dev/null & done
	wait $(jobs -p | grep -vx "$pid")
	t1=$(date +%s%N)
	stop "$pid"
	events=$(sed -n 's/.*: \([0-9]*\) events over .*/\1/p' "$OUT/rate.out" "$OUT/rate.err" | head -n 1)
	lost=$(sed -n 's/.* \([0-9]*\) event records lost.*/\1/p' "$OUT/rate.out" "$OUT/rate.err" | head -n 1)
	read -r done_rate ev_rate < <(awk -v o="$((ops * PROCS))" -v e="${events:-0}" -v ns="$((t1 - t0))" \
		'BEGIN { printf "%.0f %.0f\n", o * 1e9 / ns, e * 1e9 / ns }')
	printf "  %-16s %12s %12s %8s\n" "$([ "$rate" -gt 0 ] && echo "$rate" || echo unpaced)" \
		"$done_rate" "$ev_rate" "${lost:-0}"
	if [ -n "$lost" ] && [ "$lost" -gt 0 ]; then
		lost_at=$ev_rate
		break
	fi
	[ "$ev_rate" -gt "$best" ] && best=$ev_rate
done
if [ -n "$lost_at" ]; then
	echo "  highest zero-loss rate: $best events/s (first loss at $lost_at events/s)"
else
	echo "  highest zero-loss rate: $best events/s; no record was lost at any rate the guest reached (the workload, not the ring buffer, was the limit)"
fi
[ -n "${HISIMIG_OUT:-}" ] && cp -r "$OUT" "$HISIMIG_OUT/bench"
exit 0
