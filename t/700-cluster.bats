#!/usr/bin/env bats
# --cluster N: jobs run on N `weft --runner` processes; the run looks the
# same as without; a runner that dies takes no job with it; a master that
# dies takes its runners and their jobs with it.
load helpers/common
load helpers/background

setup() {
	common_setup
	# runner.sh: prints the pid of the `weft --runner` this job runs under.
	cat > runner.sh <<'SH'
p=$PPID
while [ "$p" -gt 1 ] && ! tr '\0' ' ' < /proc/$p/cmdline | grep -q -- '--runner '; do
	p=$(cut -d' ' -f4 /proc/$p/stat)
done
echo "$p"
SH
}

# The summary line without its time.
summary() { sed -n 's/^\(weft: .*\) in [0-9.]*s\( (.*)\)\{0,1\}$/\1\2/p' err; }

@test "a recipe on --cluster 2: same output, summary and exit status as without" {
	recipe '[all]
deps = a items bad
[a]
run = echo from a
[items]
foreach = x y z
run = echo item {}
[bad]
run = echo failing >&2; exit 3
[after]
deps = bad
run = echo never'
	run -1 bash -c '"$WEFT" -k all after > out 2> err'
	sort out > plain.out
	summary > plain.sum
	grep -v '^weft: ' err | sort > plain.err
	run -1 bash -c '"$WEFT" -k --cluster 2 all after > out 2> err'
	sort out > cluster.out
	summary > cluster.sum
	grep -v '^weft: ' err | sort > cluster.err
	run -0 diff plain.out cluster.out
	run -0 diff plain.sum cluster.sum
	run -0 diff plain.err cluster.err
	run -0 cat cluster.sum
	assert_output "weft: 4 done, 1 failed, 2 not started"
}

@test "where pidfds are missing (Linux before 5.3, valgrind), a cluster run ends as soon as its jobs have" {
	recipe '[all]
deps = a b c
[a]
run = echo a
[b]
run = echo b
[c]
run = echo c'
	# The runners were waited for through SIGCHLD, as children that keep
	# the loop going: the run never ended.
	WEFT_NO_PIDFD=1 run -0 timeout -s KILL 30 "$WEFT" -q --cluster 2 all
	[ "$(grep -x '[abc]' <<<"$output" | sort | tr -d '\n')" = abc ]
	WEFT_NO_PIDFD=1 run -0 timeout -s KILL 30 "$WEFT" exec -q --cluster 2 echo ::: 1 2 3
	[ "$(grep -x '[123]' <<<"$output" | sort | tr -d '\n')" = 123 ]
}

@test "--cluster: a slot given by --rpl or --plus {0%} is never two running jobs' at once (jobs are not held ahead)" {
	# Three jobs at a time meet (or give up after 2 s); each holds a
	# marker named after its slot while it runs, created only if absent.
	cat > job.sh <<'SH'
set -C
: > "busy.$1" 2> /dev/null || { echo "clash $1"; exit 0; }
i=0
while [ "$i" -lt 200 ]; do
	set -- "$1" busy.*
	[ $# -gt 3 ] && break
	i=$((i + 1))
	sleep 0.01
done
rm -f "busy.$1"
echo ok
SH
	run -0 "$WEFT" exec --rpl '{s} $_=slot()' -j3 --cluster 2 sh job.sh {s} ::: $(seq 12)
	refute_output --partial clash
	[ "$(grep -cx ok <<<"$output")" -eq 12 ]
	run -0 "$WEFT" exec --plus -j3 --cluster 2 sh job.sh {0%} ::: $(seq 12)
	refute_output --partial clash
	[ "$(grep -cx ok <<<"$output")" -eq 12 ]
}

@test "--cluster 2 -j 2: two runner processes run one job each, at once" {
	# Each job waits for the other's marker: both can only succeed if they
	# run at the same time, and they do on different runners.
	cat > job.sh <<'SH'
sh runner.sh > runner.$1
touch started.$1
i=0
while [ ! -e started.$2 ] && [ $i -lt 500 ]; do i=$((i + 1)); sleep 0.02; done
[ -e started.$2 ]
SH
	run -0 "$WEFT" exec --cluster 2 -j 2 --events=ev.jsonl --link sh job.sh ::: a b ::: b a
	[ "$(cat runner.a)" -gt 1 ]
	[ "$(cat runner.b)" -gt 1 ]
	[ "$(cat runner.a)" != "$(cat runner.b)" ]
	run -0 jq -rs '[.[] | select(.event == "started") | .runner] | sort | join(" ")' ev.jsonl
	assert_output '1 2'
}

@test "--cluster: -j stays the run's limit, reached and never passed" {
	# Jobs hold their slot until three run at once (or one has finished):
	# the most seen at once is 3, never 4.
	cat > job.sh <<'SH'
touch on.$1
ls on.* | wc -l >> peak
i=0
while [ "$(ls on.* | wc -l)" -lt 3 ] && ! ls done.* > /dev/null 2>&1 && [ $i -lt 500 ]; do i=$((i + 1)); sleep 0.02; done
ls on.* | wc -l >> peak
touch done.$1
rm on.$1
SH
	run -0 "$WEFT" exec --cluster 2 -j 3 sh job.sh ::: 1 2 3 4 5
	[ "$(sort -n peak | tail -n 1)" -eq 3 ]
}

@test "--halt now,fail=1 on a cluster: no job after the failure starts, as without --cluster" {
	# fail ends once hold runs, so both have started when the run halts;
	# every later job could be waiting on a runner by then: none may run.
	cat > job.sh <<'SH'
case $1 in
fail)
	i=0
	while [ ! -e started.hold ] && [ $i -lt 500 ]; do i=$((i + 1)); sleep 0.02; done
	exit 1 ;;
hold) touch started.hold; sleep 30 ;;
*) touch ran.$1 ;;
esac
SH
	run "$WEFT" exec -j 2 --halt now,fail=1 --events=plain.jsonl sh job.sh ::: fail hold 3 4 5 6 7 8
	plain=$status
	[ ! -e ran.3 ]
	rm -f started.hold
	run "$WEFT" exec --cluster 2 -j 2 --halt now,fail=1 --events=cluster.jsonl sh job.sh ::: fail hold 3 4 5 6 7 8
	[ "$status" -eq "$plain" ]
	[ "$status" -ne 0 ]
	run -0 ls
	refute_output --partial ran.
	for f in plain cluster; do
		jq -rs '[.[] | select(.event == "started") | .id] | sort | join(" ")' $f.jsonl > $f.started
		jq -rs '[.[] | select(.event == "finished") | .id] | sort | join(" ")' $f.jsonl > $f.finished
	done
	run -0 cat cluster.started
	assert_output '1 2'
	run -0 diff plain.started cluster.started
	run -0 diff plain.finished cluster.finished
}

@test "a job held behind a long one is handed back to a runner that has nothing to do" {
	# a waits for c; b ends at once. c is sent to a's runner, behind a
	# (both runners have one job): only if it is handed back to b's runner
	# once b is over can a ever end.
	cat > job.sh <<'SH'
case $1 in
a)
	i=0
	while [ ! -e ran.c ] && [ $i -lt 500 ]; do i=$((i + 1)); sleep 0.02; done
	[ -e ran.c ] ;;
*) touch ran.$1 ;;
esac
SH
	run -0 "$WEFT" exec --cluster 2 -j 2 --events=ev.jsonl sh job.sh ::: a b c
	[ -e ran.b ]
	[ -e ran.c ]
	run -0 jq -rs '[.[] | select(.event == "started") | .id] | sort | join(" ")' ev.jsonl
	assert_output '1 2 3'
	run -0 jq -rs '[.[] | select(.event == "started") | .slot] | sort | join(" ")' ev.jsonl
	assert_output '1 2 2'
}

@test "a recipe that stops on a failure: the jobs its runners hold never start, as without --cluster" {
	# fail ends once hold runs; hold ends once weft has taken in the
	# failure (its line is on stderr), so that no slot is free before.
	# Each runner holds later tasks by then: none may run.
	local names='' n
	for n in 3 4 5 6 7 8 9 10; do
		names="$names t$n"
		printf '[t%s]\nrun = touch ran.t%s\n' "$n" "$n" >> tasks.ini
	done
	recipe "[all]
deps = fail hold$names
[fail]
run = i=0; while [ ! -e started.hold ] && [ \$i -lt 500 ]; do i=\$((i + 1)); sleep 0.02; done; exit 1
[hold]
run = touch started.hold; i=0; while ! grep -q 'fail: exit 1' err && [ \$i -lt 500 ]; do i=\$((i + 1)); sleep 0.02; done
$(cat tasks.ini)"
	run -1 bash -c '"$WEFT" -j 2 --events=plain.jsonl all 2> err'
	run -0 summary
	assert_output "weft: 1 done, 1 failed, 9 not started"
	summary > plain.sum
	run -0 ls
	refute_output --partial ran.
	rm -f started.hold err
	run -1 bash -c '"$WEFT" --cluster 2 -j 2 --events=cluster.jsonl all 2> err'
	summary > cluster.sum
	run -0 diff plain.sum cluster.sum
	run -0 ls
	refute_output --partial ran.
	local f e
	for f in plain cluster; do
		for e in started finished skipped; do
			jq -rs "[.[] | select(.event == \"$e\") | .id] | sort | join(\" \")" $f.jsonl > $f.$e
		done
	done
	run -0 diff plain.started cluster.started
	run -0 diff plain.finished cluster.finished
	run -0 diff plain.skipped cluster.skipped
}

@test "a runner killed with -9: the jobs it held that had not started run elsewhere, not counted as run again" {
	# a kills its own runner while that runner holds jobs behind it; b
	# keeps the other runner busy until then. Even with --requeue 0, only
	# a is lost.
	cat > job.sh <<'SH'
case $1 in
a) p=$(sh runner.sh); touch killing; kill -9 "$p"; sleep 30 ;;
b)
	i=0
	while [ ! -e killing ] && [ $i -lt 500 ]; do i=$((i + 1)); sleep 0.02; done ;;
*) echo x >> ran.$1 ;;
esac
SH
	run -1 --separate-stderr "$WEFT" exec --cluster 2 -j 2 --requeue 0 sh job.sh ::: a b c d e f g h
	[[ $stderr == *"weft exec: 'sh job.sh a' is lost: its runner died"* ]]
	[[ $stderr != *"'sh job.sh c' is lost"* ]]
	for n in c d e f g h; do
		[ "$(cat ran.$n)" = x ]
	done
}

@test "a runner killed with -9: its jobs run again elsewhere, nothing is lost, nothing that finished runs twice" {
	cat > job.sh <<'SH'
echo start >> log.$1
sh runner.sh > runner.$1.new
mv runner.$1.new runner.$1
i=0
while [ ! -e go ] && [ $i -lt 3000 ]; do i=$((i + 1)); sleep 0.02; done
echo end >> log.$1
SH
	start_weft exec --cluster 2 -j 4 sh job.sh ::: 1 2 3 4
	local n
	for n in 1 2 3 4; do wait_for "runner.$n"; done
	local victim again=0
	victim=$(cat runner.1)
	for n in 1 2 3 4; do
		if [ "$(cat "runner.$n")" = "$victim" ]; then again=$((again + 1)); fi
	done
	kill -9 "$victim"
	# The jobs that ran there start again, once each, elsewhere, while the
	# others still run: the runner's jobserver tokens are not lost with it.
	# (The jobs wait a minute for go; this, ten seconds at most.)
	local starts end=$((SECONDS + 10))
	while [ "$SECONDS" -lt "$end" ]; do
		starts=$(cat log.* | grep -c start)
		[ "$starts" -eq $((4 + again)) ] && break
		sleep 0.02
	done
	touch go
	[ "$starts" -eq $((4 + again)) ]
	wait_weft
	[ "$status" -eq 0 ]
	for n in 1 2 3 4; do
		run -0 tail -n 1 "log.$n"
		assert_output end
		[ "$(grep -c end "log.$n")" -eq 1 ]
	done
	[ "$(cat log.* | grep -c start)" -eq $((4 + again)) ]
	run -0 grep -c 'runs again: its runner died' err
	assert_output "$again"
	# The killed runner's guard stopped its jobs, and goes in its own time.
	wait_gone 2
}

@test "the master killed with -9: its runners and their jobs are gone at once" {
	echo 'touch on.$1; exec sleep 300' > job.sh
	start_weft exec --cluster 2 -j 4 sh job.sh ::: 1 2 3 4
	local n
	for n in 1 2 3 4; do wait_for "on.$n"; done
	kill -9 "$pid"
	wait_weft
	local i
	for ((i = 0; i < 50; i++)); do
		[ -z "$(leftovers)" ] && break
		sleep 0.02
	done
	assert_no_leftovers
}

@test "SIGINT to the master reaches every job once, through its runner" {
	cat > job.sh <<'SH'
trap 'echo term >> sig.$1; exit 1' TERM INT
touch on.$1
while :; do sleep 0.05; done
SH
	start_weft exec --cluster 2 -j 4 sh job.sh ::: 1 2 3 4
	local n
	for n in 1 2 3 4; do wait_for "on.$n"; done
	kill -INT "$pid"
	wait_weft
	[ "$status" -eq 130 ]
	for n in 1 2 3 4; do
		run -0 cat "sig.$n"
		assert_output term
	done
	assert_no_leftovers
}

@test "a runner that never starts: the run ends with a clear error, never a hang" {
	WEFT_RUNNER=/bin/false run -2 --separate-stderr timeout 60 "$WEFT" exec --cluster 1 touch ::: ran-a ran-b
	[ ! -e ran-a ]
	[ ! -e ran-b ]
	# Its end is seen first on its link or as its exit, whichever comes first.
	[[ $stderr == *"weft exec: runner 1 has gone"* || $stderr == *"weft exec: runner 1 died"* ]]
	# No job ever started there, so none counts as run again: the run
	# gives up on the runner, and the jobs fail.
	[[ $stderr == *"weft exec: runner 1 keeps dying: giving it up"* ]]
	[[ $stderr == *"weft exec: cannot start job 1: Host is down"* ]]
	[[ $stderr == *"weft exec: cannot start job 2: Host is down"* ]]
	# Without holding jobs ahead ({%}: a slot matters), each job sent
	# counts: it is lost once its runner has died twice.
	WEFT_RUNNER=/bin/false run -2 --separate-stderr timeout 60 "$WEFT" exec --cluster 1 -j 1 touch {%}{} ::: ran-a ran-b
	[ ! -e 1ran-a ]
	[[ $stderr == *"weft exec: 'touch 1ran-a' is lost: its runner died"* ]]
	[[ $stderr == *"weft exec: 'touch 1ran-b' is lost: its runner died"* ]]
	# Given more tries than a runner gets, the run gives up on the runner.
	WEFT_RUNNER=/bin/false run -2 --separate-stderr timeout 60 "$WEFT" exec --cluster 1 -j 1 --requeue 20 touch {%}{} ::: ran-a ran-b
	[ ! -e 1ran-a ]
	[[ $stderr == *"weft exec: runner 1 keeps dying: giving it up"* ]]
	[[ $stderr == *"weft exec: cannot start job "*": Host is down"* ]]
}

@test "a runner that sends garbage or a truncated line is dropped, by name; the master carries on" {
	printf '#!/bin/sh\necho not-an-event >&3\nexec sleep 300\n' > garbage
	printf '#!/bin/sh\nprintf %%s "{\\"event\\":\\"run-st" >&3\nexec 3>&-\nexec sleep 300\n' > truncated
	chmod +x garbage truncated
	WEFT_RUNNER=$PWD/garbage run -1 --separate-stderr timeout 60 "$WEFT" exec --cluster 1 --requeue 0 touch ::: ran-a
	[[ $stderr == *"weft exec: runner 1 sent a line that is not an event: dropping it"* ]]
	WEFT_RUNNER=$PWD/truncated run -1 --separate-stderr timeout 60 "$WEFT" exec --cluster 1 --requeue 0 touch ::: ran-a
	[[ $stderr == *"weft exec: runner 1 ended inside a line: dropping it"* ]]
	[ ! -e ran-a ]
	# A line over 64 MiB is not read into memory to the end.
	printf '#!/bin/sh\nhead -c 70000000 /dev/zero | tr "\\\\0" a >&3\nexec sleep 300\n' > oversized
	chmod +x oversized
	WEFT_RUNNER=$PWD/oversized run -1 --separate-stderr timeout 60 "$WEFT" exec --cluster 1 --requeue 0 touch ::: ran-a
	[[ $stderr == *"weft exec: runner 1 sent a line too long: dropping it"* ]]
	[ ! -e ran-a ]
	assert_no_leftovers
}

@test "--cluster and --requeue: bad values are usage errors" {
	recipe '[a]
run = true'
	run -2 --separate-stderr "$WEFT" --cluster 0
	assert_equal "${stderr%%$'\n'*}" "weft: invalid value '0' for --cluster (a number from 1, or auto)"
	run -255 --separate-stderr "$WEFT" exec --requeue x true
	assert_equal "${stderr%%$'\n'*}" "weft exec: invalid value 'x' for --requeue (a number from 0)"
	run -0 "$WEFT" --cluster auto
}

@test "the master's RSS does not grow with the jobs it runs" {
	[ -x /usr/bin/time ] || skip "needs /usr/bin/time to measure weft's memory"
	# Sanitizers and valgrind keep freed memory on purpose.
	[ -z "${ASAN_OPTIONS-}${WEFT_VALGRIND-}" ] || skip "freed memory is kept under sanitizers and valgrind"
	# From stdin: ::: values would be held, as the command line holds them.
	# The peak varies by some 100 KB from run to run: the larger of two.
	seq 400 | /usr/bin/time -f %M -o small "$WEFT" exec --cluster 2 -j2 true > out 2> err
	seq 400 | /usr/bin/time -f %M -a -o small "$WEFT" exec --cluster 2 -j2 true > out 2> err
	seq 2000 | /usr/bin/time -f %M -o big "$WEFT" exec --cluster 2 -j2 true > out 2> err
	# A job's leftovers of 80 bytes (less than a job's record) would show
	# as 128 KB more.
	small=$(sort -n small | tail -n 1) big=$(tail -n 1 big)
	echo "peak RSS: $small KB at 400 jobs, $big KB at 2000"
	[ "$small" -gt 0 ]
	[ "$big" -le $((small + 128)) ]
}
