#!/usr/bin/env bats
# Recipe mistakes: every message of the contract, exact and with its line,
# all of them in one run, exit 2 and nothing run; and the corners of the
# format (long lines, BOM, CRLF, comments, continuation lines).
load helpers/common

setup() { common_setup; }

# ini LINE...: writes weft.ini, one argument a line (line N = argument N).
ini() { printf '%s\n' "$@" > weft.ini; }

# No ran-* marker exists: nothing ran.
assert_nothing_ran() {
	local left=(ran-*)
	if [ -e "${left[0]}" ]; then
		echo "tasks ran: ${left[*]}" >&2
		return 1
	fi
}

# rejects LINE...: weft refuses the recipe with exactly these lines on
# stderr, nothing on stdout, exit 2, and runs nothing.
rejects() {
	run -2 --separate-stderr "$WEFT" "${WEFT_ARGS[@]}"
	assert_equal "$stderr" "$(printf '%s\n' "$@")"
	assert_output ""
	assert_nothing_ran
}
WEFT_ARGS=()

# summary_only TEXT: TEXT is only the "all ok" summary line.
summary_only() {
	[[ $1 =~ ^weft:\ [0-9]+\ tasks?\ done\ in\ [0-9.]+s$ ]] || fail "not just the summary: $1"
}

# long_desc EOL: task a whose line 3 is a desc line of exactly 1048575
# bytes, not counting the line ending EOL.
long_desc() {
	{
		printf '[a]%s' "$1"
		printf 'run = touch ran-a%s' "$1"
		printf 'desc = '
		head -c $((1048575 - 7)) /dev/zero | tr '\0' y
		printf '%s' "$1"
	} > weft.ini
}

@test "a line that is not a section, a key or a comment" {
	ini '[a]' 'run = touch ran-a' 'just some words'
	rejects "weft.ini:3: expected '[section]', 'key = value' or a comment"
}

@test "unterminated section header" {
	ini '[a]' 'run = touch ran-a' '[b' 'run = touch ran-b'
	rejects "weft.ini:3: unterminated section header"
}

@test "key outside of any section" {
	ini '; a comment first' 'run = touch ran-x' '[a]' 'run = touch ran-a'
	rejects "weft.ini:2: key 'run' outside of any section"
}

@test "unknown task key, with a hint when close and without one otherwise" {
	ini '[lint]' 'run = touch ran-lint' 'rum = x' 'dep = b' '[b]' 'run = touch ran-b' 'colour = red'
	rejects "weft.ini:3: unknown key 'rum' in task 'lint' (did you mean 'run'?)" \
		"weft.ini:4: unknown key 'dep' in task 'lint' (did you mean 'deps'?)" \
		"weft.ini:7: unknown key 'colour' in task 'b'"
}

@test "unknown key 'rnu' (two letters swapped) gets the hint, as in weft.ini(5)" {
	ini '[lint]' 'run = touch ran-lint' 'rnu = x'
	rejects "weft.ini:3: unknown key 'rnu' in task 'lint' (did you mean 'run'?)"
}

@test "unknown [weft] key, with a hint when close and without one otherwise" {
	ini '[weft]' 'job = 4' 'frobnicate = yes' '[a]' 'run = touch ran-a'
	rejects "weft.ini:2: unknown key 'job' in [weft] (did you mean 'jobs'?)" \
		"weft.ini:3: unknown key 'frobnicate' in [weft]"
}

@test "duplicate task and duplicate key" {
	ini '[a]' 'run = touch ran-a' 'run = touch ran-a2' '[b]' 'run = touch ran-b' \
		'[a]' 'run = touch ran-a3'
	rejects "weft.ini:3: duplicate key 'run' in task 'a' (first at line 2)" \
		"weft.ini:6: duplicate task 'a' (first defined at line 1)"
}

@test "invalid task names; every allowed character is fine" {
	ini '[-x]' 'run = touch ran-x' '[a b]' 'run = touch ran-ab' \
		'[a/b]' 'run = touch ran-slash' '[ok]' 'run = touch ran-ok'
	rejects "weft.ini:1: invalid task name '-x'" \
		"weft.ini:3: invalid task name 'a b'" \
		"weft.ini:5: invalid task name 'a/b'"
	ini '[Az_09-.:x]' 'run = touch ran-ok'
	run -0 --separate-stderr "$WEFT" Az_09-.:x
	[ -e ran-ok ]
}

@test "reserved names in deps: weft, vars, env" {
	ini '[a]' 'deps = weft' 'run = touch ran-a' '[b]' 'deps = vars' '  env' 'run = touch ran-b'
	rejects "weft.ini:2: 'weft' is a reserved section, not a task" \
		"weft.ini:5: 'vars' is a reserved section, not a task" \
		"weft.ini:6: 'env' is a reserved section, not a task"
}

@test "unknown dependency, with a hint when close and without one otherwise" {
	ini '[build]' 'run = touch ran-build' '[test]' 'deps = biuld' 'run = touch ran-test' \
		'[doc]' 'deps = build frobnicate' 'run = touch ran-doc'
	rejects "weft.ini:4: task 'test' depends on unknown task 'biuld' (did you mean 'build'?)" \
		"weft.ini:7: task 'doc' depends on unknown task 'frobnicate'"
}

@test "bad timeout duration; good ones are accepted" {
	ini '[a]' 'timeout = 5x' 'run = touch ran-a'
	rejects "weft.ini:2: invalid duration '5x' for 'timeout' (use e.g. 90s, 5m, 1h)"
	ini '[a]' 'timeout = 500ms' '[b]' 'timeout = 90' '[c]' 'timeout = 1m30s' '[d]' 'timeout = 1h'
	run -0 --separate-stderr "$WEFT" -n
}

@test "dependency cycle a -> b -> c -> a" {
	ini '[a]' 'deps = b' 'run = touch ran-a' '[b]' 'deps = c' 'run = touch ran-b' \
		'[c]' 'deps = a' 'run = touch ran-c'
	rejects "weft.ini:2: dependency cycle: a -> b -> c -> a"
}

@test "a task that depends on itself" {
	ini '[b]' 'run = touch ran-b' '[a]' 'deps = b a' 'run = touch ran-a'
	rejects "weft.ini:4: dependency cycle: a -> a"
}

@test "a line over 1048575 bytes is an error; later line numbers stay right" {
	{
		printf '[a]\ndesc = '
		head -c $((1048576 - 7)) /dev/zero | tr '\0' x
		printf '\nrun = touch ran-a\n[b]\nrum = x\nrun = touch ran-b\n'
	} > weft.ini
	rejects "weft.ini:2: line is too long (1048576 bytes; at most 1048575)" \
		"weft.ini:5: unknown key 'rum' in task 'b' (did you mean 'run'?)"
}

@test "a line of exactly 1048575 bytes is fine" {
	long_desc $'\n'
	run -0 --separate-stderr "$WEFT" -l
	assert_equal "${#output}" $((1 + 2 + 1048575 - 7))
}

@test "with CRLF endings the CR does not count toward the 1048575-byte limit" {
	long_desc $'\r\n'
	run -0 --separate-stderr "$WEFT" -l
	assert_equal "${#output}" $((1 + 2 + 1048575 - 7))
}

@test "a 1,000,000-byte line arrives whole" {
	local desc
	desc=$(head -c $((1000000 - 7)) /dev/zero | tr '\0' z)
	ini '[a]' "desc = $desc" 'run = touch ran-a' '[bb]' 'desc = short'
	run -0 --separate-stderr "$WEFT" -l
	assert_equal "${#lines[@]}" 2
	assert_equal "${lines[0]}" "a   $desc"
	assert_equal "${lines[1]}" "bb  short"
	assert_nothing_ran
}

@test "names over 49 characters: section, task key, variable; 49 is fine" {
	local n49 n50
	n49=$(printf 'a%.0s' {1..49})
	n50=${n49}b
	ini "[$n50]" 'run = touch ran-50' '[a]' 'run = touch ran-a' "k$n49 = v" '[vars]' "V$n49 = v"
	rejects "weft.ini:1: name '$n50' is too long (at most 49 characters)" \
		"weft.ini:5: name 'k$n49' is too long (at most 49 characters)" \
		"weft.ini:7: name 'V$n49' is too long (at most 49 characters)"
	ini "[$n49]" 'run = touch ran-49' "$n49 = v"
	rejects "weft.ini:3: unknown key '$n49' in task '$n49'"
	ini "[$n49]" 'run = touch ran-49'
	run -0 --separate-stderr "$WEFT" "$n49"
	[ -e ran-49 ]
}

@test "NUL byte in a line" {
	printf '[a]\nrun = touch ran-a\0b\n[b]\nrun = touch ran-b\n' > weft.ini
	rejects "weft.ini:2: NUL byte in line"
}

@test "default task that does not exist" {
	ini '[weft]' 'default = nope' '[a]' 'run = touch ran-a'
	rejects "weft.ini:2: default task 'nope' does not exist"
}

@test "bad jobs values" {
	local v
	for v in 0 x -1 2x ''; do
		ini '[weft]' "jobs = $v" '[a]' 'run = touch ran-a'
		rejects "weft.ini:2: invalid value '$v' for 'jobs' (a number from 1)"
	done
}

@test "empty shell" {
	ini '[weft]' 'shell =' '[a]' 'run = touch ran-a'
	rejects "weft.ini:2: empty value for 'shell'"
}

@test "invalid variable names in env.NAME, [vars] and [env]" {
	ini '[vars]' 'my-var = x' '[env]' '1ABC = y' '[a]' 'env.A.B = z' 'run = touch ran-a'
	rejects "weft.ini:2: invalid variable name 'my-var'" \
		"weft.ini:4: invalid variable name '1ABC'" \
		"weft.ini:6: invalid variable name 'A.B'"
}

@test "keys that do not continue on an indented line" {
	ini '[weft]' 'jobs = 2' '  3' '[vars]' 'CC = cc' '  -O2' '[a]' 'dir = .' '  sub' \
		'timeout = 5s' '  10s' 'env.X = 1' '  2' 'run = touch ran-a'
	rejects "weft.ini:3: 'jobs' does not continue on an indented line" \
		"weft.ini:6: 'CC' does not continue on an indented line" \
		"weft.ini:9: 'dir' does not continue on an indented line" \
		"weft.ini:11: 'timeout' does not continue on an indented line" \
		"weft.ini:13: 'env.X' does not continue on an indented line"
}

@test "several mistakes are all reported, in line order, in one run" {
	recipe '[a]
deps = nope
run = touch ran-a
rum = x
[b
run = touch ran-b
[c]
timeout = 5x
run = touch ran-c
[weft]
default = zzz
jobs = 0
[c]
run = touch ran-c2'
	rejects "weft.ini:2: task 'a' depends on unknown task 'nope'" \
		"weft.ini:4: unknown key 'rum' in task 'a' (did you mean 'run'?)" \
		"weft.ini:5: unterminated section header" \
		"weft.ini:8: invalid duration '5x' for 'timeout' (use e.g. 90s, 5m, 1h)" \
		"weft.ini:11: default task 'zzz' does not exist" \
		"weft.ini:12: invalid value '0' for 'jobs' (a number from 1)" \
		"weft.ini:13: duplicate task 'c' (first defined at line 7)"
}

@test "messages name the recipe as given by -f" {
	mkdir sub
	printf '[a]\nrum = x\nrun = touch ../ran-a ran-a\n' > sub/r.ini
	WEFT_ARGS=(-f sub/r.ini)
	rejects "sub/r.ini:2: unknown key 'rum' in task 'a' (did you mean 'run'?)"
	[ ! -e sub/ran-a ]
}

@test "an indented 'deps = b' under run: a warning, and the line stays in the script" {
	ini '[b]' 'run = touch ran-b' '[a]' 'run = deps() { echo "deps called with $*"; }' '  deps = b'
	run -0 --separate-stderr "$WEFT" -q a
	assert_output "deps called with = b"
	[ ! -e ran-b ]
	assert_equal "${stderr%%$'\n'*}" "weft.ini:5: warning: indented 'deps = b' is part of the 'run' of task 'a'; unindent it to make it a key"
	summary_only "${stderr#*$'\n'}"
}

@test "a UTF-8 BOM at the start is not part of the first section" {
	printf '\xef\xbb\xbf[a]\nrun = echo from a\n' > weft.ini
	run -0 --separate-stderr "$WEFT" a
	assert_output "from a"
	printf '\xef\xbb\xbf; comment\n[a]\nrum = x\nrun = touch ran-a\n' > weft.ini
	rejects "weft.ini:3: unknown key 'rum' in task 'a' (did you mean 'run'?)"
}

@test "CRLF line endings behave exactly as LF" {
	mkdir sub
	local mode i
	local -a want got
	for mode in lf crlf; do
		ini '[all]' 'desc = everything' 'deps = a' '  b' '[a]' 'run = echo "a:$0:"' \
			'[b]' 'dir = sub' 'run = echo "b1:"' '  pwd'
		[ "$mode" = lf ] || sed -i 's/$/\r/' weft.ini
		got=()
		run -0 --separate-stderr "$WEFT" -j1
		got+=("$output")
		run -0 --separate-stderr "$WEFT" -l
		got+=("$output")
		run -0 --separate-stderr "$WEFT" -n
		got+=("$output")
		[ "$mode" = crlf ] || want=("${got[@]}")
	done
	for i in 0 1 2; do
		assert_equal "${got[i]}" "${want[i]}"
		[[ ${got[i]} != *$'\r'* ]] || fail "a carriage return got through: ${got[i]}"
	done
	assert_equal "${got[0]}" "a:a:"$'\n'"b1:"$'\n'"$(cd sub && pwd -P)"
	assert_equal "${got[1]}" $'all  everything\na\nb'
	printf '[a]\r\nrum = x\r\nrun = touch ran-a\r\n[b\r\nrun = touch ran-b\r\n' > weft.ini
	rejects "weft.ini:2: unknown key 'rum' in task 'a' (did you mean 'run'?)" \
		"weft.ini:4: unterminated section header"
}

@test "continuation lines: desc joins with a space, deps adds names" {
	ini '[all]' 'desc = build' '  and test' 'deps = a' '  b c' \
		'[a]' 'run = echo a' '[b]' 'run = echo b' '[c]' 'run = echo c'
	run -0 --separate-stderr "$WEFT" -l all
	assert_line --index 0 'all  build and test'
	run -0 --separate-stderr "$WEFT" --graph all
	assert_line '  "all" -> "a";'
	assert_line '  "all" -> "b";'
	assert_line '  "all" -> "c";'
}

@test "no final newline" {
	printf '[a]\nrun = echo one' > weft.ini
	run -0 --separate-stderr "$WEFT"
	assert_output one
	printf '[a]\nrun = echo one\n  echo two' > weft.ini
	run -0 --separate-stderr "$WEFT"
	assert_output $'one\ntwo'
}

@test "';' and '#' in a run value are part of the command, not comments" {
	local cmd="printf '%s\n' 'x;y' '#z' ; echo after  # the shell's comment"
	ini '; a comment' '# another' '[a]' "run = $cmd"
	run -0 --separate-stderr "$WEFT"
	assert_output $'x;y\n#z\nafter'
	run -0 --separate-stderr "$WEFT" -n
	assert_output "set -e"$'\n'"/bin/sh -c 'printf '\\''%s\n'\\'' '\\''x;y'\\'' '\\''#z'\\'' ; echo after  # the shell'\\''s comment' a"
	printf '%s\n' "$output" > script.sh
	run -0 sh script.sh
	assert_output $'x;y\n#z\nafter'
}

@test "a blank line inside a multi-line run does not end it" {
	ini '[a]' 'run = echo one' '' '  echo two' '[b]' 'run = echo b'
	run -0 --separate-stderr "$WEFT" a
	assert_output $'one\ntwo'
}

@test "a multi-line run stops at the first failing line; one line does not" {
	ini '[multi]' 'run = echo one' '  false' '  echo two' '[single]' 'run = false; echo x'
	run -1 --separate-stderr "$WEFT" multi
	assert_output one
	[[ $stderr == *"weft: task 'multi' failed (exit 1)"* ]] || fail "stderr: $stderr"
	run -0 --separate-stderr "$WEFT" -q single
	assert_output x
	summary_only "$stderr"
}

@test "control bytes from a damaged recipe are shown as \\xHH, never sent as they are" {
	printf '[a\033[2Jb]\nrun = true\n' > weft.ini
	run -2 --separate-stderr "$WEFT" -l
	[ "$stderr" = 'weft.ini:1: invalid task name '\''a\x1b[2Jb'\''' ]
}
