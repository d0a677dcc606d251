#!/usr/bin/env bats
# weft exec --bar and --eta: the total is counted first, the bar is drawn
# on a terminal and left at its last state; elsewhere one plain line.
load helpers/common

setup() { common_setup; }

@test "--bar without a terminal: one plain line at the end, no control codes" {
	run -0 --separate-stderr "$WEFT" exec --bar -j2 true ::: 1 2 3 4
	assert_output ""
	[[ "$stderr" =~ ^\[#+\]\ 100%\ 4/4$ ]]
}

@test "--eta without a terminal: done/total and the time left" {
	run -0 --separate-stderr "$WEFT" exec --eta true ::: a b
	[ "$stderr" = "100% 2/2 ETA 0:00" ]
}

@test "--bar counts stdin input first, and failed jobs count as done" {
	printf '0\n1\n0\n' > in
	run -1 --separate-stderr "$WEFT" exec --bar 'exit {}' < in
	[[ "$stderr" =~ \ 100%\ 3/3$ ]]
}

@test "--bar on a terminal: drawn with control codes, left at 100%" {
	# script gives weft a terminal and records all it wrote to ./typescript.
	TERM=xterm script -qec "\"$WEFT\" exec --bar -j1 true ::: 1 2 3" typescript > /dev/null
	grep -q $'\033\[K' typescript
	run -0 tail -c 100 typescript
	[[ "$output" == *"] 100% 3/3"$'\r'* ]]
}

@test "--bar with stdout piped to the terminal: nothing drawn under the piped lines, one line at the end" {
	TERM=xterm script -qec "\"$WEFT\" exec --bar -j1 echo ::: 1 2 3 | cat" typescript > /dev/null
	run -1 grep -c $'\033\\[K' typescript
	run -0 grep -c '100% 3/3' typescript
	assert_output 1
	# and to a file, the bar is drawn as on the terminal
	TERM=xterm script -qec "\"$WEFT\" exec --bar -j1 echo ::: 1 2 3 > out" typescript > /dev/null
	grep -q $'\033\[K' typescript
	[ "$(cat out)" = "$(printf '1\n2\n3')" ]
}

@test "--bar after SIGINT counts what the job log holds: stopped jobs are not done" {
	load helpers/background
	cat > job.sh << 'EOF2'
case $1 in
1) ;;
*) touch "$1.ready"; sleep 100 ;;
esac
EOF2
	start_weft exec -j3 --bar --joblog jl sh job.sh ::: 1 2 3 4 5 6
	wait_for 2.ready
	wait_for 3.ready
	kill -INT "$pid"
	wait_weft
	[ "$status" -eq 130 ]
	# one job finished (1); 2 and 3 were stopped; 4 to 6 never started
	[ "$(tail -n +2 jl | wc -l)" -eq 1 ] || { cat jl err; false; }
	grep -Eq '(^|[^0-9])1/6$' err
}
