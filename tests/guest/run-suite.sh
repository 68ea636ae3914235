#!/usr/bin/env bash
# Runs every guest .bats file (or those named) in ONE bats invocation (inside the guest; used
# by `make vm-check` and `make vm-matrix`), TAP output, then a closing
# "N passed, N failed, N skipped" line. Exit status is bats' own.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")" || exit 125

# A shell loop, not awk: mawk reads its input in blocks, which held the TAP
# lines back until the end of the suite and left CI without progress.
count_tap() {
	local line p=0 f=0 s=0
	while IFS= read -r line; do
		printf '%s\n' "$line"
		case "$line" in
		"ok "*" # skip"*) s=$((s + 1)) ;;
		"ok "*) p=$((p + 1)) ;;
		"not ok "*) f=$((f + 1)) ;;
		esac
	done
	printf 'guest-tests: %d passed, %d failed, %d skipped\n' "$p" "$f" "$s"
}

# Each test's files on a size-limited tmpfs of their own (guest-helpers.bash):
# a test that fills it fails alone instead of starving bats in /tmp, whose
# full disk once cut the suite short without its closing line.
HISIMIG_SCRATCH=/run/hisimig-scratch
mkdir -p "$HISIMIG_SCRATCH"
if mountpoint -q "$HISIMIG_SCRATCH" ||
	mount -t tmpfs -o "size=${HISIMIG_SCRATCH_MB:-512}m,mode=1777" hisimig-scratch "$HISIMIG_SCRATCH"; then
	export HISIMIG_SCRATCH
fi

# bats options and .bats files (default: every file here)
opts=() files=()
for arg; do
	case "$arg" in
	*.bats) files+=("$arg") ;;
	*) opts+=("$arg") ;;
	esac
done
[ ${#files[@]} -gt 0 ] || files=(./*.bats)

bats --formatter tap "${opts[@]}" "${files[@]}" | count_tap
exit "${PIPESTATUS[0]}"
