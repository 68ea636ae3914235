#!/usr/bin/env bats
# Every generated scenario replays to exactly the findings in its golden file
# (tests/cli/golden/<scenario>.findings, the form of findings_of): kinds,
# severities, devices, and for lock findings their classes, locks and tasks.
# HISIMIG_UPDATE_GOLDEN=1 rewrites the files from the current binary.

load helpers

GOLDEN=$BATS_TEST_DIRNAME/golden

scenarios() {
	"$HISIMIG" gen --list | awk '{ print $1 }'
}

@test "every scenario's findings match its golden file exactly" {
	local name trace failed=0
	for name in $(scenarios); do
		trace=$(gen_trace "$name")
		findings_of "$trace" >"$BATS_TEST_TMPDIR/$name.findings"
		if [ -n "${HISIMIG_UPDATE_GOLDEN:-}" ]; then
			cp "$BATS_TEST_TMPDIR/$name.findings" "$GOLDEN/$name.findings"
		elif ! diff -u "$GOLDEN/$name.findings" "$BATS_TEST_TMPDIR/$name.findings"; then
			echo "scenario $name: findings differ from golden/$name.findings" >&2
			failed=1
		fi
	done
	[ "$failed" -eq 0 ]
}

@test "every golden file belongs to a scenario" {
	local file
	for file in "$GOLDEN"/*.findings; do
		scenarios | grep -qx "$(basename "$file" .findings)"
	done
}
