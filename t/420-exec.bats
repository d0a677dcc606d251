#!/usr/bin/env bats
# weft exec, the fan-out: where inputs come from and how they combine,
# replacement strings end to end, hostile inputs, the exit status, -j,
# streaming input, --dry-run, bad options, --retries, --halt, --timeout
# and signals. Concurrency is proved with barriers and marker files, and
# every wait is bounded; no test depends on how fast the machine is.
load helpers/common
load helpers/exec

setup() { common_setup; }

# ---- inputs ------------------------------------------------------------

@test "inputs: each line of standard input is one job" {
	printf 'a\nb c\nd\n' > in
	run -0 wx -k echo in: < in
	out_is $'in: a\nin: b c\nin: d'
	err_is ''
}

@test "inputs: the values after ::: are one job each" {
	run -0 wx -k echo v= ::: a 'b c' d < /dev/null
	out_is $'v= a\nv= b c\nv= d'
}

@test "inputs: :::: FILE reads the lines of FILE; each file is a source of its own" {
	printf 'a\nb\n' > f1
	printf '1\n2\n' > f2
	run -0 wx -k echo :::: f1 < /dev/null
	out_is $'a\nb'
	run -0 wx -k echo :::: f1 f2 < /dev/null
	out_is $'a 1\na 2\nb 1\nb 2'
}

@test "inputs: '-' after :::: is standard input, combined with the other sources" {
	printf 'q\nr\n' > in
	run -0 wx -k echo ::: 1 2 :::: - < in
	out_is $'1 q\n1 r\n2 q\n2 r'
}

@test "inputs: -0 splits at NUL bytes, and a newline stays inside its input" {
	write_save
	printf 'one\ntwo\0three\0' > in
	run -0 wx -0 sh save.sh {} {#} < in
	[ "$(ls got | wc -l)" -eq 2 ]
	printf 'one\ntwo' > want1
	printf 'three' > want2
	cmp want1 got/1
	cmp want2 got/2
}

@test "inputs: -d splits at one character, tab and NUL included" {
	printf 'a,b,,c' > in
	run -0 wx -k -d , echo :{}: < in
	out_is $':a:\n:b:\n::\n:c:'
	printf 'a\tb\t' > in
	run -0 wx -k -d '\t' echo :{}: < in
	out_is $':a:\n:b:'
	printf 'a b\0c\n' > in
	run -0 wx -k -d '\0' echo :{}: < in
	out_is $':a b:\n:c\n:'
}

@test "inputs: a last input without a delimiter still counts" {
	printf 'a\nb' > in
	run -0 wx -k echo :{}: < in
	out_is $':a:\n:b:'
	printf 'a\0b' > in
	run -0 wx -k -0 echo :{}: < in
	out_is $':a:\n:b:'
	printf 'a\nb' > f
	run -0 wx -k echo :{}: :::: f < /dev/null
	out_is $':a:\n:b:'
}

@test "inputs: empty lines are inputs, run with an empty argument" {
	write_save
	printf '\n\nx\n\n' > in
	run -0 wx -j1 sh save.sh {} {#} < in
	[ "$(ls got | wc -l)" -eq 4 ]
	[ ! -s got/1 ]
	[ ! -s got/2 ]
	[ ! -s got/4 ]
	[ "$(cat got/3)" = x ]
}

@test "inputs: no input at all gives no job and exit 0" {
	run -0 wx touch ran < /dev/null
	out_is ''
	err_is ''
	: > empty
	run -0 wx touch ran :::: empty < /dev/null
	run -0 wx touch ran ::: < /dev/null
	run -0 wx touch ran ::: a ::: < /dev/null
	[ ! -e ran ]
}

# ---- combining sources -------------------------------------------------

@test "several sources: every combination, the last source varying fastest" {
	run -0 wx -k echo {#} {1} {2} ::: a b ::: 1 2 < /dev/null
	out_is $'1 a 1\n2 a 2\n3 b 1\n4 b 2'
}

@test "three sources: every combination, in odometer order" {
	run -0 wx -k echo {1}{2}{3} ::: a b ::: 1 2 ::: x y < /dev/null
	out_is $'a1x\na1y\na2x\na2y\nb1x\nb1y\nb2x\nb2y'
}

@test "--link pairs the sources, the shorter ones wrapping around" {
	run -0 wx -k --link echo ::: a b c ::: 1 2 < /dev/null
	out_is $'a 1\nb 2\nc 1'
	run -0 wx -k --link echo {3}{2}{1} ::: a b c d e ::: 1 2 ::: x y z < /dev/null
	out_is $'x1a\ny2b\nz1c\nx2d\ny1e'
}

@test "--colsep splits each input into {1}, {2}... at a regex" {
	printf 'a,b;;c\nd;e,f\n' > in
	run -0 wx -k --colsep '[,;]+' echo {3} {1} {2} < in
	out_is $'c a b\nf d e'
	# without a replacement string the columns are appended, one arg each
	printf 'for a; do printf "[%%s]" "$a"; done; echo\n' > args.sh
	run -0 wx -k --colsep , sh args.sh ::: 'a b,c' < /dev/null
	out_is '[a b][c]'
}

@test "--colsep with a regex that can match the empty string splits as GNU parallel (Perl's split) does" {
	printf 'for a; do printf "[%%s]" "$a"; done; echo\n' > args.sh
	run -0 wx -k --colsep ' *' sh args.sh ::: 'a b' ab 'a  b' a, < /dev/null
	out_is $'[a][b]\n[a][b]\n[a][b]\n[a][,]'
	run -0 wx -k --colsep ',?' sh args.sh ::: a,b ab ,a < /dev/null
	out_is $'[a][b]\n[a][b]\n[][a]'
	run -0 wx -k --colsep '(?=b)' sh args.sh ::: ab a,b bb < /dev/null
	out_is $'[a][b]\n[a,][b]\n[b][b]'
	# (Inputs without blanks: GNU parallel also trims the columns.) What
	# GNU parallel 20221122 prints for each separator:
	local sep
	for sep in ' *' '\s*' ',?' '(?=b)' ',*' '\b'; do
		case $sep in
		' *' | '\s*') printf '%s\n' a/,/b a/b/ ,/a/ a/b/c a/,/, ;;
		',?') printf '%s\n' a/b/ a/b/ /a/ a/b/c a//b ;;
		'(?=b)') printf '%s\n' a,/b/ a/b/ ,a// a/bc/ a,,/b/ ;;
		',*') printf '%s\n' a/b/ a/b/ /a/ a/b/c a/b/ ;;
		'\b') printf '%s\n' a/,/b ab// ,/a/ abc// a/,,/b ;;
		esac > want
		wx -k --colsep "$sep" echo '{1}/{2}/{3}' ::: a,b ab ,a abc a,,b < /dev/null
		diff want out || fail "--colsep '$sep' splits otherwise than GNU parallel"
	done
	# And the installed one agrees on the subtlest.
	command -v parallel > /dev/null || return 0
	gnu_parallel --will-cite -k --colsep '\b' echo '{1}/{2}/{3}' ::: a,b ab ,a abc a,,b > want < /dev/null
	wx -k --colsep '\b' echo '{1}/{2}/{3}' ::: a,b ab ,a abc a,,b < /dev/null
	diff want out
}

# ---- the command -------------------------------------------------------

@test "replacement strings {} {.} {/} {//} {/.} {#} {%}: exact values, as GNU parallel" {
	local cmd="printf '%s|' {} {.} {/} {//} {/.} {#} {%}; echo"
	local inputs=(dir/sub/file.tar.gz plain.txt /abs/x noext './a b/c.d')
	run -0 wx -k -j1 "$cmd" ::: "${inputs[@]}" < /dev/null
	[ "$(head -n 1 out)" = 'dir/sub/file.tar.gz|dir/sub/file.tar|file.tar.gz|dir/sub|file.tar|1|1|' ]
	[ "$(sed -n 5p out)" = './a b/c.d|./a b/c|c.d|./a b|c|5|1|' ]
	gnu_parallel --will-cite -k -j1 "$cmd" ::: "${inputs[@]}" > want < /dev/null
	diff want out
}

@test "positional replacement strings {1} {2} {1.} {2/} {1//} {2/.}: as GNU parallel" {
	local cmd="printf '%s|' {1} {2} {1.} {2/} {1//} {2/.} {2//} {1/}; echo"
	run -0 wx -k -j1 "$cmd" ::: a/b.c 'x y/z.w' ::: p/q.r s < /dev/null
	[ "$(head -n 1 out)" = 'a/b.c|p/q.r|a/b|q.r|a|q|p|b.c|' ]
	gnu_parallel --will-cite -k -j1 "$cmd" ::: a/b.c 'x y/z.w' ::: p/q.r s > want < /dev/null
	diff want out
}

@test "{%} is the job's slot, from 1 to -j" {
	run -0 wx -j3 echo {%} ::: $(seq 20) < /dev/null
	[ "$(wc -l < out)" -eq 20 ]
	[ -z "$(grep -vx '[123]' out)" ]
}

@test "without a replacement string the inputs are appended, quoted" {
	printf 'for a; do printf "[%%s]" "$a"; done; echo\n' > args.sh
	run -0 wx -k sh args.sh x ::: 'a b' "c'd" ::: 1 < /dev/null
	out_is "[x][a b][1]
[x][c'd][1]"
}

@test "command words are shell code" {
	run -0 wx -k 'echo {} | tr a-z A-Z; echo' '$((1 + 2))' ::: ab cd < /dev/null
	out_is $'AB\n3\nCD\n3'
}

@test "no command: each input is run as a command" {
	printf 'echo one\necho two > f; echo "$((2 + 3))"\n' > in
	run -0 wx -k < in
	out_is $'one\n5'
	[ "$(cat f)" = two ]
}

# ---- hostile inputs ------------------------------------------------------

# Inputs that would do harm if weft did not quote them; the tripwire file
# 'pwned' must never appear.
HOSTILE=("it's" '"dq"' "'" '$(touch pwned)' '`touch pwned`' 'a;touch pwned' 'a|touch pwned'
	'a&&touch pwned' '>pwned' '-n' '--help' '' ' lead and trail ' $'\xff\xfe' '*' '~' '\' '{}' '$HOME'
	$'tab\there' '#comment')

# hostile_check: got/N holds HOSTILE[N-1] byte for byte, for each N.
hostile_check() {
	local i
	[ "$(ls got | wc -l)" -eq "${#HOSTILE[@]}" ]
	for i in "${!HOSTILE[@]}"; do
		printf '%s' "${HOSTILE[i]}" > want
		cmp want "got/$((i + 1))"
	done
	[ ! -e pwned ]
}

@test "hostile inputs from -0 stdin reach the command as the exact bytes" {
	write_save
	printf '%s\0' "${HOSTILE[@]}" $'two\nlines; touch pwned' > in
	run -0 wx -0 sh save.sh {} {#} < in
	printf 'two\nlines; touch pwned' > want
	cmp want "got/$((${#HOSTILE[@]} + 1))"
	rm "got/$((${#HOSTILE[@]} + 1))"
	hostile_check
}

@test "hostile inputs after ::: reach the command as the exact bytes" {
	write_save
	run -0 wx sh save.sh {} {#} ::: "${HOSTILE[@]}" < /dev/null
	hostile_check
}

@test "hostile inputs appended (no replacement string) reach the command as the exact bytes" {
	mkdir got
	printf '%s\n' 'n=$(ls got | wc -l); printf "%s" "$1" > "got/$((n + 1))"' > append.sh
	run -0 wx -j1 sh append.sh ::: "${HOSTILE[@]}" < /dev/null
	hostile_check
}

@test "hostile inputs in path replacement strings and --colsep columns stay quoted" {
	run -0 wx -k "printf '[%s]'" {/} {.} {//} '; echo' ::: 'a;touch pwned/b$(touch pwned).c' < /dev/null
	out_is '[b$(touch pwned).c][a;touch pwned/b$(touch pwned)][a;touch pwned]'
	run -0 wx -k --colsep , "printf '[%s]'" {2} {1} '; echo' ::: '`touch pwned`,$(touch pwned)' < /dev/null
	out_is '[$(touch pwned)][`touch pwned`]'
	[ ! -e pwned ]
}

# ---- exit status -------------------------------------------------------

@test "exit status: 0 when all jobs succeed, else the number of failed jobs" {
	run -0 wx true ::: $(seq 10) < /dev/null
	run -7 wx 'test {} -le 3' ::: $(seq 10) < /dev/null
	run -1 wx 'exit {}' ::: 0 0 42 < /dev/null
}

@test "exit status: 100 for 100 failed jobs, 101 for 101 and for 150" {
	run -100 wx false ::: $(seq 100) < /dev/null
	run -101 wx false ::: $(seq 101) < /dev/null
	run -101 wx false ::: $(seq 150) < /dev/null
}

# ---- -j ----------------------------------------------------------------

@test "-j1 never runs two jobs at once" {
	write_slot
	run -0 wx -j1 sh slot.sh {} 1 ::: $(seq 4) < /dev/null
	[ "$(max_seen)" -eq 1 ]
}

@test "-j2 never runs more than two jobs at once, and does reach two" {
	write_slot
	run -0 wx -j 2 sh slot.sh {} 2 ::: $(seq 8) < /dev/null
	[ "$(max_seen)" -eq 2 ]
}

@test "-j3 never runs more than three jobs at once, and does reach three" {
	write_slot
	run -0 wx --jobs=3 sh slot.sh {} 3 ::: $(seq 9) < /dev/null
	[ "$(max_seen)" -eq 3 ]
}

@test "-j2 really runs two jobs at once (two jobs waiting for each other)" {
	write_barrier
	run -0 wx -j2 --link sh barrier.sh ::: a b ::: b a < /dev/null
	[ -e a.done ]
	[ -e b.done ]
}

# jobs_reach SPEC N: with -j SPEC, exactly N jobs run at once at most, and
# N are reached (2N jobs, each waiting until N are running).
jobs_reach() {
	rm -rf seen reached slots
	write_slot
	run -0 wx -j "$1" sh slot.sh {} "$2" ::: $(seq $(($2 * 2))) < /dev/null
	[ "$(max_seen)" -eq "$2" ] || {
		echo "-j $1: at most $(max_seen) at once, expected $2" >&2
		return 1
	}
}

# The CPUs weft counts (affinity, as nproc does).
cpus() { nproc; }

@test "-j +N is the CPUs plus N" {
	jobs_reach +1 $(($(cpus) + 1))
}

@test "-j -N is the CPUs minus N (at least 1)" {
	local n=$(($(cpus) - 1))
	jobs_reach -1 $((n < 1 ? 1 : n))
}

@test "-j N% is N percent of the CPUs (at least 1)" {
	local n=$(($(cpus) * 200 / 100))
	jobs_reach 200% "$n"
	n=$(($(cpus) * 50 / 100))
	jobs_reach 50% $((n < 1 ? 1 : n))
}

@test "-j 0 runs as many at once as there are jobs (a few)" {
	write_slot
	run -0 wx -j 0 sh slot.sh {} 8 ::: $(seq 8) < /dev/null
	[ "$(max_seen)" -eq 8 ]
}

# ---- streaming ---------------------------------------------------------

@test "streaming: the first job runs before standard input ends" {
	mkfifo fifo
	"$WEFT" exec touch {}.ran < fifo > out 2> err &
	pid=$!
	exec 8> fifo
	echo first >&8
	# The fifo is still open: weft cannot have seen the end of its input.
	wait_for first.ran || {
		exec 8>&-
		false
	}
	echo second >&8
	exec 8>&-
	wait_wx
	[ "$status" -eq 0 ]
	[ -e second.ran ]
}

@test "streaming: the first job runs before a :::: file (a fifo) ends" {
	mkfifo fifo
	start_wx touch {}.ran :::: fifo
	exec 8> fifo
	echo first >&8
	wait_for first.ran || {
		exec 8>&-
		false
	}
	exec 8>&-
	wait_wx
	[ "$status" -eq 0 ]
}

# ---- --dry-run and bad options ----------------------------------------

@test "--dry-run prints each command, quoted, and runs nothing" {
	run -0 wx --dry-run touch {} ::: a 'b c' "d'e" < /dev/null
	out_is "touch a
touch 'b c'
touch 'd'\\''e'"
	err_is ''
	[ "$(ls)" = "$(printf '%s\n' err out)" ]
	printf 'x\ny\n' > in
	run -0 wx --dry-run touch < in
	out_is $'touch x\ntouch y'
	[ ! -e x ]
	[ ! -e y ]
}

# bad_option WHAT ARGS...: weft exec ARGS exits 255 and runs nothing; on
# stderr one line "weft exec: ..." that names WHAT (the wording of the rest
# is not the contract), then the hint.
bad_option() {
	local what=$1
	shift
	run -255 wx "$@" touch ran ::: a < /dev/null
	[ "$(wc -l < err)" -eq 2 ]
	[[ "$(head -n 1 err)" == "weft exec: "*"$what"* ]] || {
		echo "message '$(head -n 1 err)' does not name $what" >&2
		return 1
	}
	[ "$(tail -n 1 err)" = "Try 'weft exec --help' for more information." ]
	out_is ''
	[ ! -e ran ]
}

@test "bad options: exit 255 with a message, nothing runs" {
	bad_option "unknown option '--nope'" --nope
	bad_option "'x' for --jobs" -j x
	bad_option "'1.5' for --jobs" -j 1.5
	bad_option "'sometimes' for --halt" --halt=sometimes
	bad_option "'now,fail=0' for --halt" --halt=now,fail=0
	bad_option "'fancy' for --output" --output=fancy
	bad_option "'5x' for --timeout" --timeout=5x
	bad_option "'x' for --retries" --retries=x
	bad_option "'' for --delimiter" -d ''
	bad_option "--resume needs --joblog" --resume
	bad_option "--resume-failed needs --joblog" --resume-failed
}

@test "bad options: an unknown short option is named in the message" {
	bad_option "unknown option '-x'" -x
}

@test "bad input: a missing input file, ':::: ' without a file, a bad --colsep: exit 255" {
	run -255 wx touch ran :::: nosuch < /dev/null
	err_is "weft exec: cannot open input file 'nosuch': No such file or directory"
	run -255 wx touch ran ::: a :::: < /dev/null
	[ "$(head -n 1 err)" = "weft exec: :::: needs at least one file" ]
	run -255 wx --colsep '(' touch ran ::: a < /dev/null
	[[ "$(cat err)" == "weft exec: invalid --colsep regex '(': "* ]]
	[ ! -e ran ]
}

# ---- --retries ---------------------------------------------------------

# flaky.sh NAME OKAT: counts its runs in count.NAME, prints the attempt on
# stdout and stderr, and succeeds from attempt OKAT on.
write_flaky() {
	cat > flaky.sh << 'EOF'
echo x >> "count.$1"
n=$(wc -l < "count.$1")
echo "attempt $n of $1"
echo "attempt $n of $1 (stderr)" >&2
[ "$n" -ge "$2" ]
EOF
}

@test "--retries 3: a job failing twice runs three times; only the last output is printed" {
	write_flaky
	run -0 wx --retries 3 sh flaky.sh {} 3 ::: a < /dev/null
	[ "$(wc -l < count.a)" -eq 3 ]
	out_is 'attempt 3 of a'
	err_is 'attempt 3 of a (stderr)'
}

@test "--retries 2: a job failing every time runs twice and counts as failed" {
	write_flaky
	run -2 wx --retries 2 -k sh flaky.sh {} 99 ::: a b < /dev/null
	[ "$(wc -l < count.a)" -eq 2 ]
	[ "$(wc -l < count.b)" -eq 2 ]
	out_is $'attempt 2 of a\nattempt 2 of b'
}

@test "without --retries a failing job runs once" {
	write_flaky
	run -1 wx sh flaky.sh {} 2 ::: a < /dev/null
	[ "$(wc -l < count.a)" -eq 1 ]
}

# ---- --halt ------------------------------------------------------------

@test "--halt now,fail=1: exit is the failing job's, the running sibling is stopped" {
	write_await
	cat > job.sh << 'EOF'
case $1 in
long) sleep 1000 & touch long.ready; wait ;;
fail) sh await.sh long.ready; exit 3 ;;
esac
EOF
	run -3 wx -j2 --halt now,fail=1 sh job.sh ::: long fail < /dev/null
	err_is $'weft exec: this job failed:\nsh job.sh fail'
	assert_no_leftovers
}

@test "--halt now,fail=1: a job killed by a signal gives 128+N" {
	run -137 wx -j1 --halt now,fail=1 'kill -KILL $$; : {}' ::: a b < /dev/null
	[ "$(head -n 1 err)" = "weft exec: this job failed:" ]
}

@test "--halt soon,fail=1: the running sibling finishes, later inputs never start" {
	# 'long' is running when 'fail' fails (barrier) and ends normally only
	# once weft has said it halts; 'later*' would take the freed slot.
	cat > job.sh << 'EOF'
case $1 in
long)
	touch long.ready
	i=0
	until grep -q 'this job failed' err; do
		i=$((i + 1)); [ "$i" -lt 500 ] || exit 9; sleep 0.02
	done
	touch long.done ;;
fail)
	i=0
	while [ ! -e long.ready ]; do
		i=$((i + 1)); [ "$i" -lt 500 ] || exit 9; sleep 0.02
	done
	exit 4 ;;
*) touch "$1.ran" ;;
esac
EOF
	run -4 wx -j2 --halt soon,fail=1 sh job.sh ::: long fail later1 later2 < /dev/null
	[ -e long.done ]
	[ ! -e later1.ran ]
	[ ! -e later2.ran ]
	err_is $'weft exec: this job failed:\nsh job.sh fail'
}

@test "--halt now,success=1: exit 0 after the first success, the sibling is stopped" {
	write_await
	cat > job.sh << 'EOF'
case $1 in
long) sleep 1000 & touch long.ready; wait ;;
bad) exit 5 ;;
ok) sh await.sh long.ready bad.done ;;
esac
EOF
	run -0 wx -j3 --halt now,success=1 'sh job.sh {}; r=$?; touch {}.done; exit $r' ::: long bad ok < /dev/null
	[ "$(head -n 1 err)" = 'weft exec: this job succeeded:' ]
	[ "$(tail -n 1 err)" = 'sh job.sh ok; r=$?; touch ok.done; exit $r' ]
	assert_no_leftovers
}

@test "--halt soon,done=2: after two jobs no new job starts" {
	run -0 wx -j1 --halt soon,done=2 'touch {}.ran' ::: 1 2 3 4 < /dev/null
	[ -e 1.ran ]
	[ -e 2.ran ]
	[ ! -e 3.ran ]
	[ ! -e 4.ran ]
	# the contract names no message for done halts: any verb, then the job
	[[ "$(head -n 1 err)" =~ ^weft\ exec:\ this\ job\ [a-z]+:$ ]]
	[ "$(tail -n +2 err)" = 'touch 2.ran' ]
}

@test "--halt soon,fail=50%: halts when half of all jobs failed; the status is the failed share, as in GNU parallel" {
	run -50 wx -j1 --halt soon,fail=50% 'touch {}.ran; case {} in 1) exit 5;; 2) exit 6;; esac' ::: 1 2 3 4 < /dev/null
	[ -e 1.ran ]
	[ -e 2.ran ]
	[ ! -e 3.ran ]
	[ ! -e 4.ran ]
	[ "$(head -n 1 err)" = 'weft exec: this job failed:' ]
}

# ---- --timeout ---------------------------------------------------------

@test "--timeout 1s stops a job and its grandchild, with the warning" {
	run -1 wx --timeout 1s 'sleep 1000 & touch {}.ready; wait' ::: x < /dev/null
	[ -e x.ready ]
	err_is $'weft exec: warning: this job was killed because it timed out:\nsleep 1000 & touch x.ready; wait'
	assert_no_leftovers
}

@test "--timeout: a job that ignores SIGTERM is SIGKILLed after --grace" {
	run -1 wx_within 30 --timeout 500ms --grace 500ms \
		'trap "" TERM; sleep 1000 & touch {}.ready; wait' ::: x < /dev/null
	[ -e x.ready ]
	[ "$(head -n 1 err)" = 'weft exec: warning: this job was killed because it timed out:' ]
	assert_no_leftovers
}

@test "--timeout 200%: a job running far past the median of the fast ones is stopped" {
	cat > pct.sh << 'EOF'
case $1 in
forever) sleep 1000 & touch forever.ready; wait ;;
*) sleep 0.5 ;;
esac
EOF
	run -1 wx_within 30 -j1 --timeout 200% sh pct.sh ::: 1 2 3 forever < /dev/null
	[ -e forever.ready ]
	err_is $'weft exec: warning: this job was killed because it timed out:\nsh pct.sh forever'
	assert_no_leftovers
}

# ---- signals -----------------------------------------------------------

@test "SIGTERM to weft exec while jobs run: exit 143, no leftovers" {
	start_wx -j2 'sleep 1000 & touch {}.ready; wait' ::: a b c
	wait_for a.ready
	wait_for b.ready
	kill -TERM "$pid"
	wait_wx
	[ "$status" -eq 143 ]
	[ ! -e c.ready ]
	assert_no_leftovers
}

@test "weft exec reading its inputs from a terminal says so, once; from a pipe it says nothing" {
	command -v script > /dev/null || skip "script (bsdutils) is not installed"
	run -0 timeout 20 bash -c 'printf "a\nb\n\004" | script -qfec "$0 exec echo" /dev/null' "$WEFT"
	[ "$(grep -c 'weft exec: warning: reading inputs from the terminal: end them with Ctrl-D' <<< "$output")" -eq 1 ]
	run -0 bash -c 'printf "a\n" | "$0" exec echo 2>&1' "$WEFT"
	assert_output a
}
