#!/usr/bin/env bats
# Hostile inputs and paths: empty input, an input too big for execve, and
# a working directory and TMPDIR whose names hold a space, quotes, a
# newline, $(...) and backticks. A name that a shell evaluates by mistake
# touches a file called tripwire. (The whole suite in such a directory:
# `make test-hostile`, t/helpers/hostile-suite.)
load helpers/common

setup() { common_setup; }

# The hostile name: every character a careless shell line trips on.
HOSTILE=$'sp ace \'sq\' "dq" \nnl $(touch tripwire) `touch tripwire` end'

# no_tripwire DIR...: no file called tripwire exists under any DIR.
no_tripwire() {
	local found
	found=$(find "$@" -name tripwire 2> /dev/null)
	if [ -n "$found" ]; then
		echo "a shell evaluated a path: $found" >&2
		return 1
	fi
}

@test "weft exec with empty input: no job, exit 0, whatever the options" {
	local opts
	for opts in '' -0 '-d x' '--colsep ,' -k --tag '-j 0' '--timeout 200%' \
		'--halt now,fail=50%' '--halt soon,success=10%' --dry-run '--retries 3'; do
		# shellcheck disable=SC2086
		run -0 sh -c ': | "$0" exec '"$opts"' touch ran > out 2> err' "$WEFT"
		[ ! -s out ] || fail "output with '$opts': $(cat out)"
		[ ! -s err ] || fail "stderr with '$opts': $(cat err)"
		[ ! -e ran ]
	done
	run -0 sh -c '"$0" exec touch ran :::: /dev/null ::: a < /dev/null > out 2> err' "$WEFT"
	[ ! -s out ]
	[ ! -s err ]
	[ ! -e ran ]
}

# big_input: ./in holds the inputs a, 3,000,000 x's, b: one input is past
# what one execve argument may be (and past ARG_MAX).
big_input() {
	{
		echo a
		head -c 3000000 /dev/zero | tr '\0' x
		echo
		echo b
	} > in
}

@test "weft exec: a 3 MB input is past the command line limit: GNU parallel's error, exit 255, no more jobs" {
	# (weft itself cannot get such an argument: the kernel refuses to
	# start it, so the input comes from a file and from stdin)
	big_input
	run -255 sh -c '"$0" exec -j1 -k echo :::: in < /dev/null > out 2> err' "$WEFT"
	printf '%s\n' a > want
	cmp want out
	[ "$(wc -l < err)" -eq 1 ]
	grep -Eqx 'weft exec: command line too long \(3000005 >= [0-9]+\) at input 2: x{50}\.\.\.' err
	run -255 sh -c '"$0" exec -j1 -k "echo {#} {}" < in > out 2> err' "$WEFT"
	printf '%s\n' '1 a' > want
	cmp want out
	[ "$(wc -l < err)" -eq 1 ]
	# --dry-run stops there too
	run -255 sh -c '"$0" exec --dry-run echo < in > out 2> err' "$WEFT"
	[ "$(cat out)" = 'echo a' ]
	assert_no_leftovers
}

# spill.sh: run by a job after it printed more than weft keeps in memory;
# touches 'spilled' when weft (its nearest weft ancestor) has a file open
# in $TMPDIR.
write_spill() {
	WEFT_EXE=$(readlink -f "$WEFT")
	export WEFT_EXE
	cat > spill.sh << 'EOF'
w=$$
while [ "$w" -gt 1 ] && [ "$(readlink "/proc/$w/exe")" != "$WEFT_EXE" ]; do
	w=$(sed -n 's/^PPid:[[:space:]]*//p' "/proc/$w/status")
done
for f in /proc/$w/fd/*; do
	case $(readlink "$f") in
	"$TMPDIR"/*) : > "$1.spilled" ;;
	esac
done
EOF
}

@test "cwd and TMPDIR with a hostile name: recipes and weft exec run, spill files vanish, no tripwire" {
	mkdir "$HOSTILE"
	cd "$HOSTILE"
	local here tmp
	here=$(pwd -P)
	tmp="$here/tmp $HOSTILE"
	mkdir "$tmp"
	export TMPDIR=$tmp
	write_spill
	mkdir "sub 'q' \"dq\" \$(touch tripwire) \`touch tripwire\`"
	recipe "[all]
deps = big sub
[big]
run = head -c 3000000 /dev/zero; sh spill.sh big; pwd > big.pwd
[sub]
dir = sub 'q' \"dq\" \$(touch tripwire) \`touch tripwire\`
run = pwd > ../sub.pwd; echo \"\$TMPDIR\" > ../sub.tmpdir"
	local mode
	for mode in group line raw; do
		rm -f ./*.spilled ./*.pwd
		run -0 sh -c '"$0" --output='$mode' > out 2> err' "$WEFT"
		[ "$(stat -c %s out)" -ge 3000000 ]
		[ "$(cat big.pwd)" = "$here" ]
		[ "$(cat sub.pwd)" = "$here/sub 'q' \"dq\" \$(touch tripwire) \`touch tripwire\`" ]
		[ "$(cat sub.tmpdir)" = "$tmp" ]
	done
	# -f and -C with the hostile path, from elsewhere
	cd "$BATS_TEST_TMPDIR"
	run -0 --separate-stderr "$WEFT" -f "$here/weft.ini" -l
	run -0 --separate-stderr "$WEFT" -C "$here" -n
	printf '[a]\nrum = x\n' > "$here/bad.ini"
	run -2 --separate-stderr "$WEFT" -f "$here/bad.ini"
	assert_equal "$stderr" "$here/bad.ini:2: unknown key 'rum' in task 'a' (did you mean 'run'?)"
	cd "$here"
	# group output spilled to TMPDIR (a job printed 3 MB)
	rm -f ./*.spilled
	run -0 sh -c '"$0" --output=group big > out 2> err' "$WEFT"
	[ -e big.spilled ]
	# weft exec: group and -k output, a joblog, all in the hostile place
	# (started with only fds 0 1 2: a job lists its own fds afterwards)
	run -0 bash -c 'for fd in /proc/$$/fd/*; do fd=${fd##*/}
		[ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
		exec "$0" exec -j2 --joblog "$1/log" "head -c 3000000 /dev/zero; sh spill.sh {}; js=\${MAKEFLAGS##*=}; ls /proc/self/fd | grep -vx -e \"\${js%,*}\" -e \"\${js#*,}\" > {}.fds" \
		::: x y < /dev/null > out 2> err' "$WEFT" "$here"
	[ -e x.spilled ]
	[ -e y.spilled ]
	printf '%s\n' 0 1 2 3 > fds.want
	cmp fds.want x.fds
	cmp fds.want y.fds
	[ "$(stat -c %s out)" -eq 6000000 ]
	[ "$(wc -l < log)" -eq 3 ]
	# (-0: as in GNU parallel, a ::: value is cut at the delimiter, and the
	# name holds a newline)
	run -0 sh -c '"$0" exec -0 -k "head -c 2000000 /dev/zero; echo {}" ::: "$1" b < /dev/null > out 2> err' \
		"$WEFT" "$HOSTILE"
	[ "$(stat -c %s out)" -eq $((4000000 + ${#HOSTILE} + 1 + 2)) ]
	# nothing left in TMPDIR, no tripwire anywhere
	[ -z "$(ls -A "$tmp")" ] || fail "left in TMPDIR: $(ls -A "$tmp")"
	no_tripwire "$BATS_TEST_TMPDIR" "$BATS_TEST_DIRNAME/.."
	assert_no_leftovers
}

@test "control bytes in file names reach no terminal raw: item names in prefixes, failure lines and --explain show them as \\xHH" {
	mkdir up
	touch "up/$(printf 'a\033]0;pwned\007b')" "up/$(printf 'c\033[2Jd')" "up/$(printf 'e\nf')"
	recipe '[t]
foreach = up/*
sources = up/*
run = echo out; exit 3'
	run -1 --separate-stderr "$WEFT" -k --output=line --explain
	printf '%s\n' "$output" "$stderr" > all
	# No ESC, BEL or newline from a name: each shows as \xHH.
	run -1 grep -c "$(printf '\033')" all
	run -1 grep -c "$(printf '\007')" all
	grep -qF 't[up/a\x1b]0;pwned\x07b] | out' all
	grep -qF "weft: task 't[up/c\\x1b[2Jd]' failed (exit 3)" all
	grep -qF "weft: task 't[up/e\\x0af]' failed (exit 3)" all
}
