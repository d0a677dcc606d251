#!/usr/bin/env bats
# weft itself under fire: signals from CI runners, a reader that goes
# away, standard fds closed, few fds allowed. The basic signal cases
# (SIGINT, SIGTERM, SIGHUP to a recipe run, a second SIGINT, SIGINT to the
# group, | head -1 in line and raw output) are in t/900-signals.bats, and
# SIGTERM to weft exec in t/420-exec.bats; a full disk under the joblog
# is in t/410-joblog.bats and t/440-exec-joblog.bats. Jobs say they run
# with marker files and list their own fds; every wait is bounded.
load helpers/common
load helpers/background

setup() { common_setup; }

# clean ARGS: runs ARGS with only fds 0, 1 and 2 open, stdout in ./out
# and stderr in ./err.
clean() {
	bash -c 'for fd in /proc/$$/fd/*; do fd=${fd##*/}
		[ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
		exec "$@" > out 2> err' clean "$@"
}

# own_fds FILE...: each FILE (a job's `ls /proc/self/fd`, less the two fds
# of weft's jobserver that MAKEFLAGS names) is 0 1 2 3.
own_fds() {
	local f
	printf '%s\n' 0 1 2 3 > fds.want
	[ $# -gt 0 ] || fail "no fd listing"
	for f in "$@"; do
		if ! cmp -s fds.want "$f"; then
			echo "$f: a job saw fds it should not have:" $(cat "$f") >&2
			return 1
		fi
	done
}

# job.sh NAME: lists its fds to NAME.fds, starts a grandchild, says it
# runs (NAME.ready) and waits. Named 'stubborn' it ignores SIGTERM; named
# 'polite' it notes SIGTERM (polite.term) and exits 0.
write_job() {
	cat > job.sh << 'EOF'
js=${MAKEFLAGS##*=}; ls /proc/self/fd | grep -vx -e "${js%,*}" -e "${js#*,}" > "$1.fds"
case $1 in
stubborn) trap '' TERM ;;
polite) trap 'echo TERM >> polite.term; exit 0' TERM ;;
esac
sleep 1000 &
touch "$1.ready"
wait
wait
EOF
}

@test "SIGHUP and SIGINT to weft exec while jobs run: 129 and 130, no leftovers" {
	write_job
	local sig st
	for sig in HUP:129 INT:130; do
		st=${sig#*:}
		sig=${sig%:*}
		rm -f ./*.ready ./*.fds
		start_weft exec -j2 sh job.sh ::: a b c
		wait_for a.ready
		wait_for b.ready
		kill -"$sig" "$pid"
		wait_weft
		[ "$status" -eq "$st" ]
		[ ! -e c.ready ]
		own_fds a.fds b.fds
		assert_no_leftovers
	done
}

@test "SIGTERM to weft's whole process group (docker stop, CI runners): 143, each job sees one SIGTERM at most" {
	cat > term.sh << 'EOF'
trap 'echo TERM >> "$1.sig"; exit 0' TERM
sleep 1000 &
touch "$1.ready"
wait
wait
EOF
	recipe '[all]
deps = j1 j2
[j1]
run = sh term.sh j1
[j2]
run = sh term.sh j2'
	local mode
	for mode in recipe exec; do
		rm -f ./*.ready ./*.sig
		touch j1.sig j2.sig
		if [ $mode = recipe ]; then
			start_weft --setsid -j2
		else
			start_weft --setsid exec -j2 sh term.sh ::: j1 j2
		fi
		wait_for j1.ready
		wait_for j2.ready
		kill -TERM -- "-$pid"
		wait_weft
		[ "$status" -eq 143 ]
		echo "$mode: j1: $(cat j1.sig) j2: $(cat j2.sig)"
		[ "$(wc -l < j1.sig)" -le 1 ]
		[ "$(wc -l < j2.sig)" -le 1 ]
		assert_no_leftovers
	done
}

# second_signal SIG STATUS ARGS: starts weft ARGS (jobs 'stubborn', which
# outlives the 60 s grace, and 'polite'), sends SIG, waits until 'polite'
# got its SIGTERM (weft is in its grace period), sends SIG again: weft
# must end at once with STATUS.
second_signal() {
	local sig=$1 st=$2
	shift 2
	write_job
	start_weft "$@"
	wait_for stubborn.ready
	wait_for polite.ready
	kill -"$sig" "$pid"
	wait_for polite.term
	kill -0 "$pid"
	kill -"$sig" "$pid"
	wait_weft 10
	[ "$status" -eq "$st" ]
	own_fds stubborn.fds polite.fds
	assert_no_leftovers
}

@test "a second SIGTERM during the grace period kills at once" {
	recipe '[all]
deps = stubborn polite
[stubborn]
run = sh job.sh stubborn
[polite]
run = sh job.sh polite'
	second_signal TERM 143 -j2 --grace=60s
}

@test "weft exec: a second SIGTERM during the grace period kills at once" {
	second_signal TERM 143 exec -j2 --grace 60s sh job.sh ::: stubborn polite
}

@test "weft exec: a second SIGINT during the grace period kills at once" {
	second_signal INT 130 exec -j2 --grace 60s sh job.sh ::: stubborn polite
}

# head_one COMMAND: runs COMMAND (weft writing to a pipe) | head -n 1 with
# stderr in ./err, bounded; head's line in ./out, weft's status in ./rc.
head_one() {
	run -0 timeout 30 bash -c "$1"' 2> err | head -n 1 > out; echo "${PIPESTATUS[0]}" > rc'
}

# quiet_end: weft died of SIGPIPE (141), said nothing of a broken pipe,
# and left nothing running.
quiet_end() {
	[ "$(cat rc)" -eq 141 ]
	if grep -Eiq 'broken pipe|epipe' err; then
		cat err >&2
		return 1
	fi
	assert_no_leftovers
}

@test "weft | head -1 in group output, while another job still runs: 141, the job stopped" {
	# 'big' ends and is printed whole (more than a pipe holds) while
	# 'forever' runs on
	recipe '[all]
deps = big forever
[big]
run = seq 1 200000
[forever]
run = sleep 1000 & touch forever.ready; wait'
	export WEFT
	head_one '"$WEFT" --output=group -j2'
	[ "$(cat out)" = 1 ]
	quiet_end
}

@test "weft exec | head -1: raw output, and group output while another job still runs" {
	export WEFT
	head_one '"$WEFT" exec --output=raw yes ::: x < /dev/null'
	[ "$(cat out)" = x ]
	quiet_end
	head_one '"$WEFT" exec -j2 "case {} in big) seq 1 200000 ;; *) sleep 1000 ;; esac" ::: forever big < /dev/null'
	[ "$(cat out)" = 1 ]
	quiet_end
}

# all_tasks: weft.ini with [all] and a b c; c exits $C_STATUS; a copy in
# weft.ini.orig.
all_tasks() {
	recipe '[all]
deps = a b c
[a]
run = echo out-a; echo err-a >&2; js=${MAKEFLAGS##*=}; ls /proc/self/fd | grep -vx -e "${js%,*}" -e "${js#*,}" > a.fds; touch ran-a
[b]
run = seq 1 100000; touch ran-b
[c]
run = echo out-c; touch ran-c; exit $C_STATUS'
	cp weft.ini weft.ini.orig
}

@test "weft with stdout closed: no crash, the jobs run, the exit status is theirs" {
	all_tasks
	local mode
	for mode in group line raw; do
		rm -f ran-* a.fds
		run -0 env C_STATUS=0 bash -c 'exec "$0" --output='$mode' >&- 2> err' "$WEFT"
		[ -e ran-a ]
		[ -e ran-b ]
		[ -e ran-c ]
		grep -Eqx 'weft: 4 tasks done in [0-9.]+s' err
		run -1 env C_STATUS=3 bash -c 'exec "$0" --output='$mode' >&- 2> err' "$WEFT"
		grep -qx "weft: task 'c' failed (exit 3)" err
		# weft wrote nothing into a file it had open
		cmp weft.ini.orig weft.ini
	done
	assert_no_leftovers
}

@test "weft with stdin, stdout and stderr all closed: the jobs run, the exit status is theirs, no fd mixed up" {
	all_tasks
	local mode
	for mode in group line raw; do
		rm -f ran-* a.fds
		run -0 env C_STATUS=0 bash -c 'for fd in /proc/$$/fd/*; do fd=${fd##*/}
			[ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
			exec "$0" --output='$mode' <&- >&- 2>&-' "$WEFT"
		[ -e ran-a ]
		[ -e ran-b ]
		[ -e ran-c ]
		own_fds a.fds
		run -1 env C_STATUS=3 bash -c 'exec "$0" --output='$mode' <&- >&- 2>&-' "$WEFT"
		cmp weft.ini.orig weft.ini
	done
	assert_no_leftovers
}

@test "weft exec with stdout closed: no crash, the jobs run, the joblog gets only its records" {
	run -0 bash -c 'exec "$0" exec -k --joblog log "echo out {}; seq 1 100000; touch ran-{}" ::: a b c < /dev/null >&- 2> err' "$WEFT"
	[ -e ran-a ]
	[ -e ran-b ]
	[ -e ran-c ]
	[ ! -s err ]
	[ "$(wc -l < log)" -eq 4 ]
	[ "$(head -n 1 log)" = "$(printf 'Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand')" ]
	[ "$(grep -c $'\t0\t0\techo out ' log)" -eq 3 ]
	run -2 bash -c 'exec "$0" exec "touch ran2-{}; exit {}" ::: 0 3 4 < /dev/null >&- 2> err' "$WEFT"
	[ -e ran2-0 ]
	[ -e ran2-3 ]
	[ -e ran2-4 ]
	run -2 bash -c 'exec "$0" exec "touch ran3-{}; exit {}" ::: 0 3 4 <&- >&- 2>&-' "$WEFT"
	[ -e ran3-0 ]
	[ -e ran3-3 ]
	[ -e ran3-4 ]
	assert_no_leftovers
}

# fdjob.sh NAME: records how many fds weft (its nearest weft ancestor)
# holds, to weft-fds.NAME, and the fds it holds itself, to self-fds.NAME.
write_fdjob() {
	WEFT_EXE=$(readlink -f "$WEFT")
	export WEFT_EXE
	# Shell built-ins where they do: 50 jobs at once on two cores.
	cat > fdjob.sh << 'EOF'
w=$PPID
while [ "$w" -gt 1 ] && ! [ "/proc/$w/exe" -ef "$WEFT_EXE" ]; do
	w=$(sed -n 's/^PPid:[[:space:]]*//p' "/proc/$w/status")
done
set -- "$1" "/proc/$w/fd/"*
echo $(($# - 1)) > "weft-fds.$1"
js=${MAKEFLAGS##*=}; ls /proc/self/fd | grep -vx -e "${js%,*}" -e "${js#*,}" > "self-fds.$1"
EOF
}

# fds_bounded: 100 jobs ran; weft never held 64 fds or more; no job saw
# an fd of weft's; the warning, or a clear error, is on stderr.
fds_bounded() {
	[ "$(ls weft-fds.* | wc -l)" -eq 50 ]
	local most
	most=$(cat weft-fds.* | sort -n | tail -n 1)
	echo "weft held at most $most fds"
	[ "$most" -lt 64 ]
	own_fds self-fds.*
	grep -Eq '^weft( exec)?: warning: ' err
}

@test "ulimit -n 64 and -j 50 with 50 tasks: fewer at once with a warning, all finish, no fd leaks" {
	write_fdjob
	local i text='' names=''
	for i in $(seq 1 50); do
		names="$names t$i"
		text="$text
[t$i]
run = sh fdjob.sh t$i"
	done
	recipe "[all]
deps =$names$text"
	run -0 clean sh -c 'ulimit -n 64 && exec "$0" -j 50' "$WEFT"
	grep -Eqx 'weft: 51 tasks done in [0-9.]+s' err
	fds_bounded
	assert_no_leftovers
}

@test "weft exec: ulimit -n 64 and -j 50 with 50 jobs: fewer at once with a warning, all finish, no fd leaks" {
	write_fdjob
	run -0 clean sh -c 'ulimit -n 64 && exec "$0" exec -j 50 sh fdjob.sh ::: $(seq 1 50) < /dev/null' "$WEFT"
	fds_bounded
	assert_no_leftovers
}

@test "stdout on a full disk (/dev/full): the output is lost, so weft says so and does not exit 0" {
	recipe '[a]
run = echo hello'
	local mode
	for mode in group line raw; do
		run -1 --separate-stderr bash -c '"$0" -q --output="$1" > /dev/full' "$WEFT" "$mode"
		assert_equal "${stderr_lines[0]}" "weft: output was lost: No space left on device"
	done
	run -255 --separate-stderr bash -c '"$0" exec echo ::: a b > /dev/full' "$WEFT"
	assert_equal "$stderr" "weft exec: output was lost: No space left on device"
	# Nobody reading is no loss to report: SIGPIPE, quietly. (The pipe's
	# reader is gone before weft starts, so there is no race.)
	run -141 --separate-stderr python3 -c 'import os, sys
r, w = os.pipe()
os.close(r)
os.dup2(w, 1)
os.execv(sys.argv[1], sys.argv[1:])' "$WEFT" -q
	assert_equal "$stderr" ""
}
