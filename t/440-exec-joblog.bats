#!/usr/bin/env bats
# weft exec --joblog, --resume and --resume-failed, end to end: GNU
# parallel's format (compared with a log parallel writes), what is and is
# not recorded, logs that must be refused, torn lines, runs killed with
# SIGKILL and resumed many times over, and a full disk.
load helpers/common
load helpers/exec

setup() { common_setup; }

teardown() {
	if [ -d "$BATS_TEST_TMPDIR/mnt" ] && mountpoint -q "$BATS_TEST_TMPDIR/mnt"; then
		umount "$BATS_TEST_TMPDIR/mnt"
	fi
}

PARALLEL=(parallel --will-cite)
HEADER=$'Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand'
T=$'\t'
# A record: Seq, Host ':', Starttime (epoch, %.3f), JobRuntime (%10.3f),
# Send, Receive, Exitval, Signal, Command.
RECORD="^[0-9]+${T}:${T}[0-9]+\\.[0-9]{3}${T} *[0-9]+\\.[0-9]{3}${T}0${T}[0-9]+${T}-?[0-9]+${T}[0-9]+${T}.*\$"

# record SEQ [FILE]: the record of job SEQ in FILE (default: log).
record() { awk -F'\t' -v s="$1" 'NR > 1 && $1 == s' "${2:-log}"; }

# field N SEQ [FILE]: field N of the record of job SEQ.
field() { record "$2" "${3:-log}" | cut -f "$1"; }

# records [FILE]: the number of records (lines after the header).
records() { echo $(($(wc -l < "${1:-log}") - 1)); }

# counted.sh ID [FAIL]: counts its runs in count.ID; exits 1 when FAIL is
# given and the file FAIL exists.
write_counted() {
	cat > counted.sh << 'EOF'
echo x >> "count.$1"
[ -z "$2" ] || [ ! -e "$2" ]
EOF
}

# runs ID: how many times counted.sh ran for ID.
runs() { if [ -e "count.$1" ]; then wc -l < "count.$1"; else echo 0; fi; }

# ---- the format --------------------------------------------------------

@test "joblog: the header, then one record per job in GNU parallel's format" {
	local before after
	before=$(date +%s)
	run -1 wx -j1 --joblog log 'printf hello; exit {}' ::: 0 3 < /dev/null
	after=$(date +%s)
	[ "$(head -n 1 log)" = "$HEADER" ]
	[ "$(records)" -eq 2 ]
	local seq line start runtime
	for seq in 1 2; do
		line=$(record $seq)
		[[ "$line" =~ $RECORD ]]
		[ "$(awk -F'\t' '{ print NF }' <<< "$line")" -eq 9 ]
		start=$(field 3 $seq)
		[ "${start%.*}" -ge "$before" ]
		[ "${start%.*}" -le "$after" ]
		runtime=$(field 4 $seq)
		[ "${#runtime}" -ge 10 ] # %10.3f
		[ "$(field 2 $seq)" = : ]
		[ "$(field 5 $seq)" = 0 ]
		[ "$(field 6 $seq)" = 5 ] # the bytes of output
	done
	[ "$(record 1 | cut -f 7-)" = "0${T}0${T}printf hello; exit 0" ]
	[ "$(record 2 | cut -f 7-)" = "3${T}0${T}printf hello; exit 3" ]
}

@test "joblog: the same fields as GNU parallel's log for the same commands" {
	local cmd='printf hello; echo oops >&2; exit {}'
	run -2 wx -j1 --joblog log "$cmd" ::: 0 3 7 < /dev/null
	"${PARALLEL[@]}" -j1 --joblog plog "$cmd" ::: 0 3 7 > /dev/null 2>&1 < /dev/null || true
	[ "$(head -n 1 log)" = "$(head -n 1 plog)" ]
	[ "$(records)" -eq "$(records plog)" ]
	local seq
	for seq in 1 2 3; do
		[[ "$(record $seq)" =~ $RECORD ]]
		[[ "$(record $seq plog)" =~ $RECORD ]]
		# Seq, Host, Send, Exitval, Signal, Command as parallel's
		[ "$(record $seq | cut -f 1,2,5,7-)" = "$(record $seq plog | cut -f 1,2,5,7-)" ]
	done
}

@test "joblog: a job killed by a signal has its Signal, and Exitval as GNU parallel's" {
	local cmd='kill -9 $$; : {}'
	run -1 wx --joblog log "$cmd" ::: a < /dev/null
	"${PARALLEL[@]}" --joblog plog "$cmd" ::: a > /dev/null 2>&1 < /dev/null || true
	[ "$(field 8 1)" = 9 ]
	echo "Exitval, Signal, Command: weft '$(record 1 | cut -f 7-)', parallel '$(record 1 plog | cut -f 7-)'"
	[ "$(record 1 | cut -f 7-)" = "$(record 1 plog | cut -f 7-)" ]
}

@test "joblog: a job stopped by --timeout has Exitval -1 and Signal 15, as GNU parallel's" {
	run -1 wx --timeout 500ms --joblog log 'sleep 1000 & wait; : {}' ::: a < /dev/null
	[ "$(record 1 | cut -f 7-)" = "-1${T}15${T}sleep 1000 & wait; : a" ]
	assert_no_leftovers
}

@test "joblog: tabs, newlines and backslashes in the command are escaped" {
	printf 'a\tb\nc\\d\0' > in
	run -0 wx -0 --joblog log ': {}' < in
	[ "$(records)" -eq 1 ]
	[ "$(field 9 1)" = ": 'a\\tb\\nc\\\\d'" ]
	[[ "$(record 1)" =~ $RECORD ]]
}

@test "joblog: --retries records only the last attempt" {
	cat > flaky.sh << 'EOF'
echo x >> count
[ "$(wc -l < count)" -ge 2 ] || exit 4
EOF
	run -0 wx --retries 3 --joblog log sh flaky.sh ::: a < /dev/null
	[ "$(wc -l < count)" -eq 2 ]
	[ "$(records)" -eq 1 ]
	[ "$(field 7 1)" = 0 ]
}

@test "joblog: jobs stopped by --halt now are not recorded" {
	write_await
	cat > job.sh << 'EOF'
case $1 in
long) sleep 1000 & touch long.ready; wait ;;
fail) sh await.sh long.ready; exit 3 ;;
esac
EOF
	run -3 wx -j2 --halt now,fail=1 --joblog log sh job.sh ::: long fail < /dev/null
	[ "$(records)" -eq 1 ]
	[ "$(field 9 2)" = 'sh job.sh fail' ]
	[ "$(field 7 2)" = 3 ]
	assert_no_leftovers
}

@test "joblog: jobs stopped by SIGTERM to weft are not recorded" {
	start_wx -j2 --joblog log 'case {} in a) ;; *) sleep 1000 & touch {}.ready; wait;; esac' ::: a b c
	wait_for b.ready
	wait_for c.ready
	kill -TERM "$pid"
	wait_wx
	[ "$status" -eq 143 ]
	[ "$(head -n 1 log)" = "$HEADER" ]
	[ "$(records)" -eq 1 ]
	[ "$(field 9 1)" = 'case a in a) ;; *) sleep 1000 & touch a.ready; wait;; esac' ]
	assert_no_leftovers
}

# ---- --resume ----------------------------------------------------------

@test "--resume skips every job the log records, failed ones too" {
	write_counted
	touch fail.2
	run -1 wx -j1 --joblog log sh counted.sh {} fail.{} ::: 1 2 3 < /dev/null
	run -0 wx -j1 --joblog log --resume sh counted.sh {} fail.{} ::: 1 2 3 4 5 < /dev/null
	[ "$(runs 1)" -eq 1 ]
	[ "$(runs 2)" -eq 1 ]
	[ "$(runs 3)" -eq 1 ]
	[ "$(runs 4)" -eq 1 ]
	[ "$(runs 5)" -eq 1 ]
	[ "$(records)" -eq 5 ]
	# all done: nothing runs
	run -0 wx --joblog log --resume sh counted.sh {} fail.{} ::: 1 2 3 4 5 < /dev/null
	[ "$(cat count.* | wc -l)" -eq 5 ]
}

@test "--resume without a log yet runs everything and writes the log" {
	write_counted
	run -0 wx --joblog log --resume sh counted.sh ::: 1 2 < /dev/null
	[ "$(runs 1)" -eq 1 ]
	[ "$(runs 2)" -eq 1 ]
	[ "$(head -n 1 log)" = "$HEADER" ]
	[ "$(records)" -eq 2 ]
}

@test "--resume-failed runs only the failed jobs again" {
	write_counted
	touch fail.2 fail.4
	run -2 wx -j1 --joblog log sh counted.sh {} fail.{} ::: 1 2 3 4 < /dev/null
	rm fail.2
	run -1 wx -j1 --joblog log --resume-failed sh counted.sh {} fail.{} ::: 1 2 3 4 < /dev/null
	[ "$(runs 1)" -eq 1 ]
	[ "$(runs 3)" -eq 1 ]
	[ "$(runs 2)" -eq 2 ]
	[ "$(runs 4)" -eq 2 ]
	[ "$(records)" -eq 6 ]
}

@test "--resume-failed: a job whose rerun succeeded is not run again (as GNU parallel)" {
	# The log holds job 2 twice: failed, then succeeded.
	write_counted
	touch fail.2
	run -1 wx -j1 --joblog log sh counted.sh {} fail.{} ::: 1 2 3 < /dev/null
	rm fail.2
	run -0 wx -j1 --joblog log --resume-failed sh counted.sh {} fail.{} ::: 1 2 3 < /dev/null
	[ "$(runs 2)" -eq 2 ]
	run -0 wx -j1 --joblog log --resume-failed sh counted.sh {} fail.{} ::: 1 2 3 < /dev/null
	echo "job 2 ran $(runs 2) times, expected 2"
	[ "$(runs 2)" -eq 2 ]
	[ "$(runs 1)" -eq 1 ]
	[ "$(runs 3)" -eq 1 ]
}

# refused ARGS...: weft exec --joblog log ARGS exits 255 with a --resume
# message, runs nothing, and leaves the log as it was.
refused() {
	cp log log.before
	run -255 wx --joblog log "$@" < /dev/null
	[[ "$(cat err)" == "weft exec: --resume: "*"refusing to resume a different "* ]] || {
		cat err >&2
		return 1
	}
	[ "$(ls count.* 2> /dev/null | wc -l)" -eq 0 ]
	cmp log.before log
}

@test "--resume against a log of a different command is refused, nothing runs" {
	run -0 wx --joblog log echo ::: 1 2 3 < /dev/null
	write_counted
	refused --resume sh counted.sh ::: 1 2 3
	refused --resume-failed sh counted.sh ::: 1 2 3
	# the same command over other inputs is a different command too
	refused --resume echo ::: 1 9 3
}

@test "--resume against a log recording more jobs than this run has inputs is refused" {
	run -0 wx --joblog log sh -c : ::: 1 2 3 4 5 < /dev/null
	write_counted
	refused --resume sh -c : ::: 1 2 3
	refused --resume-failed sh -c : ::: 1 2 3
}

@test "--resume: a torn last line gives a warning and its job runs again" {
	write_counted
	run -0 wx -j1 --joblog log sh counted.sh ::: 1 2 3 < /dev/null
	[ "$(record 3 | cut -f 9)" = 'sh counted.sh 3' ]
	# cut the last record short, as a kill in the middle of its write would
	head -c -5 log > torn
	mv torn log
	run -0 wx -j1 --joblog log --resume sh counted.sh ::: 1 2 3 < /dev/null
	err_is "weft exec: warning: ignoring the unfinished last line of 'log'"
	[ "$(runs 1)" -eq 1 ]
	[ "$(runs 2)" -eq 1 ]
	[ "$(runs 3)" -eq 2 ]
	[ "$(awk -F'\t' 'NF == 9 && $9 == "sh counted.sh 3"' log | wc -l)" -eq 1 ]
	# now complete: nothing runs
	run -0 wx -j1 --joblog log --resume sh counted.sh ::: 1 2 3 < /dev/null
	[ "$(cat count.* | wc -l)" -eq 4 ]
}

# ---- SIGKILL and --resume, many times over ------------------------------

# done_seqs: the jobs the log records as done, sorted as comm wants them:
# whole lines (with their newline) of 9 fields whose command is the job's.
done_seqs() {
	[ -e log ] || return 0
	head -n "$(wc -l < log)" log |
		awk -F'\t' 'NR > 1 && NF == 9 && $1 ~ /^[0-9]+$/ && $9 == "sh job.sh " $1 { print $1 }' | sort
}

@test "SIGKILL then --resume, round after round: every input runs, none the log records runs again" {
	# A job killed with weft may run again; a job the log records as done
	# must not. Between rounds nothing runs, so the log then is what the
	# next round's weft reads: no input in it may appear in 'ran' in that round.
	cat > job.sh << 'EOF'
echo "$1" >> ran
ms=$(($(od -An -N1 -tu1 /dev/urandom) % 51))
sleep "$(printf '0.%03d' "$ms")"
EOF
	: > ran
	local round before i statuses='' killed=0 n
	n=$(rounds 8)
	for round in $(seq "$n"); do
		done_seqs > done.$round
		before=$(wc -l < ran)
		"$WEFT" exec -j3 --joblog log --resume sh job.sh ::: $(seq 80) < /dev/null > /dev/null 2>> err.all &
		pid=$!
		for ((i = 0; i < 500; i++)); do
			[ "$(wc -l < ran)" -gt "$before" ] && break
			kill -0 "$pid" 2> /dev/null || break
			sleep 0.01
		done
		sleep "0.0$((RANDOM % 4))"
		kill -KILL "$pid" 2> /dev/null || true
		wait "$pid" 2> /dev/null && status=0 || status=$?
		statuses="$statuses $status"
		[ "$status" -ne 137 ] || killed=$((killed + 1))
		# A SIGKILLed weft's guard stops its jobs: let them go.
		wait_gone
		tail -n +"$((before + 1))" ran | sort > new.$round
		if [ -n "$(comm -12 done.$round new.$round)" ]; then
			echo "round $round ran again: $(comm -12 done.$round new.$round | tr '\n' ' ')" >&2
			return 1
		fi
	done
	echo "exit statuses of the rounds:$statuses; jobs recorded by then: $(done_seqs | wc -l)"
	[[ "$statuses " =~ ^( (0|137))+\ $ ]]
	# most rounds were cut short (else this test proves little)
	[ "$killed" -ge $((n * 3 / 5)) ]
	before=$(wc -l < ran)
	done_seqs > done.last
	run -0 "$WEFT" exec -j8 --joblog log --resume sh job.sh ::: $(seq 80) < /dev/null
	tail -n +"$((before + 1))" ran | sort > new.last
	[ -z "$(comm -12 done.last new.last)" ]
	# Every input ran, and the log records each exactly once.
	[ "$(sort -nu ran)" = "$(seq 80)" ]
	[ "$(done_seqs | sort -n)" = "$(seq 80)" ]
	# Every other line is the header or a torn line that was warned about.
	[ "$(head -n 1 log)" = "$HEADER" ]
	local others
	others=$(tail -n +2 log | grep -Ev "$RECORD" || true)
	if [ -n "$others" ]; then
		grep -q "warning: ignoring the unfinished last line of 'log'" err.all
		[ -z "$(grep -v $'\t\t$' <<< "$others")" ]
	fi
}

# ---- a full disk -------------------------------------------------------

@test "joblog on a full disk: a message, no more jobs start, exit 255" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to mount a tiny tmpfs"
	mkdir mnt
	mount -t tmpfs -o size=4k tmpfs mnt 2> /dev/null || skip "cannot mount a tmpfs here"
	cat > job.sh << 'EOF'
echo "$1" >> started
echo "$1" >> finished
EOF
	# Long commands: the 4 KiB fill after a few records.
	local pad inputs=() i
	pad=$(printf 'x%.0s' $(seq 300))
	for i in $(seq 40); do inputs+=("$i$pad"); done
	run -255 wx -j1 --joblog mnt/log sh job.sh ::: "${inputs[@]}" < /dev/null
	err_is "weft exec: cannot write the job log 'mnt/log': No space left on device; starting no more jobs"
	local recorded
	# whole lines only: the last one may be torn by the full disk
	recorded=$(head -n "$(wc -l < mnt/log)" mnt/log |
		awk -F'\t' 'NR > 1 && NF == 9 { sub(/^sh job.sh /, "", $9); print $9 }')
	[ -n "$recorded" ]
	# every job recorded as done did finish
	[ -z "$(comm -23 <(sort <<< "$recorded") <(sort finished))" ]
	# and after the failed write no other job started
	[ "$(wc -l < started)" -le $(($(wc -l <<< "$recorded") + 1)) ]
	[ "$(wc -l < started)" -lt 40 ]
}
