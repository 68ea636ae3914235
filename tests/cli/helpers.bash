# Shared by the CLI bats tests: the binary under test and scenario traces.
HISIMIG=${HISIMIG:-$BATS_TEST_DIRNAME/../../hisimig-trace}

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
