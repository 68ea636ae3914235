#!/usr/bin/env bash
# make demo: show what hisimig-trace reports, first on the recorded seed bug,
# then live in the guest when the guest tier is available.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=./hisimig-trace
trace=tests/data/seed-bug.hmt

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "The seed bug (hisi_acc_vfio_pci review, 2021), replayed from $trace"
echo "A VF driver's probe takes device_lock(PF) while the driver core holds device_lock(VF);"
echo "later 'echo 0 > sriov_numvfs' takes device_lock(PF) then device_lock(VF)."
set +e
"$bin" replay "$trace"
status=$?
set -e
echo "(exit status $status: 1 means findings at or above --fail-on)"

step "A clean SR-IOV enable/disable sequence, for contrast"
"$bin" gen sriov-clean -o build/demo-sriov-clean.hmt
"$bin" replay build/demo-sriov-clean.hmt

if [ -x tests/guest/demo-live.sh ]; then
	step "Live, in the QEMU guest (Debian's 6.1 kernel, emulated NVMe with SR-IOV VFs)"
	tests/guest/demo-live.sh
fi
