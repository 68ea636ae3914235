#!/usr/bin/env bash
# Runs each cmocka unit-test binary and ends with one closing line for all.
set -u
passed=0 failed=0
for bin in "$@"; do
	if "$bin"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAILED: $bin" >&2
	fi
done
echo "$passed passed, $failed failed (unit test programs)"
[ "$failed" -eq 0 ]
