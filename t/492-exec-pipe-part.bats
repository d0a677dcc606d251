#!/usr/bin/env bats
# weft exec --pipe-part: the files of -a cut into parts at record
# boundaries by seeking, one part per job on its stdin; compared with GNU
# parallel --pipe-part, which cuts at the same places.
load helpers/common
load helpers/exec

setup() { common_setup; }

need_parallel() { command -v parallel > /dev/null || skip "GNU parallel is not installed"; }

# same ARGS: `weft exec ARGS` and `parallel ARGS` give the same output and exit status.
same() {
	local ps ws
	eval "gnu_parallel --will-cite $1" < /dev/null > want 2>&1 && ps=0 || ps=$?
	eval "\"\$WEFT\" exec $1" > got 2>&1 && ws=0 || ws=$?
	cmp want got || fail "weft exec $1: $(cat got), not $(cat want)"
	[ "$ps" = "$ws" ] || fail "weft exec $1: exit $ws, not $ps"
}

@test "--pipe-part cuts where GNU parallel cuts: block sizes, --recstart, --recend, several files" {
	need_parallel
	seq 1 20 > f20
	printf 'a>1\nb\n>2\nc\n>3\n' > fa
	printf 'r1;r2;;r3;;r4;' > fs
	same "-k --pipe-part -a f20 --block 10 'echo {#}: \$(tr \"\\n\" \" \")'"
	same "-k --pipe-part -a f20 --block 1 'echo \$(wc -l)'"
	same "-k --pipe-part -a fa --recstart '>' --block 3 'echo \"[\$(cat)]\"'"
	same "-k --pipe-part -a fs --recend ';;' --block 2 'echo \"[\$(cat)]\"'"
	same "-k --pipe-part -a fs --recend '' --recstart '' --block 4 'echo \"[\$(cat)]\"'"
	same "-k --pipe-part -a f20 -a fa --block 20 'echo \$(wc -c)'"
	# --block -N: N parts per job slot; with no --block, ten.
	same "-k -j3 --pipe-part --block -1 -a f20 wc -l"
	same "-k -j2 --pipe-part -a f20 wc -l"
}

@test "--pipe-part feeds every byte of parts larger than a pipe, binary data too" {
	head -c 3000000 /dev/urandom > bin
	seq 1 400000 >> bin
	run -0 wx -k -j2 --pipe-part -a bin --block 700k cat
	cmp bin out
	run -0 wx -j2 --pipe-part -a bin --block 700k 'wc -c'
	[ "$(awk '{ n += $1 } END { print n }' out)" = "$(wc -c < bin)" ]
	[ "$(wc -l < out)" -ge 4 ]
}

@test "--pipe-part: an empty file is no job; a job that reads nothing is no trouble" {
	: > empty
	run -0 wx --pipe-part -a empty echo x
	[ ! -s out ]
	seq 1 100000 > big
	run -0 wx -j2 --pipe-part -a big --block 100k true
	run -0 wx -k --pipe-part -a big --block 400k 'head -n 1'
	out_is $'1\n68519'
}

@test "--pipe-part needs -a FILE, a file it can seek in, and no -N or ::: values" {
	run -255 wx --pipe-part cat
	[[ $(head -n 1 err) == "weft exec: --pipe-part needs the file to cut: -a FILE" ]]
	run -255 wx --pipe-part -a /dev/stdin cat < <(echo x)
	err_is "weft exec: cannot cut '/dev/stdin' into parts: --pipe-part needs a file it can seek in, not a pipe"
	run -255 wx --pipe-part -a nothere cat
	err_is "weft exec: cannot cut 'nothere' into parts: No such file or directory"
	seq 3 > f
	run -255 wx --pipe-part -a f -N1 cat
	[[ $(head -n 1 err) == "weft exec: -N cannot be used with --pipe-part: a part is cut by size" ]]
	run -255 wx --pipe-part -a f cat ::: x
	[[ $(head -n 1 err) == "weft exec: --pipe-part reads the files of -a: it takes no :::" ]]
	run -255 wx --pipe -a f --block -1 cat
	[[ $(head -n 1 err) == "weft exec: invalid value '-1' for --block-size (a size such as 64k, 1M or 10M)" ]]
}
