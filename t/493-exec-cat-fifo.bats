#!/usr/bin/env bats
# weft exec --cat and --fifo: with --pipe or --pipe-part, each block or
# part in a temporary file or FIFO that {} names, removed after its job;
# compared with GNU parallel where the output does not hold the name.
load helpers/common
load helpers/exec

setup() { common_setup; }

# same ARGS: `weft exec ARGS` and `parallel ARGS` give the same output and
# exit status, the standard input being ./in.
same() {
	local ps ws
	eval "gnu_parallel --will-cite $1" < in > want 2>&1 && ps=0 || ps=$?
	eval "\"\$WEFT\" exec $1" < in > got 2>&1 && ws=0 || ws=$?
	cmp want got || fail "weft exec $1: $(cat got), not $(cat want)"
	[ "$ps" = "$ws" ] || fail "weft exec $1: exit $ws, not $ps"
}

@test "--cat and --fifo give the jobs what --pipe and --pipe-part would, as GNU parallel does" {
	command -v parallel > /dev/null || skip "GNU parallel is not installed"
	seq 1 20 > in
	same "-k --pipe -N3 --cat 'cat {}; echo .'"
	same "-k --pipe --block 10 --fifo 'wc -l < {}'"
	same "-k --pipe-part -a in --block 12 --cat 'tr \"\\n\" , < {}; echo'"
	same "-k --pipe-part -a in --block 12 --fifo 'sort -rn {} | head -n 1; exit 2'"
	# Without {}, the name is put at the end; --cat's jobs get no stdin.
	same "-k --pipe -N5 --cat 'cat; wc -l | tr -d \" \"; wc -l < '"
	# --cat alone is --pipe.
	same "-k -N7 --cat 'wc -l < {}'"
}

@test "--cat and --fifo: {} is a file or FIFO under TMPDIR, gone after its job" {
	mkdir tmp
	seq 1 6 > in
	TMPDIR=$PWD/tmp run -0 wx -k --pipe -N3 --cat 'test -f {} && echo file {}' < in
	[ "$(wc -l < out)" = 2 ]
	grep -q "^file $PWD/tmp/weft-" out
	TMPDIR=$PWD/tmp run -0 wx -k --pipe -N3 --fifo 'test -p {} && echo fifo; cat {}' < in
	out_is $'fifo\n1\n2\n3\nfifo\n4\n5\n6'
	run -0 wx -k --tmpdir tmp --pipe-part -a in --block 4 --cat 'cat {}'
	cmp in out
	[ -z "$(ls -A tmp)" ]
}

@test "--fifo: a job that never opens its FIFO ends all the same; --fifo with --cat is an error" {
	seq 1 100000 > in
	run -0 wx_within 20 -k --pipe --block 100k --fifo 'echo ok; : {}' < in
	[ "$(sort -u out)" = ok ]
	run -0 wx_within 20 --pipe --block 100k --fifo 'head -c 10 {} > /dev/null' < in
	run -255 wx --pipe --cat --fifo cat < in
	[[ $(head -n 1 err) == "weft exec: --fifo cannot be used with --cat" ]]
}
