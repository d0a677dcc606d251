# Shared set-up for weft's bats tests: the binary under test, a private
# working directory per test, and small helpers for writing recipes.
bats_require_minimum_version 1.5.0

# bats-support and bats-assert, their files sourced here one by one: their
# load.bash runs dirname once a file, 15 processes before every test.
weft_load_libs() {
	local dir f
	local IFS=:
	for dir in ${BATS_LIB_PATH:-} /usr/lib/bats; do
		if [ -d "$dir/bats-support/src" ] && [ -d "$dir/bats-assert/src" ]; then
			for f in "$dir"/bats-support/src/*.bash "$dir"/bats-assert/src/*.bash; do
				# shellcheck disable=SC1090
				source "$f" || return 1
			done
			return 0
		fi
	done
	bats_load_library bats-support
	bats_load_library bats-assert
}
weft_load_libs

WEFT="${WEFT:-$BATS_TEST_DIRNAME/../bin/weft}"

common_setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	# A marker in every job's environment, so a test can find any process
	# it started that is still alive (see assert_no_leftovers).
	export WEFT_TEST_MARK="weft-test-$$-$BATS_TEST_NUMBER-$RANDOM"
	unset NO_COLOR MAKEFLAGS CI GITHUB_ACTIONS GITHUB_STEP_SUMMARY FORCE_COLOR CLICOLOR_FORCE COLUMNS
	export TERM=dumb
}

# gnu_parallel ARG...: GNU parallel ARG..., answered from what it printed
# before when t/fixtures/parallel holds that (see t/helpers/gnu-parallel).
# Only for calls that do nothing but print; its standard input must end.
gnu_parallel() {
	"$BATS_TEST_DIRNAME/helpers/gnu-parallel" "$@"
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

# wait_gone [SECONDS]: waits (bounded, default 10 s) until no process of
# this test is left, then checks it with assert_no_leftovers.
wait_gone() {
	local i
	for ((i = 0; i < ${1:-10} * 50; i++)); do
		[ -z "$(leftovers 2> /dev/null)" ] && return 0
		sleep 0.02
	done
	assert_no_leftovers
}

# rounds N: how many rounds a randomized fault test makes: N in `make
# test`, ten times N in `make soak` (WEFT_SOAK=1), which is run on purpose.
rounds() {
	if [ -n "${WEFT_SOAK:-}" ]; then
		echo $(($1 * 10))
	else
		echo "$1"
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

# wait_job FILE PATTERN: writes ./job.sh, a job that waits (up to 10 s)
# until FILE holds a line matching PATTERN (grep's basic regex), then
# creates ./seen. A job that sees what weft printed while it runs proves
# it was printed then, without timing.
wait_job() {
	local q="'"
	local file="'${1//$q/$q\\$q$q}'" pat="'${2//$q/$q\\$q$q}'"
	printf '%s\n' 'i=0' \
		"until grep -q $pat $file || [ \$i -ge 500 ]; do i=\$((i + 1)); sleep 0.02; done" \
		"grep -q $pat $file && touch seen" > job.sh
}

# on_tty COMMAND: runs the shell COMMAND with a terminal as stdin, stdout
# and stderr (no CR added to newlines); what the terminal shows is in ./tty.
on_tty() {
	script -qec "stty -onlcr; $1" /dev/null < /dev/null > tty
}
