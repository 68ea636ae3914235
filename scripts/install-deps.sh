#!/usr/bin/env bash
# Installs the Debian packages a given tier needs, only those missing.
# Usage: scripts/install-deps.sh [build|test|guest|all]...  (default: all)
set -euo pipefail

build_pkgs=(gcc make clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config libmicrohttpd-dev)
test_pkgs=(libcmocka-dev bats prometheus curl jq)
guest_pkgs=(qemu-system-x86 busybox-static cpio kmod nvme-cli xz-utils
	# make kmod: pahole gives the test modules BTF (fentry on hmtest_*).
	dwarves
	# make demo scrapes the metrics endpoint in the guest
	curl)

wanted=()
[ $# -eq 0 ] && set -- all
for tier in "$@"; do
	case "$tier" in
	build) wanted+=("${build_pkgs[@]}") ;;
	test)  wanted+=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
	guest) wanted+=("${build_pkgs[@]}" "${guest_pkgs[@]}") ;;
	all)   wanted+=("${build_pkgs[@]}" "${test_pkgs[@]}" "${guest_pkgs[@]}") ;;
	*) echo "install-deps: unknown tier '$tier' (build|test|guest|all)" >&2; exit 2 ;;
	esac
done

missing=()
for pkg in $(printf '%s\n' "${wanted[@]}" | sort -u); do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages (${missing[*]}); run as root or install them" >&2
	exit 2
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || true
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
