#!/usr/bin/env bats
# weft exec where it used to differ from GNU parallel: the input as the
# whole command, --colsep's trimming, -d on ::: values and its escapes,
# --joblog +FILE, - and /dev/stderr, NUL and CR-LF input, the exit status
# after --halt, --color, exported bash functions and $PARALLEL_SHELL,
# $PARALLEL, and parallel's aliases. Compared with parallel where cheap.
load helpers/common
load helpers/exec

setup() { common_setup; }

have_parallel() { command -v parallel > /dev/null || skip "GNU parallel is not installed"; }

@test "a replacement string that is the whole command runs the input as a command, unquoted" {
	have_parallel
	printf 'echo hi there\nprintf %%s\\\\n a b\n' > in
	run -0 wx -k {} < in
	out_is $'hi there\na\nb'
	gnu_parallel --will-cite -k {} < in > want
	cmp want out
	run -0 wx -k {} ::: 'echo a b' 'echo "c  d"'
	out_is $'a b\nc  d'
}

@test "--colsep trims white space around the columns, as GNU parallel does" {
	have_parallel
	printf 'a%% c %%%%b\n\t1 ,2\t, 3 \n' > in
	run -0 wx -k --colsep '%+|,' echo '[{1}]' '[{2}]' '[{3}]' < in
	out_is $'[a] [c] [b]\n[1] [2] [3]'
	gnu_parallel --will-cite -k --colsep '%+|,' echo '[{1}]' '[{2}]' '[{3}]' < in > want
	cmp want out
}

@test "-d splits ::: values too, understands \\t and \\r\\n; --tagstring expands \\t" {
	have_parallel
	local tab=$'\t'
	run -0 wx -k -d ' ' echo '[{}]' ::: '1 done' x
	out_is $'[1]\n[done]\n[x]'
	run -0 wx -k echo '[{}]' ::: $'a\nb'
	out_is $'[a]\n[b]'
	run -0 wx -k -0 echo '[{}]' ::: $'a\nb'
	out_is $'[a\nb]'
	run -0 wx -k -d '\t' echo '[{}]' ::: "a${tab}b"
	out_is $'[a]\n[b]'
	printf 'a\r\nb c\r\n' > in
	run -0 wx -k -d '\r\n' echo '[{}]' < in
	out_is $'[a]\n[b c]'
	run -0 wx -k --tagstring 'x\ty' echo ::: 1
	out_is $'x\ty\t1'
	{
		gnu_parallel --will-cite -k -d ' ' echo '[{}]' ::: '1 done' x < /dev/null
		gnu_parallel --will-cite -k -d '\r\n' echo '[{}]' < in
		gnu_parallel --will-cite -k --tagstring 'x\ty' echo ::: 1 < /dev/null
	} > want
	{
		"$WEFT" exec -k -d ' ' echo '[{}]' ::: '1 done' x
		"$WEFT" exec -k -d '\r\n' echo '[{}]' < in
		"$WEFT" exec -k --tagstring 'x\ty' echo ::: 1
	} > got
	cmp want got
}

@test "a NUL byte in line input becomes \\0 with a warning; CR-LF input gets a hint" {
	printf 'a\0b\nc\n' > in
	run -0 wx -k "printf '[%s]\\n'" < in
	out_is $'[a\\0b]\n[c]'
	err_is 'weft exec: warning: a NUL byte in the input was replaced with \0: an argument cannot hold one (did you mean -0, --null?)'
	printf 'a\r\nb\r\nc\r\nd\r\n' > in
	run -0 wx -k true < in
	err_is "weft exec: warning: the first three inputs end in CR-LF: consider -d '\\r\\n'"
	run -0 wx -k -d '\n' true < in
	err_is ''
	printf 'a\r\nb\nc\r\n' > in
	run -0 wx -k true < in
	err_is ''
}

@test "--joblog +FILE appends, --joblog - is stdout, /dev/stderr works; a link to a file is refused" {
	run -0 wx --joblog jl true ::: 1
	run -0 wx --joblog +jl true ::: 2
	[ "$(cut -f 9 jl)" = $'Command\ntrue 1\ntrue 2' ]
	run -0 wx --joblog jl true ::: 3
	[ "$(cut -f 9 jl)" = $'Command\ntrue 3' ]
	run -0 wx --joblog - true ::: 4
	[ "$(cut -f 9 out)" = $'Command\ntrue 4' ]
	run -0 wx --joblog /dev/stderr true ::: 5
	[ "$(cut -f 9 err)" = $'Command\ntrue 5' ]
	run -0 wx --jl jl2 true ::: 6
	[ "$(cut -f 9 jl2)" = $'Command\ntrue 6' ]
	echo precious > target
	ln -s target link
	run -255 wx --joblog link true ::: 7
	[ "$(cat target)" = precious ]
}

@test "--halt: the exit status is GNU parallel's: the failed count, the failed share, or the one job's status" {
	have_parallel
	local h want got
	for h in soon,fail=2 now,fail=1 soon,fail=50% soon,done=3 2; do
		want=0 got=0
		gnu_parallel --will-cite -j1 --halt "$h" 'exit {}' ::: 0 5 7 0 0 3 < /dev/null > /dev/null 2>&1 || want=$?
		"$WEFT" exec -j1 --halt-on-error "$h" 'exit {}' ::: 0 5 7 0 0 3 > /dev/null 2>&1 || got=$?
		[ "$want" = "$got" ] || fail "--halt $h: parallel exits $want, weft exec $got"
	done
	run -2 wx -j1 --halt soon,fail=2 'exit {}' ::: 0 5 7 0 0
}

@test "--color=WHEN is accepted; a bad WHEN is refused" {
	run -0 wx --color=always echo ::: a
	out_is a
	run -0 wx --color never echo ::: a
	run -255 wx --color=sometimes echo ::: a
	[[ $(head -n 1 err) == "weft exec: invalid value 'sometimes' for --color (auto, always or never)" ]]
}

@test "exported bash functions can be called; PARALLEL_SHELL picks the shell" {
	command -v bash > /dev/null || skip "no bash"
	f() { echo "f got $1"; }
	export -f f
	run -0 wx -k f ::: 1 2
	out_is $'f got 1\nf got 2'
	unset -f f
	PARALLEL_SHELL=bash run -0 wx 'echo ${BASH_VERSION:+bash}' ::: 1
	out_is 'bash 1'
	# Without exported functions (bats exports its own), /bin/sh.
	run -0 env -i PATH="$PATH" "$WEFT" exec 'echo ${BASH_VERSION:-sh}' ::: 1
	assert_output 'sh 1'
}

@test "\$PARALLEL holds default options; --dryrun and --halt-on-error are aliases" {
	PARALLEL='-k --tag' run -0 wx echo ::: a b
	out_is $'a\ta\nb\tb'
	PARALLEL="-k --tagstring 'x y'" run -0 wx echo ::: a
	out_is $'x y\ta'
	run -0 wx --dryrun echo ::: a
	out_is 'echo a'
	run -3 wx -j1 --halt-on-error 1 'exit {}' ::: 0 3 0
}
