#!/bin/bash
# Replay benchmark: one table of figures measured in one run, each repeated
# (min / median / max), on generated traces of the bench mix (device, global,
# driver and mm locks, VFIO users, migrations). Never fails on a number.
#
#   BENCH_EVENTS=N    throughput trace (default 1000000)
#   BENCH_LARGE=N     the second trace for the memory ratio (default 10000000)
#   BENCH_RUNS=N      repeats of each measurement (default 5; 3 on the large trace)
set -euo pipefail
HM=${HISIMIG:-./hisimig-trace}
N=${BENCH_EVENTS:-1000000}
LARGE=${BENCH_LARGE:-10000000}
RUNS=${BENCH_RUNS:-5}
LARGE_RUNS=$((RUNS < 3 ? RUNS : 3))
CPU_TIME=${CPU_TIME:-build/bench/cpu-time}
[ -x "$CPU_TIME" ] || { echo "bench-replay: $CPU_TIME missing (make $CPU_TIME)" >&2; exit 2; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# events FILE -> event records in a trace (from the replay summary)
events() {
	"$HM" replay --json "$1" | sed -nE 's/.*"type":"summary".*"events":([0-9]+).*/\1/p'
}

# measure FILE -> "wall_s cpu_s maxrss_kb" of one replay with every analyzer
measure() {
	"$CPU_TIME" "$dir/time" "$HM" replay --json "$1" >/dev/null
	cat "$dir/time"
}

# raw_read FILE -> seconds to read the file once from the page cache: ten
# reads in one process, so process start-up does not count
raw_read() {
	local t0 t1 files=()
	for _ in 1 2 3 4 5 6 7 8 9 10; do files+=("$1"); done
	t0=$(date +%s%N)
	cat "${files[@]}" >/dev/null
	t1=$(date +%s%N)
	awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.6f\n", ns / 10 / 1e9 }'
}

# spread VALUES... -> "min median max"
spread() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf "%s %s %s\n", v[1], m, v[NR] }'
}

row() { # label unit min median max
	awk -v l="$1" -v u="$2" -v a="$3" -v b="$4" -v c="$5" 'BEGIN {
		printf "  %-38s %14.4g %14.4g %14.4g  %s\n", l, a, b, c, u }'
}

"$HM" gen bench --events "$N" -o "$dir/small.hmt"
"$HM" gen bench --events "$LARGE" -o "$dir/large.hmt"
small_events=$(events "$dir/small.hmt")
large_events=$(events "$dir/large.hmt")
small_bytes=$(stat -c %s "$dir/small.hmt")
large_bytes=$(stat -c %s "$dir/large.hmt")
cat "$dir/small.hmt" "$dir/large.hmt" >/dev/null # both in the page cache

wall=() cpu=() rss1=() raw=() raw_mbs=() ratio=() evs=() evs_core=()
for _ in $(seq "$RUNS"); do
	read -r w c m < <(measure "$dir/small.hmt")
	r=$(raw_read "$dir/small.hmt")
	wall+=("$w") cpu+=("$c") rss1+=("$m") raw+=("$r")
	evs+=("$(awk -v e="$small_events" -v t="$w" 'BEGIN { print e / (t > 0 ? t : 1e-3) }')")
	evs_core+=("$(awk -v e="$small_events" -v t="$c" 'BEGIN { print e / (t > 0 ? t : 1e-3) }')")
	raw_mbs+=("$(awk -v b="$small_bytes" -v t="$r" 'BEGIN { print b / 1e6 / (t > 0 ? t : 1e-6) }')")
	# replay speed over raw read speed of the same bytes: raw time / replay time
	ratio+=("$(awk -v r="$r" -v w="$w" 'BEGIN { print r / (w > 0 ? w : 1e-3) }')")
done
rss10=() evs_core10=()
for _ in $(seq "$LARGE_RUNS"); do
	read -r w c m < <(measure "$dir/large.hmt")
	rss10+=("$m")
	evs_core10+=("$(awk -v e="$large_events" -v t="$c" 'BEGIN { print e / (t > 0 ? t : 1e-3) }')")
done
flat=()
for i in $(seq 0 $((LARGE_RUNS - 1))); do
	flat+=("$(awk -v a="${rss10[$i]}" -v b="${rss1[$i]}" 'BEGIN { print a / b }')")
done

echo
echo "replay benchmark: bench mix, every analyzer, --json; $RUNS runs ($LARGE_RUNS on the large trace)"
echo "  (replay times include process start-up, measured to the microsecond; raw read is cat of the same file, page cache)"
printf "  %-38s %14s %14s %14s\n" "figure" "min" "median" "max"
row "replay events/s (wall clock)" "" $(spread "${evs[@]}")
row "replay events/s per core (user+sys)" "" $(spread "${evs_core[@]}")
row "  the same, $large_events events" "" $(spread "${evs_core10[@]}")
row "raw read of the trace (cat, page cache)" "MB/s" $(spread "${raw_mbs[@]}")
row "replay speed / raw read speed" "ratio" $(spread "${ratio[@]}")
bpe_small=$(awk -v b="$small_bytes" -v e="$small_events" 'BEGIN { print b / e }')
bpe_large=$(awk -v b="$large_bytes" -v e="$large_events" 'BEGIN { print b / e }')
row "trace size, $small_events events (exact)" "bytes/event" "$bpe_small" "$bpe_small" "$bpe_small"
row "trace size, $large_events events (exact)" "bytes/event" "$bpe_large" "$bpe_large" "$bpe_large"
row "replay max RSS, $small_events events" "KiB" $(spread "${rss1[@]}")
row "replay max RSS, $large_events events" "KiB" $(spread "${rss10[@]}")
row "RSS ratio large / small (run by run)" "ratio" $(spread "${flat[@]}")
