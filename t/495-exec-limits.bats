#!/usr/bin/env bats
# weft exec --memfree and --load: a job starts only while the machine has
# room; tested with limits that are always met and never met, not timing.
load helpers/common
load helpers/exec

setup() { common_setup; }

@test "--memfree and --load that are always met run every job, in order with -k" {
	run -0 wx -k --memfree 1k --load 100000 echo ::: a b c
	out_is $'a\nb\nc'
	run -0 wx -k --load 100000% --memfree 1M --pipe -N1 cat <<< $'x\ny'
	out_is $'x\ny'
}

@test "--memfree and --load that are never met start no job, and weft still stops when told" {
	# --load 1: a process that never stops running is at work whenever
	# weft looks (weft does not count itself).
	sh -c 'while :; do :; done' 3>&- &
	local spin=$!
	run -124 wx_within 1 --load 1 'touch ran{}' ::: 1 2
	kill "$spin"
	[ ! -e ran1 ] && [ ! -e ran2 ] || fail "a job ran"
	run -124 wx_within 1 --memfree 1000T 'touch ran{}' ::: 1
	[ ! -e ran1 ] || fail "a job ran"
	assert_no_leftovers
}

@test "--memfree and --load take sizes and -j's forms; anything else is an error" {
	run -255 wx --memfree lots true ::: 1
	[[ $(head -n 1 err) == "weft exec: invalid value 'lots' for --memfree (a size such as 500M or 2G)" ]]
	run -255 wx --load 0 true ::: 1
	[[ $(head -n 1 err) == "weft exec: invalid value '0' for --load (N, N%, +N or -N, above 0)" ]]
	run -255 wx --load x% true ::: 1
	run -0 wx --load +1000 --memfree 1Ki true ::: 1
}
