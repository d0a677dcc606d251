#!/usr/bin/env bats
load helpers/common

setup() { common_setup; }

@test "--version prints the version" {
	run -0 "$WEFT" --version
	assert_output --regexp '^weft [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "a task runs and its output reaches stdout" {
	recipe '[hello]
run = echo hello world'
	run -0 --separate-stderr "$WEFT"
	assert_output "hello world"
	# Not on a terminal: a line for each finished task, then the summary.
	[[ "${stderr_lines[0]}" =~ ^weft:\ \[1/1\]\ hello:\ ok\ \([0-9.]+s\)$ ]]
	[ "${stderr_lines[1]}" = "weft: 1 task done in ${stderr##*done in }" ]
	[ "${#stderr_lines[@]}" -eq 2 ]
	# -q: the summary alone.
	run -0 --separate-stderr "$WEFT" -q
	[ "$stderr" = "weft: 1 task done in ${stderr##*done in }" ]
}
