#!/usr/bin/env bash
# The live half of `make demo` (scripts/demo.sh): boots the QEMU guest (Debian
# 6.1, NVMe PF with SR-IOV VFs) and, inside it, runs hisimig-trace on
#   1. a clean VFIO migration: migctl, 3 ping-pong cycles between the VFs of
#      the hmtest_vf migration driver (tests/kmod): no finding;
#   2. the seed bug: hmtest_vf's reset_done takes device_lock(PF) while the
#      PCI core holds the VF's device lock (fault_pf_lock=1), then SR-IOV is
#      disabled, which takes them PF first: the order violation and the cycle.
# Each run's text report is shown, and the metrics endpoint (run --metrics)
# is scraped once. On the host it builds what the guest needs first.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SELF=tests/guest/demo-live.sh
METRICS=127.0.0.1:9464

say() { printf '\033[1m--> %s\033[0m\n' "$*"; }

host() {
	cd "$REPO"
	say "building the test drivers, migctl and the guest kernel (cached after the first run)"
	make --no-print-directory -s guest-deps kmod migctl >/dev/null
	say "booting the guest (TCG: ~20 s) and running the scenarios"
	tests/guest/run-in-guest.sh --timeout "${DEMO_TIMEOUT:-420}" -- "$SELF"
}

# ---- in the guest ----

tracer=
trace_start() {
	"$REPO/hisimig-trace" run "$@" >"$OUT/report.txt" 2>"$OUT/trace.err" &
	tracer=$!
	for _ in $(seq 600); do
		grep -q "tracing:" "$OUT/trace.err" && return 0
		sleep 0.1
	done
	cat "$OUT/trace.err" >&2
	return 1
}

# trace_stop: the tool's report, as a kernel engineer reads it
trace_stop() {
	kill -INT "$tracer"
	wait "$tracer" || true
	tracer=
	sed 's/^/    /' "$OUT/report.txt"
}

# The metrics that tell the story of a migration and of the seed bug.
scrape() {
	curl -fsS "http://$METRICS/metrics" |
		grep -E '^hisimig_(findings_total|lock_order_violations_total|lock_cycles_total|migration_transitions_total|migration_downtime_seconds_(sum|count)|sriov_changes_total|events_total|lost_events_total)' |
		grep -v '^hisimig_\(events\|findings\)_total.* 0$' | sed 's/^/    /'
}

clean_migration() {
	say "1/2 clean migration: migctl migrate --cycles 3 --pingpong $VF0 $VF1 (hmtest_vf, vfio-pci variant)"
	hm_setup 2
	trace_start --metrics "$METRICS"
	"$MIGCTL" migrate --cycles 3 --pingpong "$VF0" "$VF1" | grep -E '^(cycle|result)=' | sed 's/^/    migctl: /'
	say "metrics (one scrape of http://$METRICS/metrics)"
	scrape
	say "hisimig-trace report"
	trace_stop
	hm_teardown
}

seed_bug() {
	say "2/2 the seed bug: reset_done takes device_lock(PF) under the VF lock, then SR-IOV disable"
	hm_setup 1
	hm_param fault_pf_lock 1
	trace_start
	echo "    # echo 1 > /sys/bus/pci/devices/$VF0/reset      (VF lock held by the PCI core)"
	echo 1 >"/sys/bus/pci/devices/$VF0/reset"
	echo "    # echo 0 > /sys/bus/pci/devices/$PF/sriov_numvfs (PF lock, then each VF's)"
	echo 0 >"$PFDIR/sriov_numvfs"
	say "hisimig-trace report"
	trace_stop
	hm_teardown
}

guest() {
	OUT=${HISIMIG_OUT:-/tmp}/demo
	mkdir -p "$OUT"
	# the guest has no network, not even loopback, until asked: the metrics need it
	ip link set lo up
	# shellcheck source=tests/kmod/guest-lib.bash
	. "$REPO/tests/kmod/guest-lib.bash"
	trap '[ -z "$tracer" ] || kill -INT "$tracer" 2>/dev/null; wait' EXIT
	clean_migration
	seed_bug
}

if [ "${HISIMIG_GUEST:-}" = 1 ]; then
	guest
else
	host
fi
