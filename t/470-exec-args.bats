#!/usr/bin/env bats
# weft exec with several inputs per job: -n, -N, -L, -X, -m and -s, the
# command line's length limit and its "command line too long" error,
# compared with GNU parallel where its rules are the contract.
load helpers/common
load helpers/exec

setup() { common_setup; }

# same_as_parallel OPTION... -- INPUT-FILE: weft exec -k and parallel -k give
# the same output (and exit status) for the same options on the same input.
same_as_parallel() {
	command -v parallel > /dev/null || skip "GNU parallel is not installed"
	local in=${*: -1}
	set -- "${@:1:$#-2}"
	local want st=0
	want=$(gnu_parallel --will-cite -k "$@" < "$in" 2> /dev/null) || st=$?
	run -$st wx -k "$@" < "$in"
	[ "$(cat out)" = "$want" ] || fail "weft exec -k $* gives $(cat out | head -n 3), parallel $(echo "$want" | head -n 3)"
}

@test "-n, -N, -X, -m, -L and -s group inputs as GNU parallel does" {
	printf '%s\n' aaaa bbbb cccc 'd d' eeee ffff g > in
	printf 'a b\nc \nd\ne\nf\n' > lines
	same_as_parallel -j2 -n2 echo {1}-{2} / {} -- in
	same_as_parallel -j2 -N3 echo x{1}{}y {3} -- in
	same_as_parallel -j2 -X echo pre{}post -- in
	same_as_parallel -j2 -m echo pre{}post -- in
	same_as_parallel -j1 -X echo pre{}post -- in
	same_as_parallel -j3 -m echo -- in
	same_as_parallel -j2 -n2 -X echo pre{}post -- in
	same_as_parallel -j2 -s 20 -X echo -- in
	same_as_parallel -j1 -s 25 -m echo a{}b -- in
	same_as_parallel -j2 -n4 echo -- in
	same_as_parallel -j2 -L 2 echo -- lines
	same_as_parallel -j2 -L 3 echo x{}y -- lines
}

@test "-N: {1} to {N} are the job's inputs, nothing past the last; {#} counts jobs" {
	run -0 wx -k -N2 echo '{#}:' {2} {1} ::: a b c d e
	out_is $'1: b a\n2: d c\n3: e'
	run -0 wx -k -N2 --colsep , echo {1}/{2}/{3}/{4} ::: 1,2 3,4 5,6
	out_is $'1/2/3/4\n5/6//'
}

@test "-X fills each command line up to the limit; every input runs once" {
	seq 20000 > in
	run -0 wx -k -j1 -X -s 1000 echo < in
	# Each line is what one job printed: none reaches the limit.
	awk 'length($0) + 5 >= 1000 { exit 1 }' out
	[ "$(wc -l < out)" -gt 10 ]
	tr ' ' '\n' < out | cmp - in
}

@test "a lone input longer than the command line limit: an error, exit 255, no job for it" {
	head -c 200000 /dev/zero | tr '\0' a > in
	echo short >> in
	run -255 wx -j1 echo < in
	out_is ''
	[[ $(cat err) == "weft exec: command line too long (200010 >= "*") at input 1: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa..." ]]
	run -255 wx -k -j1 -s 12 echo ::: ab cdefghijklmn op
	out_is 'ab'
	err_is 'weft exec: command line too long (17 >= 12) at input 2: cdefghijklmn'
	run -255 wx --dry-run -s 12 echo ::: cdefghijklmn
	out_is ''
}

@test "-s above the system's limit is lowered to it, with a warning" {
	run -0 wx -k -s 999999999 echo ::: a
	out_is 'a'
	[[ $(cat err) == "weft exec: warning: -s 999999999 is above the system's limit: using "* ]]
}

@test "inputs arriving slowly: a job waits until its -N group is whole" {
	write_await
	# The second group's input comes only after the first job has run.
	{ printf '1\n2\n'; sh await.sh first.done; printf '3\n4\n'; } |
		"$WEFT" exec -k -N2 -j2 'echo {1}{2}; touch first.done' > out 2> err
	out_is $'12\n34'
}

@test "-n, -X and -m are refused with --pipe; bad numbers are refused" {
	run -255 wx --pipe -n 2 cat < /dev/null
	[[ $(head -n 1 err) == "weft exec: -n cannot be used with --pipe" ]]
	run -255 wx -s 0 echo ::: a
	[[ $(head -n 1 err) == "weft exec: invalid value '0' for -s (a number from 1)" ]]
	run -255 wx -N x echo ::: a
	[[ $(head -n 1 err) == "weft exec: invalid value 'x' for -N (a number from 1)" ]]
}
