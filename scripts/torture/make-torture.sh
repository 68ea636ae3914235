#!/usr/bin/env bash
# `make torture`: torture the guest kernel for a bounded time, one guest at a
# time, then shrink what it found; results in build/torture/<kernel>/.
#
#   make-torture.sh --minutes M --seed S [--shrink-minutes M] [--shrink-only] [kernel selection...]
#
# The budget M covers everything: torture boots until M minus the shrink
# reserve (a third of M, at most --shrink-minutes), then one boot shrinks the
# findings that have no reproducer yet. A boot that ends in a kernel panic
# (any oops: the guest runs with oops=panic) or a hang is recorded and the
# next boot continues with the next seed. --shrink-only spends the whole
# budget on shrinking the findings of earlier runs.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
GUEST=$REPO/tests/guest
# shellcheck source=scripts/torture/lib.bash
. "$HERE/lib.bash"

die() { echo "torture: error: $2" >&2; exit "$1"; }
note() { echo "torture: $*" >&2; }

minutes='' seed='' shrink_max=10 sel=() shrink_only=0
while [ $# -gt 0 ]; do
	case $1 in
	--shrink-only) shrink_only=1; shift ;;
	--minutes) minutes=${2:?}; shift 2 ;;
	--seed) seed=${2:?}; shift 2 ;;
	--shrink-minutes) shrink_max=${2:?}; shift 2 ;;
	--kernel | --flavour | --arch) sel+=("$1" "${2:?}"); shift 2 ;;
	*) die 2 "unknown argument $1" ;;
	esac
done
[[ $minutes =~ ^[0-9]+$ ]] && [ "$minutes" -ge 2 ] || die 2 "TORTURE_MINUTES must be a whole number >= 2"
[[ $seed =~ ^[0-9]+$ ]] || die 2 "TORTURE_SEED must be a number"
[[ $shrink_max =~ ^[0-9]+$ ]] || die 2 "TORTURE_SHRINK_MINUTES must be a number"

kver=$(QUIET=1 "$GUEST/kernel.sh" "${sel[@]}" kver) || die 2 "cannot resolve the guest kernel"
DEST=$REPO/build/torture/$kver
mkdir -p "$DEST"
budget_end=$(($(date +%s) + minutes * 60))
reserve=$((minutes * 60 / 3))
[ "$reserve" -le $((shrink_max * 60)) ] || reserve=$((shrink_max * 60))
torture_end=$((budget_end - reserve))
# only shrink what an earlier run found, for the whole budget
[ "$shrink_only" = 0 ] || torture_end=0

last_run() { dirname "$(readlink -f "$REPO/build/guest/last-console.log")"; }

# merge SRC: a boot's results into DEST; a fingerprint already there keeps
# its first directory and gains the new sightings.
merge() {
	local src=$1 d name
	[ -d "$src" ] || return 0
	cat "$src/ops.log" >>"$DEST/ops.log" 2>/dev/null
	cat "$src/hangs.log" >>"$DEST/hangs.log" 2>/dev/null
	cat "$src/segment-findings.log" >>"$DEST/segment-findings.log" 2>/dev/null
	for d in "$src"/findings/*/ "$src"/kernel/*/ "$src"/hangs; do
		[ -d "$d" ] || continue
		name=${d%/}
		name=${name#"$src"/}
		if [ -d "$DEST/$name" ] && [ -f "$d/seen" ]; then
			cat "$d/seen" >>"$DEST/$name/seen"
		else
			mkdir -p "$DEST/$(dirname "$name")"
			cp -r "$d" "$DEST/$(dirname "$name")/"
		fi
	done
	cat "$src"/tracer-failure-*.txt >>"$DEST/tracer-failures.txt" 2>/dev/null
	true
}

# crash RC RUN SEED: a boot that gave no result (panic, oops, lockup, timeout).
crash() {
	local rc=$1 run=$2 bseed=$3 sig id dir last
	# the fatal line: a BUG() names its file and line, an oops only its trap
	sig=$({ grep -a -m1 -E 'kernel BUG at|BUG:|general protection|watchdog: ' "$run/console.log" ||
		grep -a -m1 -E 'Oops|Kernel panic' "$run/console.log"; } | tr -d '\r' |
		sed -E 's/^\[ *[0-9.]+\] //; s/CPU: ?[0-9]+/CPU/g; s/PID: ?[0-9]+/PID/g; s/\+0x[0-9a-f]+\/0x[0-9a-f]+//g; s/[0-9a-f]{8,}/ADDR/g; s/\[[^]]*:[0-9]+\]/[X]/g')
	[ -n "$sig" ] || sig="no result (status $rc) without a kernel message"
	id=$(t_sig_id "$sig")
	dir=$DEST/crash/$id
	if [ -d "$dir" ]; then
		echo "$bseed" >>"$dir/seen"
	else
		mkdir -p "$dir"
		echo "$bseed" >"$dir/seen"
		echo "$sig" >"$dir/signature"
		# from the first warning of the fatal episode (what led to it) to the panic
		tr -d '\r' <"$run/console.log" | sed -n '/cut here\|BUG:\|Oops\|general protection\|watchdog: /,$p' | head -n 400 >"$dir/console.txt"
		# the ops of the segment that was running, per worker the last ones first
		last=$(tail -n 1 "$run/torture/ops.log" 2>/dev/null | grep -o 'seg=[0-9]*' | cut -d= -f2)
		if [ -n "$last" ]; then
			grep " seg=$last " "$run/torture/ops.log" >"$dir/ops.log"
			t_log_ops "$run/torture/ops.log" "$last" >"$dir/ops.seq"
		fi
		printf 'kernel=%s\nseed=%s\nsegment=%s\nstatus=%s\n' "$kver" "$bseed" "${last:-?}" "$rc" >"$dir/seed.txt"
	fi
	note "boot with seed $bseed ended without a result (status $rc): $sig"
}

boot=0
while [ $((torture_end - $(date +%s))) -ge 90 ]; do
	left=$(((torture_end - $(date +%s)) / 60))
	[ "$left" -ge 1 ] || left=1
	bseed=$((seed + boot))
	note "boot $boot: seed $bseed, $left min of torture on $kver"
	rc=0
	nice -n 10 "$GUEST/run-in-guest.sh" "${sel[@]}" --timeout $((left * 60 + 420)) -- \
		"$HERE/guest.sh" torture "$bseed" "$left" || rc=$?
	run=$(last_run)
	merge "$run/torture"
	case $rc in
	0) ;;
	3) note "boot $boot: a hang wedged the guest (see $DEST/hangs.log); next boot" ;;
	124 | 125) crash "$rc" "$run" "$bseed" ;;
	*) note "boot $boot: guest exited with status $rc (log $run/console.log)" ;;
	esac
	boot=$((boot + 1))
done

# Shrink what has no reproducer yet (crashes and hangs are not shrunk: each
# try would cost a boot).
todo=()
for d in "$DEST"/findings/*/ "$DEST"/kernel/*/; do
	[ -d "$d" ] && [ ! -f "$d/repro.sh" ] && [ -s "$d/ops.seq" ] || continue
	[[ $(cat "$d/class" 2>/dev/null) == tool-limitation* ]] && continue
	todo+=("${d%/}")
done
left=$((budget_end - $(date +%s)))
# a shrink try attaches `--locks full` afresh (1-6 min under TCG): below
# 5 minutes a shrink boot cannot finish one
if [ ${#todo[@]} -gt 0 ] && [ "$left" -ge 300 ]; then
	note "shrinking ${#todo[@]} findings in $((left / 60)) min"
	deadline=$((budget_end - 60))
	rc=0
	nice -n 10 "$GUEST/run-in-guest.sh" "${sel[@]}" --timeout $((left + 300)) -- \
		"$HERE/guest.sh" shrink "$deadline" "${todo[@]}" || rc=$?
	run=$(last_run)
	# a shrink try can crash the kernel too (a candidate list is new ground)
	case $rc in 124 | 125) crash "$rc" "$run" "shrink" ;; esac
	for d in "${todo[@]}"; do
		s=$run/shrink/$(basename "$d")
		for f in guided.ops repro.ops repro.sh shrink-status; do
			[ ! -f "$s/$f" ] || cp "$s/$f" "$d/"
		done
		[ "$rc" = 0 ] || echo "not shrunk: the shrink boot ended without a result (status $rc, see crash/)" >"$d/shrink-status"
	done
elif [ ${#todo[@]} -gt 0 ]; then
	for d in "${todo[@]}"; do echo "not shrunk: no time left in the budget" >"$d/shrink-status"; done
fi

TORTURE_KVER=$kver "$HERE/torture.sh" summary "$DEST"
cat "$DEST/summary.txt"
