#!/usr/bin/env bash
# run.sh FUZZ_DIR SECONDS TARGET...: each libFuzzer target for SECONDS on its
# corpus (seeded, plus tests/fuzz/regressions/TARGET: inputs that once
# crashed), then one "N passed, N failed" line. A target fails on a crash, a
# sanitizer report or a leak (its reproducer in FUZZ_DIR/crashes/).
# FUZZ_SEED fixes libFuzzer's random seed (make check: 1), so a run explores
# the same inputs in the same order; 0 picks one.
set -uo pipefail
dir=$1 seconds=$2
shift 2
regressions=$(dirname "$0")/regressions
passed=0 failed=0
mkdir -p "$dir/crashes"
for target in "$@"; do
	corpus=$dir/corpus/$target
	mkdir -p "$corpus"
	log=$dir/$target.log
	echo "fuzz_$target: $seconds s"
	extra=()
	[ -d "$regressions/$target" ] && extra+=("$regressions/$target")
	if "$dir/fuzz_$target" -max_total_time="$seconds" -print_final_stats=1 \
		-seed="${FUZZ_SEED:-0}" -artifact_prefix="$dir/crashes/$target-" -max_len=65536 \
		-timeout=10 "$corpus" "$dir/seeds/$target" "${extra[@]}" >"$log" 2>&1; then
		passed=$((passed + 1))
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
		echo "ok fuzz_$target: $runs runs, $cov, corpus $(find "$corpus" -type f | wc -l) inputs"
	else
		failed=$((failed + 1))
		echo "not ok fuzz_$target (log: $log)"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -n 20
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
