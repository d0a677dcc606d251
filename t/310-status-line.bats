#!/usr/bin/env bats
# The status line on a real terminal: a total that may still grow, failures
# in red, and how long the oldest running job has run.
load helpers/common

setup() {
	common_setup
	export TERM=xterm
}

@test "[0/2+]: the total says more may come until every foreach is listed" {
	# 'a' waits (bounded) until the status line shows the '+'; the listing
	# of 'items' waits until 'a' has seen it.
	wait_job tty '+\] running: a'
	recipe '[all]
deps = a items
[a]
run = sh job.sh
[items]
deps = a
foreach = cmd:echo x; echo y
run = echo {}'
	run -0 on_tty "'$WEFT' -j1"
	[ -e seen ]
	grep -qa 'weft: 4 tasks done' tty
}

@test "failures show as they happen under -k, [1/3, 1 failed]: red when colour is on, plain when it is not" {
	# 'slow' waits (bounded) until the status line shows the failure of 'bad'.
	wait_job tty '1 failed.*running: slow'
	recipe '[all]
deps = bad slow
[bad]
run = exit 1
[slow]
run = sh job.sh'
	run -1 on_tty "'$WEFT' -k -j2"
	[ -e seen ]
	grep -qa $'\[1/3, \033\[31m1 failed\033\[0m\] running: slow' tty
	rm -f seen
	run -1 on_tty "NO_COLOR=1 '$WEFT' -k -j2"
	[ -e seen ]
	grep -qa '\[1/3, 1 failed\] running: slow' tty
	grep -qa "weft: task 'bad' failed (exit 1)" tty
	run -1 grep -qa $'\033\[31m' tty
}

@test "the oldest running job shows how long it has run" {
	wait_job tty 'running: slow (0:0[1-9])'
	recipe '[slow]
run = sh job.sh'
	run -0 on_tty "'$WEFT'"
	[ -e seen ]
}
