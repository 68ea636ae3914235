#!/usr/bin/env bash
# Fault 3, in the guest: a real ABBA deadlock between the VF's reset_done
# (VF device lock held by the PCI core, then device_lock(PF) after
# fault_pf_lock_delay_ms) and `echo 0 > sriov_numvfs` (PF device lock held,
# then the VF's while removing it). Prints a confirmation line once both
# tasks are blocked, then waits forever: the guest never finishes, and the
# harness ends it with its no-result timeout status (124). Used by
# tests/guest/host/deadlock.bats (`make kmod-deadlock-check`).
#   --exit   power off after confirming
#   --trace  run `hisimig-trace run --json` throughout: its findings go to
#            $HISIMIG_OUT/abba-findings.ndjson (the host's run directory) as
#            they form, so the deadlock report survives the hung guest
set -u
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=tests/kmod/guest-lib.bash
. "$REPO/tests/kmod/guest-lib.bash"

exit_after=no trace=no
for arg; do
	case $arg in
	--exit) exit_after=yes ;;
	--trace) trace=yes ;;
	*) echo "hmtest-abba: unknown option $arg"; exit 2 ;;
	esac
done

hm_setup 1 || { echo "hmtest-abba: setup failed"; exit 1; }
if [ $trace = yes ]; then
	out=${HISIMIG_OUT:-/tmp}
	"$REPO/hisimig-trace" run --json >"$out/abba-findings.ndjson" 2>"$out/abba-trace.err" &
	for _ in $(seq 600); do
		grep -q "tracing:" "$out/abba-trace.err" && break
		sleep 0.1
	done
	grep "tracing:" "$out/abba-trace.err" | sed 's/^/hmtest-abba: /' ||
		{ echo "hmtest-abba: hisimig-trace did not start"; cat "$out/abba-trace.err"; exit 1; }
fi
hm_param fault_pf_lock 1
hm_param fault_pf_lock_delay_ms 3000

# A: VF lock, 3 s nap, PF lock.
sh -c "echo 1 >/sys/bus/pci/devices/$VF0/reset" &
a=$!
sleep 1
# B: PF lock, then waits for the VF lock A holds.
sh -c "echo 0 >$PFDIR/sriov_numvfs" &
b=$!
sleep 6

task_state() { awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null; }
sa=$(task_state $a) sb=$(task_state $b)
if [ "$sa" = D ] && [ "$sb" = D ]; then
	echo "hmtest-abba: DEADLOCK CONFIRMED: reset pid $a ($sa) <-> sriov_numvfs pid $b ($sb)"
	cat "/proc/$a/stack" "/proc/$b/stack" 2>/dev/null | sed 's/^/hmtest-abba:   /'
else
	echo "hmtest-abba: no deadlock: reset pid $a state '${sa:-gone}', sriov_numvfs pid $b state '${sb:-gone}'"
	exit 1
fi
[ $exit_after = yes ] && exit 0
wait
