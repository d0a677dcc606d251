#!/usr/bin/env bats
# The job log (src/joblog.c) through its driver t/helpers/joblog-test.c:
# GNU parallel's format byte for byte, commands that stay on one line,
# torn lines after a kill, symbolic links refused, full disks reported.
load helpers/common

JT="${JT:-$BATS_TEST_DIRNAME/../build/t/joblog-test}"
HEADER=$'Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand'
T=$'\t'

setup() { common_setup; }

teardown() {
	if [ -d "$BATS_TEST_TMPDIR/mnt" ] && mountpoint -q "$BATS_TEST_TMPDIR/mnt"; then
		umount "$BATS_TEST_TMPDIR/mnt"
	fi
}

# line N FILE: prints line N of FILE, without its newline.
line() { sed -n "$1p" "$2"; }

@test "the header is written once, when the log is created" {
	run -0 "$JT" append log 1 0 0 'echo a'
	run -0 "$JT" append log 2 0 0 'echo b'
	[ "$(line 1 log)" = "$HEADER" ]
	[ "$(grep -c '^Seq' log)" -eq 1 ]
	[ "$(wc -l < log)" -eq 3 ]
}

@test "a record is GNU parallel's line: tabs, start %.3f, runtime %10.3f" {
	run -0 "$JT" append log 7 3 0 'echo hi'
	local re="^7${T}:${T}[0-9]{10}\\.[0-9]{3}${T}     0\\.001${T}0${T}0${T}3${T}0${T}echo hi\$"
	[[ "$(line 2 log)" =~ $re ]]
	run -0 "$JT" append log 8 0 15 'sleep 9'
	re="^8${T}:${T}[0-9]{10}\\.[0-9]{3}${T}     0\\.001${T}0${T}0${T}0${T}15${T}sleep 9\$"
	[[ "$(line 3 log)" =~ $re ]]
	run -0 "$JT" read log
	assert_output $'7 3 0 echo hi\n8 0 15 sleep 9\ntorn=0 bad=0'
}

@test "a command with tabs, newlines and backslashes is one line and reads back as run" {
	local cmd=$'printf "a\\tb"\tc\nd\\\\e \\'
	run -0 "$JT" append log 1 0 0 "$cmd"
	[ "$(wc -l < log)" -eq 2 ]
	[ "$(line 2 log | cut -f 9-)" = 'printf "a\\tb"\tc\nd\\\\e \\' ]
	run -0 "$JT" command log 1
	[ "$output" = "$cmd" ]
}

@test "a torn last line is ignored, and the next append starts a fresh line" {
	printf '%s\n1\t:\t1700000000.000\t     0.001\t0\t0\t0\t0\techo a\n2\t:\t17000' "$HEADER" > log
	run -0 "$JT" read log
	assert_output $'1 0 0 echo a\ntorn=1 bad=0'
	run -0 "$JT" append log 3 0 0 'echo c'
	[ "$(line 3 log)" = "2${T}:${T}17000${T}${T}" ]
	[[ "$(line 4 log)" =~ ^3${T}: ]]
	run -0 "$JT" read log
	assert_output $'1 0 0 echo a\n3 0 0 echo c\ntorn=1 bad=0'
}

@test "a record cut at any byte is never read back, even after the next append" {
	local rec="2${T}:${T}1700000000.000${T}     0.001${T}0${T}0${T}1${T}15${T}make all"
	local k
	# Every cut's readings go to one file, compared once at the end.
	for ((k = 1; k < ${#rec}; k++)); do
		printf '%s\n%s' "$HEADER" "${rec:0:k}" > log
		echo "cut at $k"
		"$JT" read log
		"$JT" append log 3 0 0 'echo c'
		"$JT" read log
	done > got
	for ((k = 1; k < ${#rec}; k++)); do
		printf 'cut at %d\ntorn=1 bad=0\n3 0 0 echo c\ntorn=1 bad=0\n' "$k"
	done > want
	diff want got
}

@test "a log cut short inside its header gets the rest of the header" {
	printf 'Seq\tHost\tStart' > log
	run -0 "$JT" append log 1 0 0 'echo a'
	[ "$(line 1 log)" = "$HEADER" ]
	run -0 "$JT" read log
	assert_output $'1 0 0 echo a\ntorn=0 bad=0'
}

@test "a log that is a symbolic link is refused" {
	ln -s target.log link.log
	run -1 "$JT" append link.log 1 0 0 'echo a'
	assert_output 'joblog-test: link.log: Too many levels of symbolic links'
	[ ! -e target.log ]
}

@test "a full disk is an error: /dev/full" {
	run -1 "$JT" append /dev/full 1 0 0 'echo a'
	assert_output 'joblog-test: /dev/full: No space left on device'
}

@test "a short write at the file size limit is an error and leaves a torn line" {
	run -0 "$JT" append log 1 0 0 'echo a'
	local big
	big="echo $(printf '%02000d' 0)"
	run -1 bash -c 'trap "" XFSZ; ulimit -f 1; exec "$@"' _ "$JT" append log 2 0 0 "$big"
	assert_output 'joblog-test: log: No space left on device'
	run -0 "$JT" read log
	assert_output $'1 0 0 echo a\ntorn=1 bad=0'
	run -0 "$JT" append log 3 0 0 'echo c'
	run -0 "$JT" read log
	assert_output $'1 0 0 echo a\n3 0 0 echo c\ntorn=1 bad=0'
}

@test "ENOSPC on a full tmpfs is an error and adds no complete record" {
	[ "$(id -u)" -eq 0 ] || skip "mounting a tmpfs needs root"
	mkdir mnt
	mount -t tmpfs -o size=16k tmpfs mnt 2>/dev/null || skip "mount -t tmpfs -o size=16k failed (no CAP_SYS_ADMIN?)"
	run -0 "$JT" append mnt/log 1 0 0 'echo a'
	dd if=/dev/zero of=mnt/fill bs=4096 count=16 2>/dev/null || true
	# Bigger than the rest of the log's one page: the write is cut short.
	run -1 "$JT" append mnt/log 2 0 0 "echo $(printf '%05000d' 0)"
	assert_output 'joblog-test: mnt/log: No space left on device'
	run -0 "$JT" read mnt/log
	assert_output $'1 0 0 echo a\ntorn=1 bad=0'
	rm mnt/fill
	run -0 "$JT" append mnt/log 3 0 0 'echo c'
	run -0 "$JT" read mnt/log
	assert_output $'1 0 0 echo a\n3 0 0 echo c\ntorn=1 bad=0'
}

@test "malformed lines are reported with their line numbers, and the rest is read" {
	{
		printf '%s\n' "$HEADER"
		printf '1\t:\t1700000000.000\t     0.001\t0\t0\t0\t0\techo a\n'
		printf 'garbage\n'
		printf '3\t:\t1700000000.000\t     0.001\t0\t0\tx\t0\techo c\n'
		printf '4\t:\t1700000000.000\t     0.001\t0\t0\t-1\t0\techo d\n'
	} > log
	run -0 --separate-stderr "$JT" read log
	assert_output $'1 0 0 echo a\n4 -1 0 echo d\ntorn=0 bad=2'
	[ "$stderr" = $'joblog-test: line 3: expected 9 tab-separated fields, found 1\njoblog-test: line 4: bad Exitval \'x\'' ]
}

@test "a missing log holds no records" {
	run -0 "$JT" read nothing.log
	assert_output 'torn=0 bad=0'
}

@test "GNU parallel reads weft's log, and weft reads GNU parallel's" {
	command -v parallel > /dev/null || skip "GNU parallel is not installed"
	run -0 "$JT" append log 1 0 0 'echo a'
	run -0 "$JT" append log 2 0 0 'echo b'
	run -0 parallel --resume --joblog log echo ::: a b c
	assert_output 'c'
	printf 'echo "x\ny"\0printf "%%s" "a\tb"\0' > cmds
	run -0 parallel -0 -j1 --joblog plog -a cmds
	run -0 "$JT" read plog
	assert_output $'1 0 0 echo "x\\ny"\n2 0 0 printf "%s" "a\\tb"\ntorn=0 bad=0'
	run -0 "$JT" read log
	assert_output $'1 0 0 echo a\n2 0 0 echo b\n3 0 0 echo c\ntorn=0 bad=0'
}

@test "kill -9 at any moment: records read back are whole, and a resumed run goes on" {
	local round pid last=0 torn=0 n
	n=$(rounds 10)
	for ((round = 1; round <= n; round++)); do
		"$JT" flood log $((last + 1)) 32768 100 &
		pid=$!
		sleep "0.00$((RANDOM % 4))"
		kill -9 "$pid" 2> /dev/null || true
		wait "$pid" || true
		# verify fails on a half, repeated or missing record, or a bad line.
		run -0 "$JT" verify log 32768
		[[ "$output" =~ ^records=([0-9]+)\ last=([0-9]+)\ torn=([0-9]+)\ bad=0$ ]]
		[ "${BASH_REMATCH[1]}" -eq "${BASH_REMATCH[2]}" ]
		last=${BASH_REMATCH[2]}
		# Each kill tears at most one line.
		[ $((BASH_REMATCH[3] - torn)) -le 1 ]
		torn=${BASH_REMATCH[3]}
	done
}
