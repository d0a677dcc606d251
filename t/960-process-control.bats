#!/usr/bin/env bats
# Faults of process control and of weft's own state: signals during scans,
# FIFOs where files were expected, a full disk under .weft/, Ctrl-Z, jobs
# that want the terminal, weft as PID 1, and records of tasks long gone.
# Every wait is bounded; no test depends on how fast anything runs.
load helpers/common
load helpers/background

setup() { common_setup; }

teardown() {
	cd "$BATS_TEST_TMPDIR" || return 1
	# A weft under script(1) outlives a failed test's kill of script.
	local w
	w=$(cat weft.pid 2> /dev/null) || w=
	if [ -n "$w" ] && [ "$(cat "/proc/$w/comm" 2> /dev/null)" = weft ]; then
		kill -9 "$w"
	fi
	if [ -n "${MOUNTED:-}" ]; then
		umount "$MOUNTED" || umount -l "$MOUNTED"
	fi
}

# small_fs DIR: a 512 KiB tmpfs at DIR, unmounted in teardown (root only).
small_fs() {
	[ "$(id -u)" -eq 0 ] || skip "mounting a tmpfs needs root"
	mkdir -p "$1"
	mount -t tmpfs -o size=512k tmpfs "$1" || skip "cannot mount a tmpfs here"
	MOUNTED=$PWD/$1
}

# wait_open PID NAME: waits (bounded) until process PID holds open a
# file whose path ends in NAME.
wait_open() {
	local i
	for ((i = 0; i < 500; i++)); do
		ls -l "/proc/$1/fd" 2> /dev/null | grep -q -- "$2\$" && return 0
		sleep 0.02
	done
	echo "weft never opened $2" >&2
	return 1
}

@test "SIGINT while a source is hashed on a worker thread stops weft at once" {
	# A 4 TiB sparse source takes many minutes to hash: only a cancelled
	# hash lets weft end within wait_weft's bound.
	truncate -s 4T big || skip "no sparse files here"
	recipe '[a]
sources = big
run = touch ran'
	start_weft
	wait_open "$pid" /big
	kill -INT "$pid"
	wait_weft
	[ "$status" -eq 130 ]
	[ ! -e ran ]
	# Nothing is said about the cut-short check but the interruption.
	run -0 grep -c . err
	[ "$output" = 1 ]
	grep -q '^weft: interrupted by SIGINT' err
	assert_no_leftovers
}

@test "a FIFO with no writer: a step's timeout and Ctrl-C work, lines: waits and stops; with a writer both read it" {
	mkfifo ff
	recipe '[a]
step = hash ff
timeout = 300ms
[b]
foreach = lines:ff
run = echo item {}
[c]
step = grep x ff
timeout = 300ms'
	# No writer ever comes: the steps time out (they would have hung in
	# open(2), where no timeout reached them).
	start_weft -k a c
	wait_weft
	[ "$status" -eq 1 ]
	grep -qx "weft: task 'a' timed out after 300ms" err
	grep -qx "weft: task 'c' timed out after 300ms" err
	# The items of b wait for a writer, and SIGINT ends the wait.
	start_weft b
	wait_open "$pid" /ff
	kill -INT "$pid"
	wait_weft
	[ "$status" -eq 130 ]
	# With a writer, the items are its lines.
	start_weft b
	wait_open "$pid" /ff
	printf 'x\ny\n' > ff
	wait_weft
	[ "$status" -eq 0 ]
	grep -qx 'item x' out
	grep -qx 'item y' out
	assert_no_leftovers
}

@test "full disk under .weft/: a task whose old success cannot be withdrawn does not run" {
	small_fs fs
	cd fs
	# No outputs declared: only the withdrawn record stops a broken out
	# from being called up to date later.
	recipe '[a]
sources = in
run = touch ../ran; cat in > out && head -c 65536 /dev/zero > scratch && rm scratch'
	echo v1 > in
	run -0 "$WEFT" -q a
	[ "$(cat out)" = v1 ]
	echo v2 > in
	rm ../ran
	dd if=/dev/zero of=filler bs=4k 2> /dev/null || true
	# It would write out and then fail; it must not run at all.
	run -1 "$WEFT" a
	assert_output --partial "weft: task 'a' does not run: cannot withdraw its recorded success in .weft/: No space left on device"
	[ ! -e ../ran ]
	[ "$(cat out)" = v1 ]
	# Space back, the source back as it was: out is what a success made.
	rm filler
	echo v1 > in
	run -0 "$WEFT" a
	[ ! -e ../ran ]
	[ "$(cat out)" = v1 ]
	# And with v2 it runs, now that the withdrawal can be written.
	echo v2 > in
	run -0 "$WEFT" a
	[ -e ../ran ]
	[ "$(cat out)" = v2 ]
}

# proc_state PID: the one-letter state of process PID (R, S, T, Z...).
proc_state() {
	local stat
	stat=$(cat "/proc/$1/stat" 2> /dev/null) || return 1
	stat=${stat##*) }
	echo "${stat%% *}"
}

# wait_state PID STATE: waits (bounded) until process PID is in STATE.
wait_state() {
	local i
	for ((i = 0; i < 500; i++)); do
		[ "$(proc_state "$1")" = "$2" ] && return 0
		sleep 0.02
	done
	echo "process $1 is $(proc_state "$1"), not $2" >&2
	return 1
}

@test "Ctrl-Z stops every job's process group, then weft; SIGCONT goes on, the time stopped not counted against timeouts" {
	# The job waits in a read, not in a loop of sleeps: a shell stopped
	# while it starts a process can stay in state D, not T, until resumed.
	mkfifo go
	recipe '[a]
timeout = 2s
run = echo $$ > a.pid; sleep 1000 & echo $! > child.pid; read x < go; kill $!'
	start_weft
	wait_for child.pid
	kill -TSTP "$pid"
	wait_state "$pid" T
	wait_state "$(cat a.pid)" T
	wait_state "$(cat child.pid)" T
	# Stopped longer than the timeout: only the time running counts.
	sleep 2.5
	kill -CONT "$pid"
	wait_state "$(cat a.pid)" S
	timeout 10 sh -c 'echo > go'
	wait_weft
	[ "$status" -eq 0 ]
	# Stopped by weft itself: not reported as a job that stopped.
	run -1 grep -q 'stopped:' err
	assert_no_leftovers
}

# tty_owner PID: the process group that has the terminal of process PID
# (tpgid in /proc/PID/stat).
tty_owner() {
	local stat
	stat=$(cat "/proc/$1/stat") || return 1
	stat=${stat##*) }
	echo "$stat" | cut -d' ' -f6
}

@test "Ctrl-Z while a console job has the terminal: weft takes it back and stops; fg gives it back to the job" {
	recipe '[a]
console = true
run = echo $$ > c.pid; while [ ! -e go ]; do sleep 0.05; done; touch a.done'
	script -qfec "echo \$\$ > weft.pid; exec '$WEFT' -q a 2> err" /dev/null < /dev/null > /dev/null 3>&- &
	pid=$!
	wait_for c.pid
	w=$(cat weft.pid) c=$(cat c.pid)
	[ "$(tty_owner "$w")" = "$c" ]
	# what the terminal does on Ctrl-Z: SIGTSTP to its foreground group
	kill -TSTP -- "-$c"
	wait_state "$w" T
	wait_state "$c" T
	[ "$(tty_owner "$w")" = "$w" ]
	# script(1) stops itself when its child stops, and continues both
	kill -CONT "$pid"
	wait_state "$c" S
	[ "$(tty_owner "$w")" = "$c" ]
	touch go
	wait_weft
	[ "$status" -eq 0 ]
	[ -e a.done ]
	run -1 grep -q 'stopped' err
}

# wait_text FILE TEXT: waits (bounded) until FILE holds TEXT.
wait_text() {
	local i
	for ((i = 0; i < 500; i++)); do
		grep -qF -- "$2" "$1" 2> /dev/null && return 0
		sleep 0.02
	done
	echo "no '$2' in $1:" >&2
	cat "$1" >&2
	return 1
}

@test "on a terminal, a job that wants it or stops itself is reported at once; stopped jobs still end" {
	# a: the job's shell reads the terminal (SIGTTIN); b: it stops itself;
	# c: a process below the job's shell stops itself.
	recipe '[a]
run = read x < /dev/tty
[b]
run = kill -STOP $$
[c]
run = sh -c "kill -STOP \$\$"; true'
	# In a terminal of its own; SIGINT would be ignored there (bats starts
	# it with &), so SIGTERM ends it.
	script -qfec "echo \$\$ > weft.pid; exec '$WEFT' -k -j3 a b c 2> err" /dev/null < /dev/null > tty 3>&- &
	pid=$!
	wait_for weft.pid
	wait_text err "weft: job 'a' stopped: it wants the terminal (console = true gives a task's jobs the terminal)"
	wait_text err "weft: job 'b' stopped: it stopped itself (SIGSTOP)"
	wait_text err "weft: job 'c' stopped: 'sh' (process "
	kill -TERM "$(cat weft.pid)"
	wait_weft
	[ "$status" -eq 143 ]
	wait_gone
}

@test "as PID 1, orphans are reaped and every job's own exit status is kept" {
	[ "$(id -u)" -eq 0 ] || skip "a PID namespace needs root"
	unshare -fp --mount-proc true 2> /dev/null || skip "no PID namespaces here"
	# a leaves an orphan that ends at once; b sees it gone, not a zombie,
	# while weft still runs. The items of c leave orphans too and exit
	# with their own statuses, which weft must still read.
	recipe '[a]
run = sh -c '"'"'sleep 0 & echo $! > orphan.pid'"'"'
[b]
deps = a
run = i=0; while [ -e /proc/$(cat orphan.pid) ] && [ $i -lt 500 ]; do sleep 0.02; i=$((i+1)); done; [ ! -e /proc/$(cat orphan.pid) ]
[c]
foreach = 3 4 5 6 7 8
run = sh -c "sleep 0 &"; exit {}'
	run -1 unshare -fp --mount-proc "$WEFT" -k -j4 b c
	assert_output --partial "b: ok"
	for n in 3 4 5 6 7 8; do
		assert_output --partial "task 'c[$n]' failed (exit $n)"
	done
}

# The cache's test driver: --dump prints .weft/state as text.
CT="${CACHE_TEST:-$BATS_TEST_DIRNAME/../build/t/cache-test}"

# age_record NAME DAYS: .weft/state as if no run had named NAME for DAYS days
# (written back as text, which weft reads and saves again in binary).
age_record() {
	"$CT" --dump . | tail -n +2 | awk -F'\t' -v OFS='\t' -v n="$1" -v d=$(($(date +%s) / 86400 - $2)) \
		'$1 == "task" && $2 == n { $10 = d } { print }' > body
	printf 'weft-state\t3\t0123456789abcdef\t%s\t%s\n' "$(wc -c < body)" "$(xxhsum -H2 body | cut -d' ' -f1)" > .weft/state
	cat body >> .weft/state
}

# records: the names of the records in .weft/state, sorted, one a line.
records() {
	"$CT" --dump . | awk -F'\t' '$1 == "task" { print $2 }' | sort
}

@test "state records go: items no longer listed after a successful whole run, renamed or deleted tasks after a month unnamed" {
	echo 1 > s
	touch x.c y.c
	recipe '[a]
sources = s
run = true
[b]
sources = s
run = true
[each]
foreach = *.c
sources = {}
run = true'
	run -0 "$WEFT" -q a b each
	run -0 records
	assert_output "$(printf '%s\n' a b 'each[x.c]' 'each[y.c]')"
	# b renamed c, y.c deleted: a run of part of the recipe keeps them ...
	rm y.c
	recipe '[a]
sources = s
run = true
[c]
sources = s
run = test -e ok
[each]
foreach = *.c
sources = {}
run = true'
	run -0 "$WEFT" -q a
	run -0 records
	assert_output "$(printf '%s\n' a b 'each[x.c]' 'each[y.c]')"
	# ... and so does a run of the whole recipe that fails (c needs ok) ...
	run -1 "$WEFT" -q -k a c each
	run -0 records
	assert_output "$(printf '%s\n' a b c 'each[x.c]' 'each[y.c]')"
	# ... but a successful run of the whole recipe drops the items it no
	# longer lists (b may be a task of another recipe here: it stays).
	touch ok
	run -0 "$WEFT" -q a c each
	run -0 records
	assert_output "$(printf '%s\n' a b c 'each[x.c]')"
	# A record no run has named for a month goes at the next save, even
	# after a run of part of the recipe; one named a week ago stays.
	age_record b 40
	age_record a 7
	echo 2 > s
	run -0 "$WEFT" -q each
	run -0 records
	assert_output "$(printf '%s\n' a c 'each[x.c]')"
}

@test "console = true: jobs get the terminal, one at a time, beside other jobs; Control-C there ends the run" {
	# If a and b ever ran at once, one would be in the background and stop
	# on reading the terminal, and the run would never end.
	recipe '[all]
deps = a b c
[a]
console = true
run = test ! -e b.on || echo overlap > bad; touch a.on; read x < /dev/tty; echo "a got $x" > a.answer; rm a.on; test -t 0 && test -t 1 && test -t 2 && touch a.tty
[b]
console = true
run = test ! -e a.on || echo overlap > bad; touch b.on; read x < /dev/tty; echo "b got $x" > b.answer; rm b.on
[c]
run = echo c plain'
	printf 'one\ntwo\n' | timeout 20 script -qfec "'$WEFT' -j4 all 2> err" /dev/null > tty 3>&-
	[ -e a.tty ]
	[ ! -e bad ]
	run -0 cat a.answer b.answer
	# Which ran first is not fixed; each read one line.
	[[ "$output" == $'a got one\nb got two' || "$output" == $'a got two\nb got one' ]]
	grep -q 'c plain' tty
	# Control-C on the terminal reaches the console job; the run ends.
	recipe '[a]
console = true
run = touch a.ready; read x < /dev/tty
[b]
run = sleep 1000'
	run -130 timeout 20 script -qfec "'$WEFT' -j2 a b 2> err" /dev/null 3>&- < <(wait_for a.ready && printf '\003')
	grep -q "^weft: interrupted by SIGINT" err
	wait_gone
}
