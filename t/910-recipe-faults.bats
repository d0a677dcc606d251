#!/usr/bin/env bats
# Hostile recipes: binary junk, odd line endings, huge lines, huge and
# deep graphs. Each must give clear FILE:LINE errors (exit 2) or the same
# parse as a clean file; weft never crashes, and a rejected recipe runs
# nothing (every task would leave a ran-* marker file).
# The plain corners (one NUL, a BOM, CRLF, one long line) are in
# t/100-recipe-errors.bats; these are the hostile versions of them.
load helpers/common

setup() { common_setup; }

# No ran-* marker exists: nothing ran.
assert_nothing_ran() {
	local left=(ran-*)
	if [ -e "${left[0]}" ]; then
		echo "tasks ran: ${left[*]}" >&2
		return 1
	fi
}

# rejects LINE...: weft refuses weft.ini with exactly these lines on
# stderr, nothing on stdout, exit 2, and runs nothing.
rejects() {
	run -2 --separate-stderr "$WEFT"
	assert_equal "$stderr" "$(printf '%s\n' "$@")"
	assert_output ""
	assert_nothing_ran
}

# all_located FILE: every line of $stderr is "FILE:N: message" with N a
# line of FILE (counting a last line without a newline).
all_located() {
	local nlines line n
	nlines=$(($(wc -l < "$1") + 1))
	[ -n "$stderr" ] || fail "no message at all"
	while IFS= read -r line; do
		[[ $line =~ ^$1:([0-9]+):\ [^\ ] ]] || fail "not FILE:N: message: $line"
		n=${BASH_REMATCH[1]}
		[ "$n" -ge 1 ] && [ "$n" -le "$nlines" ] || fail "line $n is not in $1 ($nlines lines): $line"
	done <<< "$stderr"
}

# same_parse FILE REF: weft reads FILE exactly as REF: -l, -n, --graph
# and a run print the same, byte for byte.
same_parse() {
	local args want
	for args in -l -n --graph -j1; do
		run -0 --separate-stderr "$WEFT" -f "$2" $args
		want=$output
		rm -f ran-*
		run -0 --separate-stderr "$WEFT" -f "$1" $args
		assert_equal "$output" "$want"
		[[ $output != *$'\r'* ]] || fail "a carriage return got through with $args"
	done
}

@test "4 KB of /dev/urandom as the recipe, draw after draw: exit 2, FILE:N: errors only, nothing runs" {
	local i
	for i in $(seq 1 "$(rounds 6)"); do
		# a task that would run, then the junk
		{
			printf '[a]\nrun = touch ran-a\n'
			head -c 4096 /dev/urandom
		} > weft.ini
		cp weft.ini "junk.$i"
		run -2 --separate-stderr "$WEFT"
		assert_output ""
		all_located weft.ini
		assert_nothing_ran
		# junk alone
		head -c 4096 /dev/urandom > weft.ini
		cp weft.ini "junk-alone.$i"
		run -2 --separate-stderr "$WEFT" -l
		assert_output ""
		all_located weft.ini
	done
}

@test "a 4 KB line of high bytes between two tasks: one error at its line, neither task runs" {
	{
		printf '[a]\nrun = touch ran-a\n'
		head -c 8192 /dev/urandom | LC_ALL=C tr -dc '\200-\377' | head -c 4096
		printf '\n[b]\nrun = touch ran-b\n'
	} > weft.ini
	rejects "weft.ini:3: expected '[section]', 'key = value' or a comment"
}

@test "an unterminated section header as the last bytes of the file, even 2 MB of it" {
	printf '[a]\nrun = touch ran-a\n[b' > weft.ini
	rejects "weft.ini:3: unterminated section header"
	printf '[a]\nrun = touch ran-a\n[' > weft.ini
	rejects "weft.ini:3: unterminated section header"
	{
		printf '[a]\nrun = touch ran-a\n['
		head -c 2000000 /dev/zero | tr '\0' n
	} > weft.ini
	rejects "weft.ini:3: line is too long (2000001 bytes; at most 1048575)"
}

@test "BOM, CRLF and no final newline all at once: the same parse as the clean file" {
	printf '%s\n' '[all]' 'desc = every thing' 'deps = a' '  b' '[a]' 'run = echo "a:$0:"; touch ran-a' \
		'[b]' 'timeout = 1m' 'run = echo b1' '  echo b2' > clean.ini
	{
		printf '\xef\xbb\xbf'
		sed 's/$/\r/' clean.ini | head -c -1
	} > hostile.ini
	# the last line really lacks its newline (a CR ends it)
	[ "$(tail -c 1 hostile.ini | od -An -c | tr -d ' ')" = '\r' ]
	same_parse hostile.ini clean.ini
}

@test "CR alone as the line ending (old Mac files): a clear error, nothing runs" {
	printf '[a]\rrun = touch ran-a\r[b]\rrun = touch ran-b\r' > weft.ini
	run -2 --separate-stderr "$WEFT"
	assert_output ""
	all_located weft.ini
	assert_nothing_ran
}

@test "a 1 MB run line parses and prints whole; running it fails clearly, the rest runs with -k" {
	local body
	body=$(head -c 1000000 /dev/zero | tr '\0' x)
	printf '[a]\nrun = : %s; touch ran-a\n[b]\nrun = touch ran-b\n' "$body" > weft.ini
	run -0 --separate-stderr "$WEFT" -n a
	assert_equal "$output" "set -e"$'\n'"/bin/sh -c ': $body; touch ran-a' a"
	assert_nothing_ran
	# one argument of 1 MB is past what execve takes (MAX_ARG_STRLEN)
	run -1 --separate-stderr "$WEFT" -q -k a b
	assert_output ""
	printf '%s\n' "$stderr" > err
	grep -Eqx "weft: cannot start task 'a': .+" err
	grep -Eqx 'weft: 1 done, 1 failed, 0 not started in [0-9.]+s' err
	grep -Eqx 'weft: command: : x{998} \.\.\. \(999015 more bytes\)' err
	[ "$(wc -l < err)" -eq 3 ]
	[ -e ran-b ]
	[ ! -e ran-a ]
}

@test "10 MB and 5 MB lines (no final newline) are errors with their real length; memory stays small" {
	{
		printf '[a]\nrun = touch ran-a\n'
		printf 'desc = '
		head -c $((10485760 - 7)) /dev/zero | tr '\0' d
		printf '\nrum = x\nrun = '
		head -c $((5242880 - 6)) /dev/zero | tr '\0' r
	} > weft.ini
	run -2 --separate-stderr /usr/bin/time -f %M -o rss "$WEFT"
	assert_output ""
	assert_equal "$stderr" "weft.ini:3: line is too long (10485760 bytes; at most 1048575)
weft.ini:4: unknown key 'rum' in task 'a' (did you mean 'run'?)
weft.ini:5: line is too long (5242880 bytes; at most 1048575)"
	assert_nothing_ran
	echo "peak RSS $(cat rss) KiB"
	[ "$(tail -n 1 rss)" -lt "${WEFT_RSS_MAX_KB:-65536}" ]
}

# hundred_thousand RUN: weft.ini with [all] (deps on every task) and
# tasks t0..t99999 with a desc, each with the run line RUN (none if empty).
hundred_thousand() {
	awk -v run="$1" 'BEGIN {
		n = 100000
		printf "[all]\ndesc = every task\ndeps ="
		for (i = 0; i < n; i++) printf " t%d", i
		printf "\n"
		for (i = 0; i < n; i++) {
			printf "[t%d]\ndesc = task %d\n", i, i
			if (run != "") printf "run = %s\n", run
		}
	}' > weft.ini
}

@test "100,000 tasks: -l lists every one, -n and --graph print them all, nothing runs" {
	hundred_thousand 'touch ran-$0'
	awk 'BEGIN { printf "%-6s  %s\n", "all", "every task"
		for (i = 0; i < 100000; i++) printf "%-6s  task %d\n", "t" i, i }' > want
	# Into files: bats would split 100,000 lines of output.
	"$WEFT" -l > got 2> err
	cmp want got
	"$WEFT" -n > got 2> err
	[ "$(wc -l < got)" -eq 100001 ]
	[ "$(head -n 1 got)" = 'set -e' ]
	[ "$(grep -cx "/bin/sh -c 'touch ran-\$0' t[0-9]*" got)" -eq 100000 ]
	"$WEFT" --graph > got 2> err
	[ "$(grep -c '^  "all" -> "t[0-9]*";$' got)" -eq 100000 ]
	assert_nothing_ran
}

@test "100,000 tasks without run: the whole graph runs to the end" {
	hundred_thousand ''
	run -0 --separate-stderr "$WEFT" -q
	assert_output ""
	[[ $stderr =~ ^weft:\ 100001\ tasks\ done\ in\ [0-9.]+s$ ]] || fail "stderr: $stderr"
}

# chain N RUN: tasks c0 .. c(N-1), each depending on the next; the last
# one (defined last) runs RUN, the others run 'touch ran-$0' when RUN is
# given and nothing otherwise.
chain() {
	awk -v n="$1" -v run="$2" 'BEGIN {
		for (i = 0; i < n; i++) {
			printf "[c%d]\n", i
			if (i + 1 < n) printf "deps = c%d\n", i + 1
			if (run != "") printf "run = %s\n", i + 1 < n ? "touch ran-$0" : run
		}
	}' > weft.ini
}

@test "a dependency chain 20,000 deep: loads, -n prints it deepest first, --graph, no stack overflow" {
	chain 20000 'touch ran-$0'
	awk 'BEGIN { print "set -e"; for (i = 19999; i >= 0; i--) printf "/bin/sh -c '\''touch ran-$0'\'' c%d\n", i }' > want
	run -0 --separate-stderr "$WEFT" -n
	printf '%s\n' "$output" > got
	cmp want got
	run -0 --separate-stderr "$WEFT" -l
	assert_equal "${#lines[@]}" 20000
	run -0 --separate-stderr "$WEFT" --graph
	printf '%s\n' "$output" > got
	[ "$(grep -c ' -> ' got)" -eq 19999 ]
	grep -qx '  "c0" -> "c1";' got
	grep -qx '  "c19998" -> "c19999";' got
	assert_nothing_ran
}

@test "a dependency chain 20,000 deep, defined in reverse order, runs; a failure at its bottom skips 19,999" {
	# group tasks, the deepest defined first
	awk 'BEGIN { for (i = 19999; i >= 0; i--) { printf "[c%d]\n", i
		if (i < 19999) printf "deps = c%d\n", i + 1 } }' > weft.ini
	run -0 --separate-stderr "$WEFT" -q c0
	[[ $stderr =~ ^weft:\ 20000\ tasks\ done\ in\ [0-9.]+s$ ]] || fail "stderr: $stderr"
	chain 20000 'exit 1'
	local k
	for k in '' -k; do
		run -1 --separate-stderr "$WEFT" -q $k
		assert_output ""
		[[ $stderr =~ ^"weft: task 'c19999' failed (exit 1)"$'\n'"weft: command: exit 1"$'\n'weft:\ 0\ done,\ 1\ failed,\ 19999\ not\ started\ in\ [0-9.]+s$ ]] ||
			fail "stderr ($k): $stderr"
		assert_nothing_ran
	done
}

@test "a dependency cycle 20,000 long: one clear error naming the whole cycle, nothing runs" {
	awk 'BEGIN { n = 20000; for (i = 0; i < n; i++)
		printf "[c%d]\ndeps = c%d\nrun = touch ran-$0\n", i, (i + 1) % n }' > weft.ini
	awk 'BEGIN { printf "weft.ini:2: dependency cycle: "
		for (i = 0; i < 20000; i++) printf "c%d -> ", i; print "c0" }' > want
	run -2 sh -c '"$0" > out 2> err' "$WEFT"
	[ ! -s out ]
	if ! cmp want err; then
		echo "stderr is $(wc -c < err) bytes, not $(wc -c < want); it ends with:" >&2
		tail -c 200 err | od -c | tail -n 5 >&2
		false
	fi
	assert_nothing_ran
}

@test "a weft.ini that is a dangling link, a link loop or a directory stops the search: an error, the parent's recipe never runs" {
	recipe '[clean]
run = touch ran-parent'
	mkdir sub
	cd sub
	ln -s nowhere weft.ini
	run -2 --separate-stderr "$WEFT" clean
	assert_equal "$stderr" "weft: cannot read 'weft.ini': a symbolic link to 'nowhere', which does not exist"
	rm weft.ini
	ln -s loop weft.ini
	ln -s weft.ini loop
	run -2 --separate-stderr "$WEFT" clean
	assert_equal "$stderr" "weft: cannot read 'weft.ini': Too many levels of symbolic links"
	rm weft.ini
	mkdir weft.ini
	run -2 --separate-stderr "$WEFT" clean
	assert_equal "$stderr" "weft: cannot read 'weft.ini': Is a directory"
	cd ..
	assert_nothing_ran
}

@test "an empty dir = is a recipe error at its line" {
	recipe '[t]
dir =
run = touch ran-t'
	run -2 --separate-stderr "$WEFT"
	assert_equal "$stderr" "weft.ini:2: empty value for 'dir' (use a directory, or leave the key out)"
	assert_nothing_ran
}

@test "no memory bound was no recipe: -f /dev/zero, a file over 16 MiB and 2,000,000 junk lines stop at once, in little memory; unknown deps past 100 are not listed" {
	run -2 --separate-stderr /usr/bin/time -f %M -o rss timeout 20 "$WEFT" -f /dev/zero
	assert_equal "$stderr" "/dev/zero:1: the recipe is too large (more than 16 MiB); stopped reading"
	[ "$(tail -n 1 rss)" -lt 65536 ]
	{
		printf '[a]\nrun = touch ran-a\n'
		for i in $(seq 20); do head -c 1000000 /dev/zero | tr '\0' x; echo; done
	} > big.ini
	run -2 --separate-stderr "$WEFT" -f big.ini
	[ "${#stderr_lines[@]}" -eq 17 ]
	assert_equal "${stderr_lines[16]}" "big.ini:19: the recipe is too large (more than 16 MiB); stopped reading"
	yes y | head -n 2000000 > junk.ini
	run -2 --separate-stderr /usr/bin/time -f %M -o rss timeout 20 "$WEFT" -f junk.ini
	[ "${#stderr_lines[@]}" -eq 101 ]
	assert_equal "${stderr_lines[100]}" "junk.ini:100: too many errors (100); stopped reading"
	[ "$(tail -n 1 rss)" -lt 65536 ]
	assert_nothing_ran
	# 5,000 tasks whose deps name unknown tasks: the first 100, then one
	# line that says the rest are not listed.
	awk 'BEGIN { printf "[a]\nrun = touch ran-a\n"; for (i = 0; i < 5000; i++) printf "[t%d]\nrun = touch ran-t\ndeps = a no%d\n", i, i }' > deps.ini
	run -2 --separate-stderr "$WEFT" -f deps.ini
	[ "${#stderr_lines[@]}" -eq 101 ]
	assert_equal "${stderr_lines[0]}" "deps.ini:5: task 't0' depends on unknown task 'no0'"
	assert_equal "${stderr_lines[100]}" "deps.ini:305: too many errors (100); stopped checking deps"
	assert_nothing_ran
}
