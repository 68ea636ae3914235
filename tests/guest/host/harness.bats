#!/usr/bin/env bats
# Host-side tests of tests/guest/run-in-guest.sh (make vm-selftest): exit
# statuses reach the caller, and "no result" is never mistaken for a failure.
# Each boots the default guest (~10 s under TCG).

RUN=$BATS_TEST_DIRNAME/../run-in-guest.sh

# The console log a run reported; no QEMU may still be using its run dir.
assert_no_qemu_left() {
	local log dir
	log=$(grep -o 'console log[: at]* [^ ;]*console.log' <<<"$output" | tail -n 1 | awk '{print $NF}')
	[ -f "$log" ]
	dir=$(dirname "$log")
	! pgrep -f "path=$dir,security_model" >/dev/null
}

@test "a failing command's exit status is propagated" {
	run "$RUN" -- false
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"guest command exited with status 1"* ]]
	[[ $output != *"no result"* ]]
}

@test "any exit status and the guest environment come back" {
	run "$RUN" -- bash -c 'test "$HISIMIG_GUEST" = 1 && test "$PWD" = "$1" &&
		test -e "/sys/bus/pci/devices/$HISIMIG_PF/sriov_totalvfs" &&
		test "$(uname -r)" = "$HISIMIG_KVER" && exit 42' _ "$PWD"
	echo "$output"
	[ "$status" -eq 42 ]
}

@test "a successful command exits 0" {
	run "$RUN" -- true
	[ "$status" -eq 0 ]
}

@test "a timeout is reported as no result (124), and QEMU is gone" {
	run "$RUN" --timeout 15 -- sleep 1000
	echo "$output"
	[ "$status" -eq 124 ]
	[[ $output == *"guest produced no result: timeout after 15 s; console log at "* ]]
	assert_no_qemu_left
}

@test "a kernel panic is reported as no result (125)" {
	run "$RUN" -- sh -c 'echo c >/proc/sysrq-trigger; sleep 100'
	echo "$output"
	[ "$status" -eq 125 ]
	[[ $output == *"guest produced no result: kernel panic"* ]]
	assert_no_qemu_left
}

@test "bad usage exits 2 without booting" {
	run "$RUN" --arch riscv64 -- true
	[ "$status" -eq 2 ]
	[[ $output == *"--arch riscv64: expected amd64 or arm64"* ]]
	run "$RUN" --arch arm64 --flavour amd64 -- true
	[ "$status" -eq 2 ]
	[[ $output == *"--flavour amd64: expected arm64 or rt-arm64"* ]]
	run "$RUN" --kernel 5.10 -- true
	[ "$status" -eq 2 ]
	run "$RUN"
	[ "$status" -eq 2 ]
}

@test "an arm64 guest runs the command on aarch64 with the PF and its status" {
	# Needs the arm64 tier (scripts/install-deps.sh arm64, docs/arm64.md).
	command -v qemu-system-aarch64 >/dev/null && command -v mmdebstrap >/dev/null ||
		skip "no arm64 tools (scripts/install-deps.sh arm64)"
	run "$RUN" --arch arm64 -- bash -c 'test "$(uname -m)" = aarch64 &&
		test "$HISIMIG_ARCH" = arm64 && test "$PWD" = "$1" &&
		test -e "/sys/bus/pci/devices/$HISIMIG_PF/sriov_totalvfs" && exit 42' _ "$PWD"
	echo "$output"
	[ "$status" -eq 42 ]
}
