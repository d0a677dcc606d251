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
	[ "$stderr" = "weft: 1 task done in ${stderr##*done in }" ]
}
