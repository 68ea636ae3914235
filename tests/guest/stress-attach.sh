#!/usr/bin/env bash
# Attach and detach the tracer N times while another task hammers mutex_lock
# (grep in a loop): the reproducer of the multi-threaded-TCG soft lockup in
# docs/guest.md ("Why single-threaded TCG"). In the guest:
#   make vm-run CMD='tests/guest/stress-attach.sh 150'
#   GUEST_TCG_THREAD=multi make vm-run CMD='tests/guest/stress-attach.sh 150'
# Every third cycle attaches by kprobe instead of fentry.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 125
n=${1:-100}
HM=${HISIMIG:-./hisimig-trace}
(while :; do grep -q zzz /proc/self/status tests/guest/bpf.bats; done) &
hammer=$!
trap 'kill $hammer 2>/dev/null' EXIT
for i in $(seq "$n"); do
	mode=fentry
	[ $((i % 3)) -eq 0 ] && mode=kprobe
	if ! "$HM" record --attach "$mode" -o /run/stress.hmt --duration 1 2>/run/stress.err >/dev/null; then
		cat /run/stress.err
		exit 1
	fi
	[ $((i % 10)) -eq 0 ] && echo "stress-attach: $i of $n cycles, uptime $(cut -d' ' -f1 /proc/uptime) s"
done
echo "stress-attach: $n cycles passed"
