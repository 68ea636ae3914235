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
