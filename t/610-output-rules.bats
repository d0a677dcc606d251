#!/usr/bin/env bats
# Output rules: expect, fail-on, capture and error-format, PCRE2 regexes
# matched against each line of a task's output (stdout and stderr).
load helpers/common

setup() { common_setup; }

@test "fail-on fails a task that exits 0, quotes the line, and -k goes on" {
	recipe '[all]
deps = lint other
[lint]
run = echo "checking"; echo "WARNING: deprecated call in x.c"; echo done
fail-on = ^WARNING:
[other]
run = touch other-ran'
	run -1 --separate-stderr "$WEFT" -k lint other
	assert_output --partial "WARNING: deprecated call in x.c"
	[[ "$stderr" == *"weft: task 'lint' failed: its output matched fail-on: WARNING: deprecated call in x.c"* ]]
	[ -e other-ran ]
	# Without a match the task succeeds.
	recipe '[lint]
run = echo "all clean"
fail-on = ^WARNING:'
	run -0 "$WEFT"
}

@test "fail-on sees stderr lines, and a line cut across writes" {
	recipe '[t]
run = printf "fat" >&2; sleep 0; printf "al err" >&2; printf "or\n" >&2
fail-on = fatal error'
	run -1 --separate-stderr "$WEFT"
	[[ "$stderr" == *"failed: its output matched fail-on: fatal error"* ]]
}

@test "expect fails a task unless some line matches, the last unterminated line included" {
	recipe '[good]
run = echo "building"; printf "BUILD SUCCESSFUL"
expect = ^BUILD SUCCESSFUL$
[bad]
run = echo "building"; echo "BUILD SUCCESSFUL in 3s"
expect = ^BUILD SUCCESSFUL$'
	run -0 "$WEFT" good
	run -1 --separate-stderr "$WEFT" bad
	[[ "$stderr" == *"weft: task 'bad' failed: no line of its output matched expect: ^BUILD SUCCESSFUL\$"* ]]
}

@test "a task that exits non-zero fails for its exit, whatever the rules say" {
	recipe '[t]
run = echo ok; exit 4
expect = ok'
	run -1 --separate-stderr "$WEFT"
	[[ "$stderr" == *"weft: task 't' failed (exit 4)"* ]]
}

@test "capture: the named groups of the last matching line, in the summary and in --events" {
	recipe '[test]
run = echo "3 passed, 1 skipped"; echo "noise"; echo "12 passed, 0 skipped"'"
capture = (?<passed>\\d+) passed, (?<skipped>\\d+) skipped"
	run -0 --separate-stderr "$WEFT" --events=ev.jsonl
	[[ "$stderr" == *"weft: test: passed=12 skipped=0"* ]]
	run -0 jq -c 'select(.event == "finished") | .captures' ev.jsonl
	assert_output '{"passed":"12","skipped":"0"}'
}

@test "error-format: each matching line an annotation with file, line, col and message" {
	recipe '[cc]
run = printf "%s\n" "a.c:3:5: error: expected ;" "note: something" "lib/b c.h:10: error: no col" >&2; exit 1'"
error-format = ^(?<file>[^:]+):(?<line>\\d+)(?::(?<col>\\d+))?: error: (?<message>.*)$"
	run -1 "$WEFT" --events=ev.jsonl
	run -0 jq -c 'select(.event == "finished") | .annotations[]' ev.jsonl
	assert_line --index 0 '{"file":"a.c","line":3,"col":5,"message":"expected ;"}'
	assert_line --index 1 '{"file":"lib/b c.h","line":10,"col":0,"message":"no col"}'
	[ "${#lines[@]}" -eq 2 ]
}

@test "rules match output that is not UTF-8" {
	recipe '[t]
run = printf "\377\376 FAIL \300\n"
fail-on = FAIL'
	run -1 --separate-stderr "$WEFT"
	[[ "$stderr" == *"failed: its output matched fail-on"* ]]
}

@test "rules apply to each item of a foreach" {
	recipe '[t]
foreach = a b c
run = if [ {} = b ]; then echo "ERROR in {}"; else echo fine; fi
fail-on = ^ERROR'
	run -1 --separate-stderr "$WEFT" -k
	[[ "$stderr" == *"weft: task 't[b]' failed: its output matched fail-on: ERROR in b"* ]]
	[[ "$stderr" != *"'t[a]' failed"* ]]
	[[ "$stderr" == *"2 done, 1 failed"* ]]
}

@test "a task an output rule failed is not recorded as up to date" {
	echo v1 > src.txt
	recipe '[t]
sources = src.txt
run = echo "count $(cat count 2>/dev/null)"; echo x >> count
fail-on = ^count $'
	run -1 "$WEFT"
	[ "$(wc -l < count)" -eq 1 ]
	# It succeeds now (count has a line): recorded, and then up to date.
	run -0 "$WEFT"
	[ "$(wc -l < count)" -eq 2 ]
	run -0 "$WEFT"
	[ "$(wc -l < count)" -eq 2 ]
}

@test "every bad rule is a recipe error with file:line and PCRE2's message, and nothing runs" {
	recipe '[a]
run = touch ran
expect = (unclosed
capture = no named group here
[b]
run = touch ran
error-format = (?<file>[^:]+): only a file
fail-on = [z-a]
[c]
expect = x'
	run -2 "$WEFT" a b c
	assert_line "weft.ini:3: invalid regex for 'expect': missing closing parenthesis at offset 9"
	assert_line "weft.ini:4: 'capture' needs a named group, as in (?<passed>\\d+) passed"
	assert_line "weft.ini:7: 'error-format' needs the named groups 'file' and 'message' ('line' and 'col' may follow)"
	assert_line "weft.ini:8: invalid regex for 'fail-on': range out of order in character class at offset 3"
	assert_line "weft.ini:10: output rules in task 'c', which runs nothing (it has no 'run' or 'step')"
	[ ! -e ran ]
}

@test "the job log records a task an output rule failed with Exitval 1" {
	recipe '[t]
run = echo boom
fail-on = boom'
	run -1 "$WEFT" --joblog=jl
	run -0 awk -F'\t' 'NR == 2 { print $7 }' jl
	assert_output 1
}
