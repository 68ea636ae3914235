#!/usr/bin/env bash
# Runs each cmocka unit-test program and ends with one closing line that sums
# the tests of all of them; a program that crashes counts as a failure.
set -u
# A sanitizer report must not look like a failed assertion (cmocka) or a
# finding (exit 1): it exits 99 and counts as a crash.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:exitcode=99:print_stacktrace=1}
passed=0 failed=0 crashed=0
for bin in "$@"; do
	out=$("$bin" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | sed -nE 's/^\[  PASSED  \] ([0-9]+) test.*/\1/p' | tail -1)
	f=$(printf '%s\n' "$out" | sed -nE 's/^\[  FAILED  \] ([0-9]+) test.*/\1/p' | tail -1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if [ "$rc" -ne 0 ] && [ -z "$f" ]; then
		crashed=$((crashed + 1))
		echo "CRASHED: $bin (exit $rc)"
	fi
done
failed=$((failed + crashed))
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
