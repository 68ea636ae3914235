# Shared by the CLI bats tests: the binary under test and scenario traces.
HISIMIG=${HISIMIG:-$BATS_TEST_DIRNAME/../../hisimig-trace}
# The sanitizer build exits 99 on a report, never 1 (findings) or 2 (errors).
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:exitcode=99:print_stacktrace=1}

# gen_trace NAME -> path of a freshly generated trace of scenario NAME
gen_trace() {
	local out="$BATS_TEST_TMPDIR/$1.hmt"
	"$HISIMIG" gen "$1" -o "$out"
	echo "$out"
}

# kinds_of FILE -> sorted finding kinds from a JSON replay, one per line
kinds_of() {
	"$HISIMIG" replay --json "$1" | grep '"type":"finding"' |
		sed -E 's/.*"kind":"([^"]+)".*/\1/' | sort
}

# findings_of FILE -> the replay's findings in a stable sorted form, one per
# line: kind, severity, the devices' BDFs; for lock cycles and deadlocks the
# summary (classes, locks, tasks) and the longer cycles listed in a cycle
# finding. Timestamps, stacks and fingerprints are left out.
findings_of() {
	"$HISIMIG" replay --json --fail-on error "$1" | jq -r '
		select(.type == "finding") | .data |
		[.kind, .severity, "devices=" + ([.devices[].bdf] | sort | unique | join(",")),
		 (if .kind == "lock-order-cycle" or .kind == "deadlock" then "| " + .summary
		  else empty end),
		 (.detail | capture("Longer cycles[^\n]*\n(?<l>(  [^\n]+\n?)+)")? | .l |
		  [split("\n")[] | select(length > 0) | ltrimstr("  ")] | "| longer: " + join(" ; "))
		] | join(" ")' | LC_ALL=C sort
}
