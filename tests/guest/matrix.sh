#!/usr/bin/env bash
# Usage: matrix.sh [--timeout SECONDS] [--kernels "6.1 6.12"] [--flavours "amd64 rt-amd64"]
# Runs `make vm-check` once per kernel x flavour, one guest at a time (so each
# cell also builds what other fragments hang on vm-check for that kernel, e.g.
# test modules), and prints a result table. Exits 0 only if every cell passed.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here/../.."
timeout=900 kernels="6.1 6.12" flavours="amd64 rt-amd64"
while [ $# -gt 0 ]; do
	case "$1" in
	--timeout)  timeout=${2:?}; shift 2 ;;
	--kernels)  kernels=${2:?}; shift 2 ;;
	--flavours) flavours=${2:?}; shift 2 ;;
	*) echo "matrix: unknown option $1" >&2; exit 2 ;;
	esac
done

logdir=build/guest/matrix
mkdir -p "$logdir"
rows=() bad=0
for k in $kernels; do
	for f in $flavours; do
		cell=$k-$f log=$logdir/$cell.log
		echo "==== vm-matrix: $k $f ====" >&2
		start=$SECONDS rc=0
		# Tee so CI sees progress; the table needs the suite's closing line.
		${MAKE:-make} --no-print-directory vm-check GUEST_KERNEL="$k" GUEST_FLAVOUR="$f" \
			GUEST_TIMEOUT="$timeout" 2>&1 | tee "$log" || rc=${PIPESTATUS[0]}
		kver=$(sed -n 's/^guest: booting \([^ ]*\) .*/\1/p' "$log" | head -n 1)
		summary=$(grep -o '[0-9]* passed, [0-9]* failed, [0-9]* skipped' "$log" | tail -n 1 || true)
		# make exits 2 for any failure: the harness' own line tells them apart.
		if [ "$rc" -eq 0 ]; then result=PASS
		elif grep -q 'guest produced no result' "$log"; then result="NO RESULT"
		elif [ -z "$summary" ]; then result="FAIL (no suite)"
		else result=FAIL
		fi
		[ "$rc" -eq 0 ] || bad=1
		rows+=("$(printf '%-5s %-9s %-26s %-16s %-34s %4ss' "$k" "$f" "${kver:--}" "$result" "${summary:--}" $((SECONDS - start)))")
	done
done
echo
printf '%-5s %-9s %-26s %-16s %-34s %5s\n' kernel flavour release result tests time
printf '%s\n' "${rows[@]}"
echo "(logs: $logdir/)"
exit "$bad"
