#!/usr/bin/env bash
# Installs the Debian packages a given tier needs, only those missing.
# Usage: scripts/install-deps.sh [build|test|guest|bench|arm64|all]...  (default: all)
set -euo pipefail

build_pkgs=(gcc make clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config libmicrohttpd-dev)
test_pkgs=(libcmocka-dev bats prometheus curl jq
	# the CLI tests craft traces and check JSON and HTTP with python3
	python3
	# make fuzz: libFuzzer is in clang's runtime libraries
	libclang-rt-14-dev
	# tests/cli/ci.bats validates JUnit reports against tests/cli/junit.xsd
	libxml2-utils)

guest_pkgs=(qemu-system-x86 busybox-static cpio kmod nvme-cli xz-utils
	# make kmod: pahole gives the test modules BTF (fentry on hmtest_*).
	dwarves
	# make demo scrapes the metrics endpoint in the guest
	curl)
# make bench-guest compares the tracer with bpftrace and bcc's klockstat
bench_pkgs=(bpftrace bpfcc-tools)
# The arm64 guest (docs/arm64.md): cross compiler, the arm64 libraries to link
# against (multiarch, beside the amd64 ones), QEMU for aarch64 and its UEFI
# (ACPI: VFIO needs ACS on the root port), mmdebstrap for the guest's userland.
arm64_pkgs=(gcc-aarch64-linux-gnu qemu-system-arm qemu-efi-aarch64 mmdebstrap
	libbpf-dev:arm64 libelf-dev:arm64 zlib1g-dev:arm64 libmicrohttpd-dev:arm64)

wanted=()
[ $# -eq 0 ] && set -- all
for tier in "$@"; do
	case "$tier" in
	build) wanted+=("${build_pkgs[@]}") ;;
	test)  wanted+=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
	guest) wanted+=("${build_pkgs[@]}" "${guest_pkgs[@]}") ;;
	bench) wanted+=("${build_pkgs[@]}" "${guest_pkgs[@]}" "${bench_pkgs[@]}") ;;
	arm64) wanted+=("${build_pkgs[@]}" "${guest_pkgs[@]}" "${arm64_pkgs[@]}") ;;
	all)   wanted+=("${build_pkgs[@]}" "${test_pkgs[@]}" "${guest_pkgs[@]}") ;;
	*) echo "install-deps: unknown tier '$tier' (build|test|guest|bench|arm64|all)" >&2; exit 2 ;;
	esac
done

missing=()
native=$(dpkg --print-architecture)
for pkg in $(printf '%s\n' "${wanted[@]}" | sort -u); do
	# A bare name means the native (or arch: all) package; with arm64
	# libraries beside the amd64 ones dpkg-query lists both.
	case "$pkg" in *:*) arch=${pkg#*:} ;; *) arch=$native ;; esac
	dpkg-query -W -f='${Architecture} ${Status}\n' "$pkg" 2>/dev/null |
		grep -Eqx "($arch|all) install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages (${missing[*]}); run as root or install them" >&2
	exit 2
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# pkg:arch of a foreign architecture: apt needs to know that architecture.
for arch in $(printf '%s\n' "${missing[@]}" | sed -n 's/^[^:]*://p' | sort -u); do
	[ "$arch" = "$native" ] ||
		dpkg --print-foreign-architectures | grep -qx "$arch" || dpkg --add-architecture "$arch"
done
apt-get update -qq >/dev/null || true
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
