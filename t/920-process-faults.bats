#!/usr/bin/env bats
# Jobs that misbehave: killed by signals, grandchildren left behind or
# escaping, stdout closed early, 100 MB on both pipes at once, stdin
# read. The simple cases (one SIGSEGV, a job ignoring SIGTERM on timeout,
# `sleep &` in group and line mode, stdin of a recipe job) are in
# t/300-process.bats. After each fault, a probe job checks that no fd of
# weft leaked into it and that weft's own fd count came back down, and
# no process of the test is left. Every wait is bounded.
load helpers/common
load helpers/background

setup() {
	common_setup
	WEFT_EXE=$(readlink -f "$WEFT")
	export WEFT_EXE
	write_probe
}

# clean ARGS: runs ARGS (weft and its arguments) with only fds 0, 1 and 2
# open (bats holds more), stdout in ./out and stderr in ./err.
clean() {
	bash -c 'for fd in /proc/$$/fd/*; do fd=${fd##*/}
		[ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
		exec "$@" > out 2> err' clean "$@"
}

# probe.sh NAME [N]: a job that looks for leaked fds. It waits (bounded)
# until weft has reported N task failures on ./err, writes the fds it
# holds itself to NAME.self, then, when base.weft exists, waits (bounded)
# for weft's fd count to come back to it, and writes that count to
# NAME.weft (and weft's fds to NAME.list).
write_probe() {
	cat > probe.sh << 'EOF'
reports() {
	c=$(grep -Ec "^weft: task '[^']*' (failed|killed|timed out)" err 2> /dev/null)
	echo "${c:-0}"
}
i=0
while [ "$(reports)" -lt "${2:-0}" ] && [ $i -lt 500 ]; do i=$((i + 1)); sleep 0.02; done
js=${MAKEFLAGS##*=}; ls /proc/self/fd | grep -vx -e "${js%,*}" -e "${js#*,}" > "$1.self"
w=$$
while [ "$w" -gt 1 ] && [ "$(readlink "/proc/$w/exe")" != "$WEFT_EXE" ]; do
	w=$(sed -n 's/^PPid:[[:space:]]*//p' "/proc/$w/status")
done
i=0
while [ -e base.weft ] && [ "$(ls "/proc/$w/fd" | wc -l)" -ne "$(cat base.weft)" ] && [ $i -lt 250 ]; do
	i=$((i + 1))
	sleep 0.02
done
ls -l "/proc/$w/fd" > "$1.list"
ls "/proc/$w/fd" | wc -l > "$1.weft"
EOF
}

# no_fd_leaked: the probe 'after' saw only its own fds (0 1 2, and 3 for
# the directory ls reads), and weft held as many fds after the fault as
# with one job running before it.
no_fd_leaked() {
	printf '%s\n' 0 1 2 3 > fds.want
	if ! cmp -s fds.want after.self; then
		echo "a job saw fds it should not have:" $(cat after.self) >&2
		return 1
	fi
	if [ "$(cat after.weft)" -ne "$(cat base.weft)" ]; then
		echo "weft holds $(cat after.weft) fds after the fault, $(cat base.weft) before:" >&2
		cat after.list >&2
		return 1
	fi
}

# probed RECIPE-TEXT: weft.ini with [base] (a probe every other task
# depends on) and [after] (a probe waiting for N failure reports, N from
# $REPORTS), then RECIPE-TEXT; each task in it must have 'deps = base'.
probed() {
	recipe "[base]
run = sh probe.sh base
[after]
deps = base
run = sh probe.sh after ${REPORTS:-0}
$1"
}

@test "jobs killed by SIGSEGV and SIGKILL: both recorded, the rest goes on with -k" {
	REPORTS=2 probed '[seg]
deps = base
run = ulimit -c 0; kill -SEGV $$
[kil]
deps = base
run = kill -KILL $$
[ok]
deps = base
run = touch ran-ok'
	run -1 clean "$WEFT" -k -j4 seg kil ok after
	grep -qx "weft: task 'seg' killed by SIGSEGV" err
	grep -qx "weft: task 'kil' killed by SIGKILL" err
	grep -Eqx 'weft: 3 done, 2 failed, 0 not started in [0-9.]+s' err
	[ -e ran-ok ]
	no_fd_leaked
	assert_no_leftovers
}

@test "weft exec: jobs killed by SIGSEGV and SIGKILL count as failed, the others run" {
	cat > job.sh << 'EOF'
case $1 in
base | after) exec sh probe.sh "$1" ;;
ok) touch ran-ok ;;
*) ulimit -c 0; kill -"$1" $$ ;;
esac
EOF
	run -2 clean "$WEFT" exec -j1 sh job.sh ::: base SEGV ok KILL after
	[ -e ran-ok ]
	[ ! -s out ]
	no_fd_leaked
	assert_no_leftovers
}

@test "timeout: a grandchild whose parent already exited is stopped too" {
	# sh -c exits at once; its sleep is an orphan, but still in the group
	REPORTS=1 probed '[orphan]
deps = base
timeout = 1s
run = sh -c "sleep 1000 & echo \$! > grandchild.pid"; touch parent.gone; sleep 1000'
	run -1 clean "$WEFT" -k -j2 orphan after
	[ -e parent.gone ]
	grep -qx "weft: task 'orphan' timed out after 1s" err
	# gone, or a zombie nobody reaps (its parent was not weft)
	local gc stat
	gc=$(cat grandchild.pid)
	# Read once: a zombie may be reaped between a check and a read.
	stat=$(cat "/proc/$gc/stat" 2> /dev/null) || stat=''
	if [ -n "$stat" ]; then
		[ "$(sed 's/.*) //' <<< "$stat" | cut -d' ' -f1)" = Z ]
	fi
	no_fd_leaked
	assert_no_leftovers
}

@test "weft exec --timeout: a grandchild whose parent already exited is stopped too" {
	cat > job.sh << 'EOF'
case $1 in
base | after) exec sh probe.sh "$1" ;;
orphan) sh -c 'sleep 1000 & echo $! > grandchild.pid'; touch parent.gone; sleep 1000 ;;
esac
EOF
	run -1 clean "$WEFT" exec -j1 --timeout 3s sh job.sh ::: base orphan after
	[ -e parent.gone ]
	[ "$(head -n 1 err)" = 'weft exec: warning: this job was killed because it timed out:' ]
	no_fd_leaked
	assert_no_leftovers
}

@test "weft exec, and raw output: a job that leaves 'sleep 1000 &' ends, the sleeper is stopped" {
	# (group and line output of a recipe: t/300-process.bats)
	cat > job.sh << 'EOF'
case $1 in
base | after) exec sh probe.sh "$1" ;;
bg) sleep 1000 & echo started ;;
esac
EOF
	run -0 clean timeout 20 "$WEFT" exec -j1 -k sh job.sh ::: base bg after
	[ "$(cat out)" = started ]
	no_fd_leaked
	assert_no_leftovers
	rm -f base.* after.*
	probed '[bg]
deps = base
run = sleep 1000 & echo started'
	run -0 clean timeout 20 "$WEFT" --output=raw -j1 bg after
	[ "$(cat out)" = started ]
	no_fd_leaked
	assert_no_leftovers
}

@test "a grandchild that escapes the process group (setsid) and holds the pipes: weft still ends" {
	# Out of weft's reach: after --grace weft stops waiting for the pipes.
	probed '[escape]
deps = base
run = setsid sh -c "echo \$\$ > escaped.tmp; mv escaped.tmp escaped.pid; exec sleep 1000" &
  i=0; while [ ! -e escaped.pid ] && [ $i -lt 500 ]; do i=$((i + 1)); sleep 0.02; done
  echo started'
	run -0 clean timeout 60 "$WEFT" -j1 --grace=500ms escape after
	[ "$(cat out)" = started ]
	no_fd_leaked
	# the escaped sleep is the test's to stop
	kill "$(cat escaped.pid)"
	local i
	for ((i = 0; i < 250; i++)); do
		[ -z "$(leftovers)" ] && break
		sleep 0.02
	done
	assert_no_leftovers
}

@test "a job that closes its stdout, then runs on and writes to stderr: all of it arrives" {
	# 'early' goes on only after 'other' saw its stdout closed
	REPORTS=1 probed '[early]
deps = base
run = echo before; exec >&-; touch early.closed
  i=0; while [ ! -e go ] && [ $i -lt 500 ]; do i=$((i + 1)); sleep 0.02; done
  [ -e go ]
  for i in $(seq 1 1000); do echo "err $i" >&2; done
  exit 3
[other]
deps = base
run = i=0; while [ ! -e early.closed ] && [ $i -lt 500 ]; do i=$((i + 1)); sleep 0.02; done; touch go'
	seq 1 1000 | sed 's/^/err /' > err.want
	local mode prefix
	for mode in group line raw; do
		rm -f early.closed go base.* after.*
		run -1 clean "$WEFT" --output=$mode -k -j3 early other after
		prefix=''
		[ $mode != line ] || prefix='early | '
		[ "$(cat out)" = "${prefix}before" ]
		grep -v '^weft: ' err | sed "s/^$prefix//" > err.got
		cmp err.want err.got
		grep -qx "weft: task 'early' failed (exit 3)" err
		grep -Eqx 'weft: 3 done, 1 failed, 0 not started in [0-9.]+s' err
		no_fd_leaked
		assert_no_leftovers
	done
}

# write_both: both.py FILE1 FILE2 writes FILE1 to stdout and FILE2 to
# stderr, 64 KiB of each in turn: a reader that drains one pipe first
# deadlocks it.
write_both() {
	cat > both.py << 'EOF'
import sys
a, b = open(sys.argv[1], "rb"), open(sys.argv[2], "rb")
while True:
    x, y = a.read(65536), b.read(65536)
    if not x and not y:
        break
    sys.stdout.buffer.write(x)
    sys.stdout.buffer.flush()
    sys.stderr.buffer.write(y)
    sys.stderr.buffer.flush()
EOF
}

# both_exact SUMMARY-REGEX: out is big1, err is big2 and then one line
# matching SUMMARY-REGEX (none when empty); peak RSS (./rss) is bounded.
both_exact() {
	cmp big1 out
	cmp -n 100000000 big2 err
	if [ -n "$1" ]; then
		tail -c +100000001 err > err.tail
		grep -Eqx "$1" err.tail
		[ "$(wc -l < err.tail)" -eq 1 ]
	else
		[ "$(stat -c %s err)" -eq 100000000 ]
	fi
	echo "peak RSS $(tail -n 1 rss) KiB"
	[ "$(tail -n 1 rss)" -lt "${WEFT_RSS_MAX_KB:-65536}" ]
}

@test "100 MB on stdout and 100 MB on stderr at once: no deadlock, byte-exact, weft stays small" {
	head -c 100000000 /dev/urandom > big1
	head -c 100000000 /dev/urandom > big2
	write_both
	recipe '[big]
run = python3 both.py big1 big2'
	local mode
	for mode in group raw; do
		run -0 /usr/bin/time -f %M -o rss timeout 120 sh -c '"$0" -q --output='$mode' > out 2> err' "$WEFT"
		both_exact 'weft: 1 task done in [0-9.]+s'
		rm -f out err
	done
	run -0 /usr/bin/time -f %M -o rss timeout 120 sh -c '"$0" exec python3 both.py ::: big1 ::: big2 > out 2> err' "$WEFT"
	both_exact ''
	rm -f out err big1 big2
	assert_no_leftovers
}

@test "weft exec: a job reading stdin gets EOF at once and does not eat the inputs" {
	# weft reads its inputs from a pipe that stays open: a job reading
	# that pipe would block, and eat the inputs after its own
	mkfifo fifo
	"$WEFT" exec -j1 -k 'readlink /proc/self/fd/0 > {}.stdin; timeout 20 cat > {}.ate; echo {}' \
		< fifo > out 2> err &
	local pid=$! w
	exec {w}> fifo
	echo a >&$w
	wait_for a.stdin
	printf 'b\nc\n' >&$w
	exec {w}>&-
	wait $pid && status=0 || status=$?
	[ "$status" -eq 0 ]
	printf '%s\n' a b c > want
	cmp want out
	[ ! -s err ]
	local i
	for i in a b c; do
		[ "$(cat $i.stdin)" = /dev/null ]
		[ ! -s $i.ate ]
	done
	assert_no_leftovers
}

# killed_by SIG ARGS...: starts weft ARGS, whose two jobs each leave a
# background sleeper and say they run (NAME.ready); kills weft with SIG
# once both run. Every job, and what it started, must be gone within a
# second, though weft had no chance to stop them.
killed_by() {
	local sig=$1
	shift
	rm -f ./*.ready
	start_weft "$@"
	wait_for a.ready
	wait_for b.ready
	kill -"$sig" "$pid"
	wait_weft 5
	[ "$status" -eq $((128 + $(kill -l "$sig"))) ]
	wait_gone 1
}

@test "weft killed by SIGKILL, or by a signal it does not handle: its jobs and what they started go too" {
	cat > job.sh << 'EOF2'
sleep 300 &
touch "$1.ready"
sleep 200
EOF2
	recipe '[all]
deps = a b
[a]
run = sh job.sh a
[b]
run = sh job.sh b'
	local sig
	# (Not SIGQUIT, nor SIGALRM: a shell's `&`, or bats, starts weft with
	# them ignored.)
	for sig in KILL USR1 USR2; do
		killed_by "$sig" -j2 all
	done
	killed_by KILL exec -j2 sh job.sh ::: a b < /dev/null
	killed_by KILL -j2 --cluster 2 all
}
