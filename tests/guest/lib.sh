# shellcheck shell=bash
# Shared helpers of the guest test tier: logging, kernel selection, fetching
# Debian's kernel from apt into build/guest/kernels/<kver>/, and the initramfs.
# Sourced by run-in-guest.sh and kernel.sh; expects `set -euo pipefail`.

GUEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$GUEST_DIR/../.." && pwd)
BUILD_DIR=${HISIMIG_GUEST_BUILD:-$REPO_DIR/build/guest}
KERNELS_DIR=$BUILD_DIR/kernels

# Exit statuses of the harness itself (see docs/guest.md).
# 124: guest produced no result, the run hit --timeout
# 125: guest produced no result: panic, crash, QEMU or setup failure
# shellcheck disable=SC2034 # used by the scripts that source this file
readonly EX_USAGE=2 EX_TIMEOUT=124 EX_NORESULT=125

QUIET=${QUIET:-0}
log() { [ "$QUIET" = 1 ] || printf 'guest: %s\n' "$*" >&2; }
die() { local rc=$1; shift; printf 'guest: error: %s\n' "$*" >&2; exit "$rc"; }

# Kernel selection, set by parse_kernel_opt; validated by check_kernel_sel.
KERNEL_VERSION=${GUEST_KERNEL:-6.1}
KERNEL_ARCH=${GUEST_ARCH:-amd64}
# Empty: the architecture's generic flavour (set by check_kernel_sel).
KERNEL_FLAVOUR=${GUEST_FLAVOUR:-}

# parse_kernel_opt OPT VALUE: consumes one kernel-selection option; returns 1
# when OPT is not one of them so callers can handle their own options.
parse_kernel_opt() {
	case "$1" in
	--kernel)  KERNEL_VERSION=${2:?--kernel needs a value} ;;
	--flavour|--flavor) KERNEL_FLAVOUR=${2:?--flavour needs a value} ;;
	--arch)    KERNEL_ARCH=${2:?--arch needs a value} ;;
	*) return 1 ;;
	esac
}

check_kernel_sel() {
	case "$KERNEL_ARCH" in amd64|arm64) ;; *)
		die $EX_USAGE "--arch $KERNEL_ARCH: expected amd64 or arm64" ;;
	esac
	case "$KERNEL_VERSION" in 6.1|6.12) ;; *)
		die $EX_USAGE "--kernel $KERNEL_VERSION: expected 6.1 or 6.12" ;;
	esac
	# Debian names its flavours after the architecture (amd64, rt-arm64...).
	: "${KERNEL_FLAVOUR:=$KERNEL_ARCH}"
	case "$KERNEL_FLAVOUR" in "$KERNEL_ARCH"|"rt-$KERNEL_ARCH") ;; *)
		die $EX_USAGE "--flavour $KERNEL_FLAVOUR: expected $KERNEL_ARCH or rt-$KERNEL_ARCH" ;;
	esac
	arch_setup
}

# arch_setup: what differs between the guest architectures (QEMU machine,
# console, vIOMMU, kernel parameters, guest root). Called by check_kernel_sel.
# shellcheck disable=SC2034,SC2054 # used by run-in-guest.sh; commas separate QEMU sub-options
arch_setup() {
	case "$KERNEL_ARCH" in
	amd64)
		QEMU_BIN=qemu-system-x86_64
		# 6.12 generic: no CMPXCHG16B. Its SLUB fast path (try_cmpxchg128
		# on a per-CPU slot) came back from QEMU 7.2's TCG twice with RFLAGS
		# holding pointer bits, TF and DF set: "WARNING ... exc_debug_kernel"
		# right after that instruction, then an oops (docs/matrix.md). Without
		# CX16 SLUB takes its locked path; RT kernels never use the fast path.
		[ "$KERNEL_VERSION-$KERNEL_FLAVOUR" != 6.12-amd64 ] || : "${GUEST_QEMU_CPU:=qemu64,-cx16}"
		QEMU_MACHINE=(-machine q35 ${GUEST_QEMU_CPU:+-cpu "$GUEST_QEMU_CPU"})
		# The vIOMMU must precede the devices it translates for.
		QEMU_IOMMU=(-device intel-iommu)
		KERNEL_CONSOLE=ttyS0 KERNEL_ARGS=intel_iommu=on
		# The host's own root: it is amd64 too.
		GUEST_ROOT=/ DEPS_TIER=guest
		;;
	arm64)
		QEMU_BIN=qemu-system-aarch64
		# SMMUv3 for VFIO (built into Debian's arm64 kernel). pauth-impdef:
		# QEMU's architected pointer-auth algorithm is slow under TCG.
		# UEFI, for ACPI: booted from a device tree, 6.1 asks the PCI core for
		# ACS only after the root port was enumerated, which then keeps it
		# off and puts the PF and its VFs in one IOMMU group (VFIO refuses a
		# VF while the PF is bound to nvme); the IORT path asks in time.
		# GICv3: its ITS isolates MSIs, which VFIO type1 requires (with
		# GICv2: "No interrupt remapping support", EPERM).
		QEMU_MACHINE=(-machine virt,iommu=smmuv3,gic-version=3 -cpu max,pauth-impdef=on
			-bios /usr/share/qemu-efi-aarch64/QEMU_EFI.fd)
		QEMU_IOMMU=()
		KERNEL_CONSOLE=ttyAMA0 KERNEL_ARGS=acpi=force
		# The host's userland cannot run there: an unpacked arm64 one.
		GUEST_ROOT=$BUILD_DIR/arm64-root DEPS_TIER=arm64
		;;
	esac
}

# What the arm64 guest root holds: the shell tools the guest tests use and
# the run-time libraries of the arm64 hisimig-trace (dependencies follow).
GUEST_ROOT_PKGS=(base-files bash binutils busybox-static bats coreutils dash
	diffutils findutils grep jq kmod mawk procps sed util-linux bpftool nvme-cli
	libbpf1 libelf1 zlib1g libmicrohttpd12)

# build_guest_root: unpacks $GUEST_ROOT_PKGS for $KERNEL_ARCH with mmdebstrap
# (extract only: maintainer scripts would need to run arm64 code), once.
build_guest_root() {
	[ "$GUEST_ROOT" != / ] || return 0
	local stamp=$GUEST_ROOT/.hisimig-packages want="${GUEST_ROOT_PKGS[*]}"
	[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && return 0
	command -v mmdebstrap >/dev/null ||
		die $EX_NORESULT "mmdebstrap not found; run scripts/install-deps.sh $DEPS_TIER"
	log "unpacking an $KERNEL_ARCH userland into ${GUEST_ROOT#"$REPO_DIR"/} (mmdebstrap)"
	local tmp sources=/etc/apt/sources.list.d/debian.sources
	[ -r "$sources" ] || sources=/etc/apt/sources.list
	mkdir -p "$BUILD_DIR"
	tmp=$(mktemp -d "$BUILD_DIR/.root.XXXXXX")
	# The host's apt sources: the same Debian release and security updates.
	mmdebstrap --quiet --variant=extract --arch="$KERNEL_ARCH" --include="${want// /,}" \
		bookworm "$tmp/root" "$sources" >"$tmp/log" 2>&1 ||
		{ cat "$tmp/log" >&2; rm -rf "$tmp"; die $EX_NORESULT "mmdebstrap of the $KERNEL_ARCH guest root failed"; }
	# Links that postinst scripts and update-alternatives would have made.
	ln -sfn dash "$tmp/root/bin/sh"
	ln -sfn mawk "$tmp/root/usr/bin/awk"
	rm -rf "$GUEST_ROOT"
	mv "$tmp/root" "$GUEST_ROOT"
	rm -rf "$tmp"
	echo "$want" >"$stamp"
}

# The image package for a kernel release: for 6.1 the package the metapackage
# depends on; 6.12 comes as 6.12.N+deb12 packages, of which we take the
# "-unsigned" image (the signed one only adds an EFI signature).
image_pkg() {
	case "$KERNEL_VERSION" in
	6.1)  echo "linux-image-$1" ;;
	6.12) echo "linux-image-$1-unsigned" ;;
	esac
}

# Prints the kernel release (e.g. 6.1.0-56-amd64) apt currently offers for the
# selected version and flavour, or nothing.
apt_kver() {
	local pkg
	case "$KERNEL_VERSION" in
	6.1)
		# Follow the metapackage so a new Debian ABI is picked up without edits.
		pkg=$(apt-cache depends "linux-image-$KERNEL_FLAVOUR" 2>/dev/null |
			awk '$1 == "Depends:" && $2 ~ /^linux-image-6\.1\.[0-9]/ { print $2; exit }')
		;;
	6.12)
		# No metapackage in bookworm: take the highest N of 6.12.N+deb12.
		pkg=$(apt-cache pkgnames linux-image-6.12. 2>/dev/null |
			grep -E "^linux-image-6\.12\.[0-9]+\+deb12-$KERNEL_FLAVOUR-unsigned\$" |
			sort -V | tail -n 1 || true)
		pkg=${pkg%-unsigned}
		;;
	esac
	# A foreign architecture's package comes as name:arch.
	pkg=${pkg%%:*}
	[ -n "$pkg" ] && echo "${pkg#linux-image-}"
	return 0
}

# Newest kernel already unpacked for the selection (offline fallback).
cached_kver() {
	local re d
	case "$KERNEL_VERSION" in
	6.1)  re="^6\.1\.0-[0-9]+-$KERNEL_FLAVOUR\$" ;;
	6.12) re="^6\.12\.[0-9]+\+deb12-$KERNEL_FLAVOUR\$" ;;
	esac
	[ -d "$KERNELS_DIR" ] || return 0
	for d in "$KERNELS_DIR"/*/.ready; do
		d=${d%/.ready}; d=${d##*/}
		printf '%s\n' "$d"
	done | grep -E "$re" | sort -V | tail -n 1 || true
}

# resolve_kver: sets KVER. Asks apt (refreshing its lists once if they are
# missing, as on a fresh machine), else falls back to the cache.
resolve_kver() {
	check_kernel_sel
	KVER=$(apt_kver)
	if [ -z "$KVER" ] && [ "$(id -u)" -eq 0 ]; then
		log "apt knows no $KERNEL_VERSION/$KERNEL_FLAVOUR kernel; running apt-get update"
		apt-get update -qq >/dev/null 2>&1 || true
		KVER=$(apt_kver)
	fi
	[ -n "$KVER" ] || KVER=$(cached_kver)
	[ -n "$KVER" ] ||
		die $EX_NORESULT "cannot resolve a Debian $KERNEL_VERSION $KERNEL_FLAVOUR kernel from apt (and none cached in $KERNELS_DIR)"
	KDIR=$KERNELS_DIR/$KVER
}

# fetch_kernel: makes $KDIR hold boot/vmlinuz-$KVER and lib/modules/$KVER with
# modules.dep. Unpacks into a temporary directory first so an interrupted
# fetch never leaves a half-populated cache behind.
fetch_kernel() {
	[ -e "$KDIR/.ready" ] && return 0
	local pkg tmp deb
	pkg=$(image_pkg "$KVER")
	mkdir -p "$KERNELS_DIR"
	tmp=$(mktemp -d "$KERNELS_DIR/.tmp.XXXXXX")
	log "fetching $pkg from apt"
	# apt's sandbox user (_apt) may not write into the build tree: download as root.
	(cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "$pkg") ||
		{ rm -rf "$tmp"; die $EX_NORESULT "apt-get download $pkg failed"; }
	deb=$(ls "$tmp"/*.deb)
	log "unpacking $(basename "$deb") ($(du -h "$deb" | cut -f1))"
	dpkg-deb -x "$deb" "$tmp/root"
	rm -f "$deb"
	if [ ! -f "$tmp/root/boot/vmlinuz-$KVER" ] || [ ! -d "$tmp/root/lib/modules/$KVER" ]; then
		rm -rf "$tmp"; die $EX_NORESULT "$pkg has no boot/vmlinuz-$KVER or lib/modules/$KVER"
	fi
	# The .deb ships no modules.dep (postinst normally runs depmod).
	depmod -b "$tmp/root" "$KVER"
	mkdir -p "$KDIR"
	mv "$tmp/root/boot" "$tmp/root/lib" "$KDIR/"
	rm -rf "$tmp"
	touch "$KDIR/.ready"
	log "kernel $KVER cached in ${KDIR#"$REPO_DIR"/}"
}

# build_vmlinux: $KDIR/vmlinux (ELF with .BTF) for `bpftool btf dump file`.
build_vmlinux() {
	VMLINUX=$KDIR/vmlinux
	[ -s "$VMLINUX" ] && [ "$VMLINUX" -nt "$GUEST_DIR/extract-vmlinux.sh" ] && return 0
	log "extracting vmlinux from vmlinuz-$KVER"
	"$GUEST_DIR/extract-vmlinux.sh" "$KDIR/boot/vmlinuz-$KVER" "$VMLINUX.tmp" ||
		{ rm -f "$VMLINUX.tmp"; die $EX_NORESULT "extract-vmlinux failed for $KVER"; }
	mv "$VMLINUX.tmp" "$VMLINUX"
}

# Modules the initramfs needs before it can see the host's root.
INITRAMFS_MODULES="virtio_pci 9pnet_virtio 9p overlay"

# build_initramfs: $KDIR/initramfs.cpio (uncompressed: nothing to inflate at
# boot) with static busybox, the modules in dependency order and /init.
build_initramfs() {
	INITRAMFS=$KDIR/initramfs.cpio
	local init=$GUEST_DIR/initramfs-init.sh busybox=${GUEST_ROOT%/}/bin/busybox
	if [ -s "$INITRAMFS" ] && [ "$INITRAMFS" -nt "$init" ] && [ "$INITRAMFS" -nt "$GUEST_DIR/lib.sh" ]; then
		return 0
	fi
	if [ ! -x "$busybox" ] || ! file_is_static "$busybox"; then
		die $EX_NORESULT "$busybox missing or not static (install busybox-static)"
	fi
	log "building initramfs for $KVER"
	local tmp m ko n=0
	tmp=$(mktemp -d "$KDIR/initramfs.XXXXXX")
	mkdir -p "$tmp"/{bin,dev,proc,sys,lower,newroot,out,rw,modules}
	cp "$busybox" "$tmp/bin/busybox"
	cp "$init" "$tmp/init"
	chmod 755 "$tmp/init"
	# --show-depends lists each module after its dependencies; keep the first
	# occurrence so virtio_ring precedes virtio and so on.
	for m in $INITRAMFS_MODULES; do
		modprobe -d "$KDIR" -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++' | while read -r ko; do
		n=$((n + 1))
		local out
		out=$tmp/modules/$(printf '%02d' "$n")-$(basename "${ko%.xz}")
		# 6.12 ships .ko.xz; busybox insmod wants them plain.
		case "$ko" in *.xz) xz -dc "$ko" >"$out" ;; *) cp "$ko" "$out" ;; esac
	done
	[ -n "$(ls "$tmp/modules")" ] || die $EX_NORESULT "no initramfs modules found for $KVER"
	(cd "$tmp" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$INITRAMFS.tmp"
	mv "$INITRAMFS.tmp" "$INITRAMFS"
	rm -rf "$tmp"
}

# file_is_static FILE: no program interpreter. The headers are read whole
# first: `readelf | grep -q` may SIGPIPE readelf, and pipefail would turn
# that into a wrong answer.
file_is_static() { [[ $(LC_ALL=C readelf -l "$1" 2>/dev/null) != *INTERP* ]]; }

# prepare_kernel: everything a boot needs, in order.
prepare_kernel() {
	resolve_kver
	fetch_kernel
	build_guest_root
	build_initramfs
}
