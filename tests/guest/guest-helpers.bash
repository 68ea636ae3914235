# shellcheck shell=bash disable=SC2034 # variables are used by the .bats files
# Helpers for the guest bats files (they run inside the QEMU guest only).

PF=${HISIMIG_PF:-0000:01:00.0}
PFDIR=/sys/bus/pci/devices/$PF
REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
# Where make put what runs in the guest: build/, or build/<arch>/ for a
# foreign-architecture guest (run-in-guest.sh sets HISIMIG_BUILD then).
HM_BUILD=${HISIMIG_BUILD:-$REPO/build}
VFIO_OPEN=$HM_BUILD/guest/vfio-open
# (tests/kmod/guest-lib.bash takes it from here when set)
MIGCTL=${MIGCTL:-$HM_BUILD/migctl/migctl}
HM=${HISIMIG:-$REPO/hisimig-trace}
TRACING=/sys/kernel/tracing

# What --attach auto must pick for a function with BTF: fentry where the
# kernel can attach it, kprobe where it only loads. Attaching needs ftrace
# direct calls (every amd64 kernel here; arm64 only from 6.4, so not
# Debian's arm64 6.1), read from the guest kernel's config as an oracle
# independent of the tool.
AUTO_MODE=fentry
KCONFIG=$REPO/build/guest/kernels/${HISIMIG_KVER:-}/boot/config-${HISIMIG_KVER:-}
if [ -r "$KCONFIG" ] && ! grep -qx 'CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS=y' "$KCONFIG"; then
	AUTO_MODE=kprobe
fi
# Lock releases: kprobe on PREEMPT_RT, where fentry runs can be skipped.
RELEASE_MODE=$AUTO_MODE
if [ -r "$KCONFIG" ] && grep -qx 'CONFIG_PREEMPT_RT=y' "$KCONFIG"; then
	RELEASE_MODE=kprobe
fi

# Test scratch space. run-suite.sh mounts a size-limited tmpfs of its own
# (HISIMIG_SCRATCH) and each test's BATS_TEST_TMPDIR moves onto it: a test
# whose outputs outgrow it fails alone (ENOSPC in its own files, and
# scratch_check says so), while bats' bookkeeping in /tmp keeps the suite
# going. What earlier tests left there is removed first.
HM_SCRATCH=${HISIMIG_SCRATCH:-}
if [ -n "$HM_SCRATCH" ] && [ -n "${BATS_TEST_NAME:-}" ] && mountpoint -q "$HM_SCRATCH"; then
	find "$HM_SCRATCH" -mindepth 1 -maxdepth 1 ! -name "$BATS_SUITE_TEST_NUMBER" -exec rm -rf {} +
	BATS_TEST_TMPDIR=$HM_SCRATCH/$BATS_SUITE_TEST_NUMBER
	mkdir -p "$BATS_TEST_TMPDIR"
	export BATS_TEST_TMPDIR
fi

# scratch_check (in teardown): one clear line and failure if this test filled
# the scratch space; its files go, so the next test has room.
scratch_check() {
	local avail size
	[ -n "$HM_SCRATCH" ] && mountpoint -q "$HM_SCRATCH" || return 0
	avail=$(df -k --output=avail "$HM_SCRATCH" | tail -n 1)
	[ "$avail" -lt 1024 ] || return 0
	size=$(df -h --output=size "$HM_SCRATCH" | tail -n 1 | tr -d ' ')
	echo "this test filled the guest's $size test scratch space ($HM_SCRATCH):" \
		"its outputs are unbounded; removed them" >&2
	rm -rf "${BATS_TEST_TMPDIR:?}"/*
	return 1
}

# Fails (not skips) outside the guest: these tests change PCI and load modules.
require_guest() {
	if [ "${HISIMIG_GUEST:-}" != 1 ]; then
		echo "not inside the hisimig guest: run via 'make vm-check' or tests/guest/run-in-guest.sh" >&2
		return 1
	fi
}

# The PF needs a driver with sriov_configure (nvme); there is no udev to load it.
pf_ready() {
	modprobe nvme
	[ "$(basename "$(readlink "$PFDIR/driver")")" = nvme ]
}

# VFs start without driver: nvme would probe the still-offline VFs and fail.
sriov_enable() {
	echo 0 >"$PFDIR/sriov_drivers_autoprobe"
	echo "${1:-2}" >"$PFDIR/sriov_numvfs"
}

sriov_disable() { echo 0 >"$PFDIR/sriov_numvfs"; }

# vf_addr N: PCI address of VF N (from the PF's virtfnN link).
vf_addr() { basename "$(readlink "$PFDIR/virtfn$1")"; }

# bind_vfio BDF: hand a device to vfio-pci the way libvirt does.
bind_vfio() {
	modprobe vfio-pci
	echo vfio-pci >"/sys/bus/pci/devices/$1/driver_override"
	echo "$1" >/sys/bus/pci/drivers_probe
	[ "$(basename "$(readlink "/sys/bus/pci/devices/$1/driver")")" = vfio-pci ]
}

unbind() {
	[ -e "/sys/bus/pci/devices/$1/driver" ] || return 0
	echo "$1" >"/sys/bus/pci/devices/$1/driver/unbind"
}

# Leave the PF as the next test expects it, whatever a test left behind.
reset_pf() {
	[ -e "$PFDIR/sriov_numvfs" ] || return 0
	local n
	n=$(cat "$PFDIR/sriov_numvfs")
	[ "$n" = 0 ] || sriov_disable
}

# btf_dump FILE: cached raw dump of a BTF blob (bpftool takes ~1 s per dump).
btf_dump() {
	local out
	out=$BATS_FILE_TMPDIR/btf-$(basename "$1").txt
	[ -s "$out" ] || bpftool btf dump file "$1" >"$out"
	echo "$out"
}

# btf_member STRUCT MEMBER: "BYTE_OFFSET TYPE_ID" of MEMBER in the one struct
# named STRUCT of vmlinux BTF; fails if absent or not byte aligned.
btf_member() {
	local dump
	dump=$(btf_dump /sys/kernel/btf/vmlinux)
	awk -v s="$1" -v m="$2" '
		/^\[[0-9]+\] / { in_s = ($2 == "STRUCT" && $3 == "\x27" s "\x27"); next }
		in_s && $1 == "\x27" m "\x27" {
			split($2, t, "="); split($3, b, "=")
			if (b[2] % 8) exit 1
			print b[2] / 8, t[2]; found++
		}
		END { exit found == 1 ? 0 : 1 }' "$dump"
}

# btf_type ID: the "[ID] KIND 'name' ..." line of a vmlinux BTF type.
btf_type() { grep -m1 "^\[$1\] " "$(btf_dump /sys/kernel/btf/vmlinux)"; }

# The first argument's register at a function's entry, for kprobe ARGS.
case "${HISIMIG_ARCH:-amd64}" in
arm64) ARG1=%x0 ;;
*)     ARG1=%di ;;
esac

# kprobe NAME 'SYMBOL ARGS' [FILTER]: enable tracefs kprobe hisimig/NAME.
kprobe() {
	echo "p:hisimig/$1 $2" >>"$TRACING/kprobe_events"
	[ -z "${3:-}" ] || echo "$3" >"$TRACING/events/hisimig/$1/filter"
	echo 1 >"$TRACING/events/hisimig/$1/enable"
}

kprobes_clear() {
	[ -d "$TRACING/events/hisimig" ] && echo 0 >"$TRACING/events/hisimig/enable"
	echo >"$TRACING/kprobe_events"
	echo >"$TRACING/trace"
}

# kprobe_values NAME FIELD: the FIELD=VALUE values recorded for hisimig/NAME.
kprobe_values() {
	grep " $1: " "$TRACING/trace" | grep -o " $2=0x[0-9a-f]*" | cut -d= -f2 || true
}

# hex_add ADDR OFFSET: kernel address arithmetic (bash wraps at 2^64).
hex_add() { printf '0x%x\n' $(($1 + $2)); }

# ---- migctl output ----

# field LINE_PREFIX KEY: KEY's value on the last output line starting with
# LINE_PREFIX (e.g. field "set dev=$VF0 from=STOP to=STOP_COPY" rc).
field() {
	grep "^$1" <<<"$output" | tail -n 1 | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2 }'
}

# wait_for_line FILE PATTERN [SECONDS]: up to SECONDS (10) for a line that a
# background process writes (a migctl step, a finding).
wait_for_line() {
	for _ in $(seq $((${3:-10} * 10))); do grep -q "$2" "$1" && return 0; sleep 0.1; done
	cat "$1"
	return 1
}

# ---- hisimig-trace in the background (sets $tracer; tests kill it in teardown) ----

# trace_start SUBCOMMAND ARGS...: start hisimig-trace in the background and
# wait until every hook is attached (it says "tracing:" on stderr).
trace_start() {
	"$HM" "$@" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	tracer=$!
	for _ in $(seq 600); do
		grep -q "tracing:" "$BATS_TEST_TMPDIR/err" && return 0
		kill -0 "$tracer" 2>/dev/null || break
		sleep 0.1
	done
	cat "$BATS_TEST_TMPDIR/err"
	return 1
}

# trace_stop: SIGINT, then the tracer's exit status in $trace_status.
trace_stop() {
	kill -INT "$tracer" 2>/dev/null || true # gone already after --duration
	trace_status=0
	wait "$tracer" || trace_status=$?
	tracer=
	cat "$BATS_TEST_TMPDIR/err"
}

# count_findings FILE: the findings in NDJSON output FILE, but for the info
# that a preemptible (PREEMPT_RT) kernel skipped some hook runs
count_findings() {
	jq -r 'select(.type == "finding" and
		(.data.kind != "lost-events" or .data.severity != "info")) | .data.kind' "$1" | wc -l
}

# kinds + fingerprints of the findings in NDJSON output, sorted
findings_of() { jq -r 'select(.type == "finding") | .data.kind + " " + .data.fingerprint' "$1" | sort; }
