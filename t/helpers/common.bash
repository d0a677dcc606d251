# Shared set-up for weft's bats tests: the binary under test, a private
# working directory per test, and small helpers for writing recipes.
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

WEFT="${WEFT:-$BATS_TEST_DIRNAME/../bin/weft}"

common_setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	# A marker in every job's environment, so a test can find any process
	# it started that is still alive (see assert_no_leftovers).
	export WEFT_TEST_MARK="weft-test-$$-$BATS_TEST_NUMBER-$RANDOM"
	unset NO_COLOR MAKEFLAGS
	export TERM=dumb
}

# recipe TEXT: writes weft.ini in the test's directory.
recipe() {
	printf '%s\n' "$1" > weft.ini
}

# Processes whose environment carries this test's marker, one "pid cmdline"
# line each. One grep reads every environ (-z: NUL-separated entries, so -x
# matches one whole entry); processes that vanish or deny access are skipped.
# grep runs with the marker emptied, or it would find itself.
leftovers() {
	local f pid
	while IFS= read -r f; do
		pid=${f#/proc/}
		pid=${pid%/environ}
		[ "$pid" = "$$" ] && continue
		echo "$pid $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)"
	done < <(WEFT_TEST_MARK= grep -lsxzF "WEFT_TEST_MARK=$WEFT_TEST_MARK" /proc/[0-9]*/environ)
}

assert_no_leftovers() {
	local left
	left=$(leftovers)
	if [ -n "$left" ]; then
		echo "processes still alive:" >&2
		echo "$left" >&2
		return 1
	fi
}

# wait_for FILE [TRIES]: waits (polling, bounded) until FILE exists.
wait_for() {
	local i
	for ((i = 0; i < ${2:-500}; i++)); do
		[ -e "$1" ] && return 0
		sleep 0.02
	done
	echo "timed out waiting for $1" >&2
	return 1
}
