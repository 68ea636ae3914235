#!/usr/bin/env bash
# Runs every guest .bats file in ONE bats invocation (inside the guest; used
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

bats --formatter tap "$@" ./*.bats | count_tap
exit "${PIPESTATUS[0]}"
