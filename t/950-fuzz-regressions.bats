#!/usr/bin/env bats
# What fuzzing found (t/fuzz/, `make fuzz`), through the real binary: each
# bug as the smallest recipe that shows it, and every saved fuzz input
# (t/fuzz/regressions/NAME/) fed to weft. A leak shows only under
# `make asan`, where LeakSanitizer turns it into a failed exit.
load helpers/common

setup() { common_setup; }

REGRESSIONS="$BATS_TEST_DIRNAME/fuzz/regressions"

@test "a second [weft] section: its default and shell replace the first ones, and nothing leaks" {
	# fuzz_recipe: weft_key() overwrote default_task and shell without
	# freeing them (t/fuzz/regressions/recipe/leak-weft-default-twice).
	printf '%s\n' '[weft]' 'default = a' 'shell = /bin/sh' '[a]' 'run = echo a' \
		'[b]' 'run = echo b' '[weft]' 'default = b' 'shell = /bin/sh' > weft.ini
	run -0 --separate-stderr "$WEFT" -n
	# -n prints what would run as a script: b, under the shell of the second section.
	assert_output "set -e
/bin/sh -c 'echo b' b"
	assert_equal "$stderr" ""
}

@test "every saved recipe input loads or is refused (exit 0 or 2), never a crash or a leak" {
	local f n=0
	for f in "$REGRESSIONS"/recipe/*; do
		[ -e "$f" ] || continue
		n=$((n + 1))
		run "$WEFT" -f "$f" -l
		[ "$status" -eq 0 ] || [ "$status" -eq 2 ] || fail "$f: exit $status: $output"
	done
	[ "$n" -gt 0 ]
}
