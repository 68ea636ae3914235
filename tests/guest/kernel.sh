#!/usr/bin/env bash
# Usage: kernel.sh [--kernel 6.1|6.12] [--flavour [rt-]ARCH] [--arch amd64|arm64] ACTION
#   kver     print the kernel release apt offers for the selection (no download)
#   fetch    download + unpack it into build/guest/kernels/<kver>/, print that dir
#   vmlinux  fetch, then extract <dir>/vmlinux (ELF with BTF), print its path
# Progress goes to stderr (silenced with QUIET=1); stdout carries only the answer.
set -euo pipefail
# shellcheck source=tests/guest/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

while [ $# -gt 1 ]; do
	parse_kernel_opt "$1" "${2-}" || die $EX_USAGE "unknown option $1"
	shift 2
done
[ $# -eq 1 ] || die $EX_USAGE "usage: kernel.sh [--kernel V] [--flavour F] [--arch A] kver|fetch|vmlinux"
resolve_kver
case "$1" in
kver)    echo "$KVER" ;;
fetch)   fetch_kernel; echo "$KDIR" ;;
vmlinux) fetch_kernel; build_vmlinux; echo "$VMLINUX" ;;
*) die $EX_USAGE "unknown action $1 (kver|fetch|vmlinux)" ;;
esac
