#!/usr/bin/env bash
# Runs one command in a QEMU guest booted with Debian's own kernel, the host's
# root filesystem (read-only 9p + tmpfs overlay) and an NVMe PF with SR-IOV
# behind a vIOMMU, and propagates its exit status. See docs/guest.md.
set -euo pipefail
# shellcheck source=tests/guest/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	cat <<EOF
usage: run-in-guest.sh [--kernel 6.1|6.12] [--flavour [rt-]ARCH] [--arch amd64|arm64]
                       [--timeout SECONDS] [--mem MB] [--smp N] -- COMMAND [ARGS...]
       run-in-guest.sh [kernel options] [--mem MB] --shell
Exit status: COMMAND's own status, or $EX_TIMEOUT (no result: timeout),
$EX_NORESULT (no result: panic, crash, QEMU or setup failure), $EX_USAGE (bad usage).
EOF
}

TIMEOUT=${GUEST_TIMEOUT:-600}
MEM=${GUEST_MEM:-2048}
SMP=${GUEST_SMP:-2}
# One host thread runs all vCPUs. With one thread per vCPU (QEMU 7.2), a vCPU
# can keep running a stale translation of kernel text another vCPU patched:
# the int3 of a BPF trampoline update loops forever and both vCPUs soft-lock
# (docs/guest.md, "Why single-threaded TCG").
TCG_THREAD=${GUEST_TCG_THREAD:-single}
MODE=run
while [ $# -gt 0 ]; do
	if parse_kernel_opt "$1" "${2-}"; then shift 2; continue; fi
	case "$1" in
	--timeout) TIMEOUT=${2:?}; shift 2 ;;
	--mem)     MEM=${2:?}; shift 2 ;;
	--smp)     SMP=${2:?}; shift 2 ;;
	--shell)   MODE=shell; shift ;;
	-h|--help) usage; exit 0 ;;
	--)        shift; break ;;
	-*)        usage >&2; die $EX_USAGE "unknown option $1" ;;
	*)         break ;;
	esac
done
for n in "$TIMEOUT" "$MEM" "$SMP"; do
	[[ $n =~ ^[0-9]+$ ]] || die $EX_USAGE "not a number: $n"
done
if [ "$MODE" = run ] && [ $# -eq 0 ]; then usage >&2; die $EX_USAGE "no command given"; fi
if [ "$MODE" = shell ] && [ $# -gt 0 ]; then die $EX_USAGE "--shell takes no command"; fi
check_kernel_sel
command -v "$QEMU_BIN" >/dev/null ||
	die $EX_NORESULT "$QEMU_BIN not found; run scripts/install-deps.sh $DEPS_TIER"

prepare_kernel

# One directory per run, shared writable with the guest; keep the last 20.
mkdir -p "$BUILD_DIR/runs"
RUN=$(mktemp -d "$BUILD_DIR/runs/$(date +%Y%m%d-%H%M%S)-XXXX")
# shellcheck disable=SC2012 # names are ours: date-stamped, no odd characters
ls -1d "$BUILD_DIR"/runs/*/ | sort | head -n -20 | xargs -r rm -rf
LOG=$RUN/console.log
ln -sfn "${RUN#"$BUILD_DIR"/}/console.log" "$BUILD_DIR/last-console.log"

# Everything the guest needs to know, read by both init stages.
cat >"$RUN/run.env" <<EOF
HISIMIG_MODE=$MODE
HISIMIG_KVER=$KVER
HISIMIG_MODDIR=$KDIR/lib/modules/$KVER
HISIMIG_STAGE2=$GUEST_DIR/guest-stage2.sh
HISIMIG_REPO=$(cd "$GUEST_DIR/../.." && pwd)
HISIMIG_ROOT=$GUEST_ROOT
EOF
# The job: the guest-visible environment, the caller's cwd (same path in the
# guest) and the command with its arguments quoted exactly once.
{
	echo "export HISIMIG_GUEST=1 HISIMIG_KVER=$KVER HISIMIG_KERNEL=$KERNEL_VERSION"
	echo "export HISIMIG_FLAVOUR=$KERNEL_FLAVOUR HISIMIG_ARCH=$KERNEL_ARCH"
	echo "export HISIMIG_PF=0000:01:00.0 HISIMIG_OUT=/run/hisimig"
	echo "export HOME=/root TERM=${TERM:-dumb} LANG=C.UTF-8"
	# A foreign guest runs the cross build (make GUEST_ARCH=...: build/<arch>/).
	[ "$KERNEL_ARCH" = amd64 ] ||
		printf 'export HISIMIG_BUILD=%q HISIMIG=%q\n' "$REPO_DIR/build/$KERNEL_ARCH" \
			"$REPO_DIR/build/$KERNEL_ARCH/hisimig-trace"
	printf 'cd %q || exit 125\n' "$PWD"
	[ "$MODE" = run ] && printf 'exec%s\n' "$(printf ' %q' "$@")"
} >"$RUN/job.sh"

# shellcheck disable=SC2054 # commas separate QEMU sub-options, not elements
qemu=("$QEMU_BIN" "${QEMU_MACHINE[@]}" -accel "tcg,thread=$TCG_THREAD" -m "$MEM" -smp "$SMP"
	# -display none rather than -nographic: with -nographic QEMU points SeaBIOS
	# at the serial port, whose banner and escape codes would litter the log.
	-nodefaults -display none -no-reboot -nic none -monitor none
	-kernel "$KDIR/boot/vmlinuz-$KVER" -initrd "$INITRAMFS"
	# A soft lockup panics (and so ends the run) at once instead of eating
	# the whole timeout; loglevel=5 puts the watchdog's stacks on the console.
	-append "console=$KERNEL_CONSOLE quiet loglevel=5 panic=-1 oops=panic softlockup_panic=1 softlockup_all_cpu_backtrace=1${KERNEL_ARGS:+ $KERNEL_ARGS} mitigations=off${GUEST_APPEND:+ $GUEST_APPEND}"
	-chardev "stdio,id=con,signal=off,logfile=$LOG" -serial chardev:con
	"${QEMU_IOMMU[@]}"
	-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap
	-fsdev "local,id=out,path=$RUN,security_model=none"
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
	-device virtio-9p-pci,fsdev=out,mount_tag=hisimig_out
	# NVMe PF with SR-IOV on its own root port: PF 0000:01:00.0, VFs .1 and .2.
	-device pcie-root-port,id=rp0,bus=pcie.0,chassis=1,slot=1
	-device nvme-subsys,id=nvmesubsys0,nqn=hisimig-subsys
	-device nvme,serial=hisimig0,subsys=nvmesubsys0,bus=rp0,sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=2,max_ioqpairs=6,msix_qsize=4
)

if [ "$MODE" = shell ]; then
	log "booting $KVER with an interactive shell (log: ${LOG#"$REPO_DIR"/})"
	# --foreground: QEMU must own the terminal to read the keyboard.
	set +e
	timeout --foreground "$TIMEOUT" "${qemu[@]}"
	qrc=$?
	set -e
else
	log "booting $KVER (TCG, ${SMP} cpu, ${MEM} MB, timeout ${TIMEOUT} s): $*"
	start=$SECONDS
	# In the background so that a signal to this script reaches the trap,
	# which ends QEMU (timeout forwards the signal) before we exit.
	timeout -k 10 "$TIMEOUT" "${qemu[@]}" </dev/null &
	qpid=$!
	trap 'kill -TERM $qpid 2>/dev/null; wait $qpid 2>/dev/null; die $EX_NORESULT "guest produced no result: interrupted; console log at $LOG"' INT TERM HUP
	qrc=0
	wait $qpid || qrc=$?
	trap - INT TERM HUP
	log "guest finished after $((SECONDS - start)) s"
fi

no_result() {
	local rc=$1; shift
	echo "---- last lines of $LOG ----" >&2
	tail -n 25 "$LOG" >&2 || true
	echo "----" >&2
	die "$rc" "guest produced no result: $*; console log at $LOG"
}

if [ -s "$RUN/status" ]; then
	rc=$(cat "$RUN/status")
	[[ $rc =~ ^[0-9]+$ ]] || no_result $EX_NORESULT "unreadable status '$rc'"
	[ "$rc" -eq 0 ] || log "guest command exited with status $rc (console log: $LOG)"
	exit "$rc"
fi
[ "$qrc" -ne 124 ] || no_result $EX_TIMEOUT "timeout after $TIMEOUT s"
if grep -q 'Kernel panic' "$LOG"; then
	no_result $EX_NORESULT "kernel panic ($(grep -m1 -o 'Kernel panic.*' "$LOG" | tr -d '\r'))"
elif grep -q 'hisimig-init: FATAL' "$LOG"; then
	no_result $EX_NORESULT "$(grep -m1 -o 'hisimig-init: FATAL.*' "$LOG" | tr -d '\r')"
fi
no_result $EX_NORESULT "QEMU exited with status $qrc before the guest wrote a status"
