#!/usr/bin/env bats
# Jobs as processes: output modes, pipes, stdin, fds, memory, exit
# statuses, timeouts and the kill sequence, colour and control codes.
load helpers/common

setup() { common_setup; }

SECS='[0-9][0-9.ms]*s'

# weft_files ARGS: runs weft with stdout in ./out and stderr in ./err.
weft_files() { "$WEFT" "$@" > out 2> err; }

# weft_files_bounded ARGS: weft_files, killed (exit 124) after 20 s.
weft_files_bounded() { timeout 20 "$WEFT" "$@" > out 2> err; }


# no_control_codes FILE: FILE has no control characters but newlines.
no_control_codes() {
	if LC_ALL=C grep -n '[[:cntrl:]]' "$1" > ctl; then
		echo "control codes in $1:" >&2
		cat -A ctl >&2
		return 1
	fi
}

@test "line mode: padded NAME | prefix, stdout and stderr kept apart, last line completed" {
	recipe '[a]
run = echo out-a; echo err-a >&2; printf partial
[longname]
run = echo out-l; echo err-l >&2'
	run -0 weft_files -q --output=line a longname
	sort out > out.sorted
	printf '%s\n' 'a        | out-a' 'a        | partial' 'longname | out-l' > expected
	diff expected out.sorted
	head -n -1 err | sort > err.sorted
	printf '%s\n' 'a        | err-a' 'longname | err-l' > expected
	diff expected err.sorted
	[[ "$(tail -n 1 err)" =~ ^weft:\ 2\ tasks\ done\ in\ $SECS$ ]]
}

@test "line mode: 20 concurrent writers of long lines never mix lines" {
	# Each job writes 2,000 lines of 112 bytes to stdout (block-buffered
	# by awk, so writes split lines) and as many to stderr.
	cat > writer.sh <<'EOF'
exec awk -v n="$1" 'BEGIN {
	s = "0000000000"; s = s s s s s s s s s s
	for (i = 1; i <= 2000; i++) {
		printf "%s o %04d %s\n", n, i, s
		printf "%s e %04d %s\n", n, i, s > "/dev/stderr"
	}
}'
EOF
	local i names='' text=''
	for i in $(seq -w 1 20); do
		names="$names w$i"
		text="$text
[w$i]
run = sh writer.sh w$i"
	done
	recipe "[all]
deps =$names$text"
	run -0 weft_files --output=line -j20
	grep -v '^weft: ' err > err.jobs
	for f in out err.jobs; do
		[ "$(wc -l < $f)" -eq 40000 ]
		local kind=o
		[ $f = out ] || kind=e
		# every line is one whole line, under the prefix of its own job
		[ "$(grep -cvE "^(w[0-9]{2}) \| \1 $kind [0-9]{4} 0{100}\$" $f)" -eq 0 ]
		# and each job's lines come complete and in order
		awk '{ if (!($1 in last)) jobs++; if ($5 != last[$1] + 1) bad++; last[$1] = $5 }
		     END { for (n in last) if (last[n] != 2000) bad++; print jobs, bad + 0 }' $f > check
		[ "$(cat check)" = "20 0" ]
	done
}

@test "group mode prints each task's output in one piece" {
	# The three jobs run at once (barrier) and write between waits.
	cat > chatty.sh <<'EOF'
echo "$1 0"; echo "$1 0" >&2
touch "$1.ready"
i=0
while [ "$(ls ./*.ready | wc -l)" -lt 3 ] && [ $i -lt 500 ]; do i=$((i + 1)); sleep 0.02; done
for i in 1 2 3 4 5 6 7 8 9; do echo "$1 $i"; echo "$1 $i" >&2; sleep 0.01; done
EOF
	recipe '[all]
deps = g1 g2 g3
[g1]
run = sh chatty.sh g1
[g2]
run = sh chatty.sh g2
[g3]
run = sh chatty.sh g3'
	run -0 weft_files --output=group -j3
	[ "$(wc -l < out)" -eq 30 ]
	[ "$(awk '$1 != prev { n++; prev = $1 } END { print n }' out)" -eq 3 ]
	grep -v '^weft: ' err > err.jobs
	[ "$(wc -l < err.jobs)" -eq 30 ]
	[ "$(awk '$1 != prev { n++; prev = $1 } END { print n }' err.jobs)" -eq 3 ]
	# no prefixes in group mode
	[ "$(head -n 1 out)" = "$(head -n 1 out | cut -d' ' -f1) 0" ]
}

@test "raw mode passes the bytes through unchanged" {
	recipe "[r]
run = printf 'a\\000b\\377\\r\\nlast'"
	run -0 weft_files --output=raw
	printf 'a\000b\377\r\nlast' > expected
	cmp expected out
}

@test "a job's stdout is a real pipe: echo x > /dev/stdout works" {
	recipe '[t]
run = echo x > /dev/stdout'
	local mode
	for mode in group line raw; do
		run -0 weft_files --output=$mode
		grep -Eqx '(t \| )?x' out
		[ "$(grep -c . out)" -eq 1 ]
	done
}

@test "a job's stdin is /dev/null: cat gets EOF at once" {
	recipe '[t]
run = readlink /proc/self/fd/0; timeout 20 cat; echo "cat=$?"'
	# weft's own stdin is a pipe that stays open and silent
	mkfifo in
	"$WEFT" > out 2> err < in &
	local pid=$! w
	exec {w}> in
	wait $pid && status=0 || status=$?
	exec {w}>&-
	[ "$status" -eq 0 ]
	printf '%s\n' /dev/null cat=0 > expected
	diff expected out
}

@test "no fd of weft leaks into a job" {
	recipe '[t]
run = js=${MAKEFLAGS##*=}; ls /proc/self/fd | grep -vx -e "${js%,*}" -e "${js#*,}"'
	local mode
	for mode in group line; do
		# start weft with only 0 1 2 open (bats itself holds fd 3 and more)
		run -0 bash -c 'for fd in /proc/$$/fd/*; do fd=${fd##*/}
			[ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
			exec "$0" --output='$mode' > out 2> err' "$WEFT"
		# fd 3 is the directory ls itself reads; the two of weft's
		# jobserver that MAKEFLAGS names are given on purpose
		sed 's/^t | //' out > fds
		printf '%s\n' 0 1 2 3 > expected
		diff expected fds
	done
}

@test "group mode: 100 MB from one job, byte-exact, weft stays small" {
	head -c 100000000 /dev/urandom > big
	recipe '[big]
run = cat big'
	run -0 /usr/bin/time -f %M -o rss sh -c 'exec "$0" --output=group > out 2> err' "$WEFT"
	cmp big out
	[ "$(stat -c %s out)" -eq 100000000 ]
	echo "peak RSS $(cat rss) KiB"
	[ "$(tail -n 1 rss)" -lt "${WEFT_RSS_MAX_KB:-65536}" ]
}

@test "a failing job: exit 1 and 'failed (exit 3)'" {
	recipe '[t]
run = exit 3'
	run -1 weft_files
	grep -qx "weft: task 't' failed (exit 3)" err
	[[ "$(tail -n 1 err)" =~ ^weft:\ 0\ done,\ 1\ failed,\ 0\ not\ started\ in\ $SECS$ ]]
}

@test "a job killed by a signal: 'killed by SIGSEGV'" {
	recipe '[seg]
run = ulimit -c 0; kill -SEGV $$'
	run -1 weft_files
	grep -qx "weft: task 'seg' killed by SIGSEGV" err
	assert_no_leftovers
}

@test "timeout: the job and its grandchild are stopped, 'timed out after 1s'" {
	recipe '[slow]
timeout = 1s
run = sh -c "sleep 100" & sleep 100'
	run -1 weft_files_bounded
	grep -qx "weft: task 'slow' timed out after 1s" err
	assert_no_leftovers
}

@test "timeout: a job that ignores SIGTERM is killed after --grace" {
	recipe '[stubborn]
timeout = 1s
run = trap "" TERM; sleep 100 & sleep 100'
	run -1 weft_files_bounded --grace=500ms
	grep -qx "weft: task 'stubborn' timed out after 1s" err
	assert_no_leftovers
}

@test "a job that leaves a background process: weft ends, the process is stopped" {
	recipe '[bg]
run = sleep 1000 & echo started'
	local mode
	for mode in group line; do
		run -0 weft_files_bounded --output=$mode
		grep -Eqx '(bg \| )?started' out
		assert_no_leftovers
	done
}

@test "a command that does not exist: the shell's 127" {
	recipe '[a]
run = no-such-command-weft-test
[b]
run = no-such-command-weft-test with args'
	run -1 weft_files -k a b
	grep -qx "weft: task 'a' failed (exit 127)" err
	grep -qx "weft: task 'b' failed (exit 127)" err
	grep -q "no-such-command-weft-test.*not found" err
}

@test "a dir that does not exist, or is a file: 'cannot start task', naming the dir" {
	recipe '[t]
dir = no/such/dir
run = touch ran
[f]
dir = weft.ini
run = touch ran'
	run -1 weft_files -k f
	grep -qx "weft: cannot start task 'f': its dir 'weft.ini': Not a directory" err
	run -1 weft_files
	grep -qx "weft: cannot start task 't': its dir 'no/such/dir': No such file or directory" err
	[ ! -e ran ]
	[ ! -e no/such/dir/ran ]
	[[ "$(tail -n 1 err)" =~ ^weft:\ 0\ done,\ 1\ failed,\ 0\ not\ started\ in\ $SECS$ ]]
}

@test "--color=always colours the prefix" {
	recipe '[a]
run = echo out-a; echo err-a >&2'
	run -0 weft_files --output=line --color=always
	esc=$'\e'
	# ESC[...m before the name and after it
	grep -q "^$esc\[[0-9;]*ma$esc\[[0-9;]*m *| out-a\$" out
	[ "$(sed "s/$esc\[[0-9;]*m//g" out)" = 'a | out-a' ]
	[ "$(head -n 1 err | sed "s/$esc\[[0-9;]*m//g")" = 'a | err-a' ]
	grep -q "$esc\[" err
}

@test "--color=never and NO_COLOR: no colour, even on a terminal" {
	recipe '[a]
run = echo out-a'
	export TERM=xterm
	on_tty "'$WEFT' 2> err"
	# colour is on by default on a terminal ...
	grep -q $'\e\\[' tty
	# ... but not with --color=never or NO_COLOR
	on_tty "'$WEFT' --color=never 2> err"
	no_control_codes tty
	[ "$(cat tty)" = 'a | out-a' ]
	NO_COLOR=1 on_tty "'$WEFT' 2> err"
	no_control_codes tty
	[ "$(cat tty)" = 'a | out-a' ]
}

@test "stderr not a terminal: no control codes in it, even when stdout is one" {
	recipe '[a]
run = echo out-a; echo err-a >&2
[b]
run = exit 1'
	export TERM=xterm
	run -1 weft_files --output=line -k a b
	no_control_codes err
	no_control_codes out
	# nor when stdout is a terminal
	run -1 on_tty "'$WEFT' -k a b 2> err"
	no_control_codes err
}

@test "TERM=dumb: no status line, no control codes on the terminal" {
	# The job waits (bounded) until the status line shows it running on
	# the terminal, which it must not under TERM=dumb. (On a cluster the
	# first line may come before the runner has said the job started.)
	cat > job.sh <<'EOF'
i=0
until grep -q 'running: a' tty || [ $i -ge "$1" ]; do i=$((i + 1)); sleep 0.02; done
echo err-a >&2
EOF
	recipe '[a]
run = sh job.sh $LIMIT'
	export TERM=xterm LIMIT=500
	on_tty "'$WEFT'"
	grep -q 'running: a' tty
	export TERM=dumb LIMIT=25
	on_tty "'$WEFT'"
	no_control_codes tty
	grep -qx 'weft: 1 task done in .*' tty
	assert_no_leftovers
}

@test "shell = with arguments: weft adds -c and the script after them" {
	recipe '[weft]
shell = /bin/bash -o pipefail

[t]
run = false | true'
	run -1 weft_files t
	grep -qx "weft: task 't' failed (exit 1)" err
	sed -i 's|^shell = .*|shell = /bin/bash|' weft.ini
	run -0 weft_files t
}

