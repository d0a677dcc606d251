#!/usr/bin/env bats
# GNU make's jobserver: weft as a client of make's (both styles), as a
# server to the makes and wefts its tasks run, and every token back after
# failures, timeouts and interruptions. Concurrency is proved by probes
# (t/fixtures/jobserver/probe.sh) that meet at a barrier: the cap is
# reached, and no probe ever sees more jobs than the cap.
load helpers/common
load helpers/background

setup() {
	common_setup
	export FIX="$BATS_TEST_DIRNAME/fixtures/jobserver"
	export MARKS="$BATS_TEST_TMPDIR/marks"
	mkdir marks
}

# peaks_are N: some probe saw N jobs at once, and none saw more.
peaks_are() {
	local f max=0 p
	for f in marks/peak.*; do
		[ -e "$f" ] || fail "no probe ran"
		p=$(cat "$f")
		[ "$p" -gt "$max" ] && max=$p
	done
	[ "$max" -eq "$1" ] || fail "at most $max jobs ran at once, not $1"
}

# probes N: how many probes ran.
probes() {
	local f n=0
	for f in marks/peak.*; do
		[ -e "$f" ] && n=$((n + 1))
	done
	echo "$n"
}

# jobserver TOKENS: a fifo of the test's own holding TOKENS (the bytes of
# the word), open on fds 5 (read and write) and 6 (write), as make opens
# its jobserver.
jobserver() {
	mkfifo js
	exec 5<> js 6> js
	printf '%s' "$1" >&6
}

# tokens: the bytes left in the test's jobserver, sorted.
tokens() {
	dd if=/dev/fd/5 iflag=nonblock bs=256 count=1 2> /dev/null | fold -w1 | sort | tr -d '\n'
}

@test "make -j3 runs two weft recipes and a plain job: 3 at once, never more (fd style, make 4.3)" {
	export TARGET=3
	run -0 make -s -j3 -f "$FIX/Makefile" WEFT="$WEFT"
	refute_output --partial warning
	[ "$(probes)" -eq 11 ]
	peaks_are 3
}

@test "a make rule without '+': weft says once that it runs serially, and does" {
	export TARGET=1
	run -0 make -s -j3 -f "$FIX/Makefile" WEFT="$WEFT" unmarked
	[ "$(grep -c "warning: make's jobserver (fds [0-9]*,[0-9]* in MAKEFLAGS) is not open here" <<< "$output")" -eq 1 ]
	[ "$(probes)" -eq 5 ]
	peaks_are 1
}

# capped AUTH WEFT-ARGS...: with 2 tokens (x and y) in the test's
# jobserver, named in MAKEFLAGS as AUTH, weft runs 3 probes at once and
# never more, and gives back the same bytes.
capped() {
	local auth=$1
	shift
	rm -f marks/*
	printf xy >&6
	TARGET=3 MAKEFLAGS=" -j3 --jobserver-auth=$auth" run -0 "$WEFT" "$@"
	peaks_are 3
	[ "$(tokens)" = xy ]
}

@test "fifo style: a jobserver fifo with 2 tokens holds weft to 3 jobs, and gets the same bytes back" {
	jobserver ''
	RUN=f capped "fifo:$PWD/js" -f "$FIX/five.ini"
}

@test "fd style with fds of the test's own: 3 at once; weft exec too; make's fds reach no job by accident" {
	jobserver ''
	RUN=d capped 5,6 -f "$FIX/five.ini"
	capped 5,6 exec sh "$FIX/probe.sh" e{} ::: 1 2 3 4 5
	jobserver_words=" -j3 --jobserver-auth=5,6"
	# a job shares the jobserver on fds weft chose (above 9), never on 5 and 6
	recipe '[t]
run = echo "$MAKEFLAGS"; ls /proc/$$/fd'
	MAKEFLAGS=$jobserver_words run -0 "$WEFT"
	[[ $output =~ --jobserver-auth=([0-9]+),([0-9]+) ]] || fail "no jobserver in the job's MAKEFLAGS"
	[ "${BASH_REMATCH[1]}" -gt 9 ] && [ "${BASH_REMATCH[2]}" -gt 9 ]
	assert_line "${BASH_REMATCH[1]}"
	assert_line "${BASH_REMATCH[2]}"
	refute_line "5"
	refute_line "6"
	# with -j of its own weft serves its jobs: make's fds reach none of them
	MAKEFLAGS=$jobserver_words run -0 "$WEFT" -j2
	refute_line "5"
	refute_line "6"
}

@test "-j on weft's command line overrides MAKEFLAGS' jobserver" {
	export TARGET=2
	jobserver ''
	MAKEFLAGS=" -j1 --jobserver-auth=fifo:$PWD/js" RUN=j run -0 "$WEFT" -j2 -f "$FIX/five.ini"
	peaks_are 2
}

@test "every token comes back after a failing and a timed-out run, in both styles" {
	recipe '[all]
deps = fail slow ok1 ok2

[fail]
run = exit 3

[slow]
timeout = 100ms
run = sleep 100

[ok1]
run = true

[ok2]
run = true'
	jobserver pq
	local auth
	for auth in 5,6 "fifo:$PWD/js"; do
		MAKEFLAGS=" -j3 --jobserver-auth=$auth" run -1 "$WEFT" -k
		assert_output --partial "task 'fail' failed"
		assert_output --partial "task 'slow' timed out"
		[ "$(tokens)" = pq ]
		printf pq >&6
	done
}

@test "an interrupted run gives back every token its jobs held" {
	export TARGET=3 HOLD=1
	jobserver uv
	MAKEFLAGS=" -j3 --jobserver-auth=fifo:$PWD/js" RUN=i start_weft -f "$FIX/five.ini"
	wait_for marks/reached
	[ "$(tokens)" = '' ]
	kill -INT "$pid"
	wait_weft
	[ "$status" -eq 130 ]
	[ "$(tokens)" = uv ]
}

@test "--cluster: each runner takes a token for each job it starts (the first holds the run's own slot): 3 at once, never more, every token back" {
	jobserver ''
	RUN=c capped "fifo:$PWD/js" --cluster=2 -f "$FIX/five.ini"
}

@test "--cluster below a make whose tokens are all taken: every job runs, one at a time, in the first runner's slot" {
	jobserver ''
	recipe '[all]
deps = a b c d e f

[a]
run = echo a
[b]
run = echo b
[c]
run = echo c
[d]
run = echo d
[e]
run = echo e
[f]
run = echo f'
	# A job held by a runner that waits for a token must not wait for ever
	# while the first runner could run it.
	MAKEFLAGS=" -j3 --jobserver-auth=fifo:$PWD/js" run -0 timeout 60 "$WEFT" --cluster 2 all
	[ "$(sort <<<"$output" | grep -cx '[a-f]')" -eq 6 ]
	[ -z "$(tokens)" ]
	MAKEFLAGS=" -j3 --jobserver-auth=fifo:$PWD/js" run -0 timeout 60 "$WEFT" exec --cluster 2 echo ::: 1 2 3 4 5 6
	[ "$(sort <<<"$output" | grep -cx '[1-6]')" -eq 6 ]
}

@test "-n in MAKEFLAGS is a dry run, -k keeps going (recipes); weft exec prints its commands" {
	recipe '[all]
deps = bad good

[bad]
run = exit 1

[good]
deps = slow
run = touch good

[slow]
run = touch slow'
	MAKEFLAGS="n -j3 --jobserver-auth=fifo:$PWD/none" run -0 "$WEFT"
	assert_line 'touch good'
	[ ! -e slow ] && [ ! -e good ]
	MAKEFLAGS=n run -0 "$WEFT" exec touch {} ::: x y
	assert_output $'touch x\ntouch y'
	[ ! -e x ]
	run -1 "$WEFT" -j1 bad good
	[ ! -e good ]
	MAKEFLAGS="ks" run -1 "$WEFT" -j1 bad good
	[ -e good ]
}

@test "make inside weft -j2 shares weft's 2 slots (pipe style, make 4.3)" {
	export TARGET=2
	INNER="make -s -f $FIX/inner.mk" run -0 "$WEFT" -j2 -f "$FIX/nested.ini"
	[ "$(probes)" -eq 5 ]
	peaks_are 2
}

@test "a weft inside weft -j2 --jobserver-style=fifo shares its 2 slots" {
	export TARGET=2
	INNER="\"$WEFT\" -f $FIX/five.ini RUN=in" run -0 "$WEFT" -j2 --jobserver-style=fifo -f "$FIX/nested.ini"
	[ "$(probes)" -eq 6 ]
	peaks_are 2
	run -0 "$WEFT" exec -j2 --jobserver-style=fifo 'printenv MAKEFLAGS; : {}' ::: 1
	assert_output --regexp '^ -j2 --jobserver-auth=fifo:/.*/fifo$'
}

@test "tokens a killed job held come back to weft's pool, with and without a cluster" {
	export TARGET=3
	recipe '[all]
deps = w1 w2 w3

[hog]
run = sh "$FIX/hog.sh" || echo hog died

[w1]
deps = hog
run = sh "$FIX/probe.sh" w1
[w2]
deps = hog
run = sh "$FIX/probe.sh" w2
[w3]
deps = hog
run = sh "$FIX/probe.sh" w3'
	run -0 "$WEFT" -j3
	assert_line 'hog died'
	peaks_are 3
	# The same through a cluster whose runners take the tokens.
	rm -f marks/*
	run -0 timeout 60 "$WEFT" -j3 --cluster 2
	assert_line 'hog died'
	peaks_are 3
}

@test "--jobserver-style takes pipe or fifo" {
	run -2 "$WEFT" --jobserver-style=sem
	assert_output --partial "invalid value 'sem' for --jobserver-style (pipe or fifo)"
}
