#!/usr/bin/env bash
# Runs every guest .bats file in ONE bats invocation (inside the guest; used
# by `make vm-check` and `make vm-matrix`), TAP output, then a closing
# "N passed, N failed, N skipped" line. Exit status is bats' own.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")" || exit 125
bats --formatter tap "$@" ./*.bats | awk '
	{ print; fflush() }
	/^ok / { if (/ # skip/) s++; else p++ }
	/^not ok / { f++ }
	END { printf "guest-tests: %d passed, %d failed, %d skipped\n", p, f, s }'
exit "${PIPESTATUS[0]}"
