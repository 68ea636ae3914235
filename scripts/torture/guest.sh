#!/usr/bin/env bash
# The torture mode's side in the QEMU guest (run by scripts/torture/make-torture.sh
# through tests/guest/run-in-guest.sh): results go to the run's share,
# $HISIMIG_OUT, which the host merges into build/torture/<kernel>/.
#
#   guest.sh torture SEED MINUTES        torture, results in $HISIMIG_OUT/torture
#   guest.sh shrink DEADLINE DIR...      shrink copies of finding dirs in $HISIMIG_OUT/shrink
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ "${HISIMIG_GUEST:-}" = 1 ] || { echo "torture: error: guest.sh runs in the hisimig guest only" >&2; exit 2; }
OUT=${HISIMIG_OUT:?}

# The kernel's hung-task report well before an op is declared hung (60 s).
[ ! -w /proc/sys/kernel/hung_task_timeout_secs ] || echo 30 >/proc/sys/kernel/hung_task_timeout_secs
# Traces live on the guest's tmpfs: the torture driver bounds their size.
export TMPDIR=/tmp

case ${1:-} in
torture)
	mkdir -p "$OUT/torture"
	exec nice -n 5 "$HERE/torture.sh" run --out "$OUT/torture" --seed "${2:?}" --minutes "${3:?}" \
		--workers "${TORTURE_WORKERS:-3}" --segment-seconds "${TORTURE_SEGMENT_SECONDS:-240}"
	;;
shrink)
	deadline=${2:?}
	shift 2
	copies=()
	for d in "$@"; do
		mkdir -p "$OUT/shrink"
		cp -r "$d" "$OUT/shrink/" && copies+=("$OUT/shrink/$(basename "$d")")
	done
	[ ${#copies[@]} -gt 0 ] || exit 0
	exec "$HERE/torture.sh" shrink --deadline "$deadline" "${copies[@]}"
	;;
*)
	echo "usage: guest.sh torture SEED MINUTES | shrink DEADLINE DIR..." >&2
	exit 2
	;;
esac
