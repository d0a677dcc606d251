#!/usr/bin/env bats
# weft exec output: group (whole jobs, stdout then stderr), line (whole
# lines, as they come), -k (input order), --tag and --tagstring (compared
# with GNU parallel's), big outputs in flat memory, and a reader that goes
# away (| head -1). Jobs that must overlap wait for each other's marker
# files; every wait is bounded.
load helpers/common
load helpers/exec

setup() { common_setup; }

PARALLEL=(parallel --will-cite)

# wx_merged ARGS: weft exec with stdout and stderr both in ./all.
wx_merged() { "$WEFT" exec "$@" > all 2>&1; }

# blocks FILE ID...: FILE is the blocks of the jobs ID..., each whole, in
# the order in which their first lines appear, and every ID is there once.
# A block of ID is "ID start", "ID 1" ... "ID 2000", "ID end".
blocks() {
	local file=$1 id
	shift
	local order
	order=$(sed -n 's/ start$//p' "$file")
	[ "$(sort <<< "$order" | tr '\n' ' ')" = "$* " ] || {
		echo "blocks in $file: $order, expected $*" >&2
		return 1
	}
	for id in $order; do
		echo "$id start"
		seq 2000 | sed "s/^/$id /"
		echo "$id end"
	done > want
	cmp want "$file"
}

# mixer.sh ID: a block of output, on stdout (or on stderr with ERR=1), with
# a pause in the middle until all of a, b and c have started.
write_mixer() {
	write_await
	cat > mixer.sh << 'EOF'
[ -n "$ERR" ] && exec >&2
echo "$1 start"
seq 2000 | sed "s/^/$1 /"
touch "$1.ready"
sh await.sh a.ready b.ready c.ready || exit 9
echo "$1 end"
EOF
}

@test "group output: the jobs' outputs never mix, even when the jobs overlap" {
	write_mixer
	run -0 wx -j3 sh mixer.sh ::: a b c < /dev/null
	blocks out a b c
	err_is ''
}

@test "group output: stderr of the jobs never mixes either" {
	write_mixer
	run -0 wx -j3 'ERR=1 sh mixer.sh' ::: a b c < /dev/null
	blocks err a b c
	out_is ''
}

@test "group output: each job's stdout whole, then its stderr (as GNU parallel)" {
	cat > job.sh << 'EOF'
echo "out1 $1"
echo "err1 $1" >&2
echo "out2 $1"
echo "err2 $1" >&2
EOF
	run -0 wx_merged -k sh job.sh ::: 1 2 < /dev/null
	file_is all $'out1 1\nout2 1\nerr1 1\nerr2 1\nout1 2\nout2 2\nerr1 2\nerr2 2'
	"${PARALLEL[@]}" -k sh job.sh ::: 1 2 > want 2>&1 < /dev/null
	diff want all
}

@test "--output=line: whole lines only, while the jobs' partial lines overlap" {
	# Each job writes half a line, waits until all three have, then ends
	# the line: raw output would read "a-b-c-a".
	write_await
	cat > half.sh << 'EOF'
printf '%s-' "$1"
touch "$1.ready"
sh await.sh a.ready b.ready c.ready || exit 9
printf '%s\n' "$1"
EOF
	run -0 wx -j3 --output=line sh half.sh ::: a b c < /dev/null
	[ "$(sort out | tr '\n' ' ')" = "a-a b-b c-c " ]
	[ "$(wc -l < out)" -eq 3 ]
}

@test "--output=line: a line is printed while its job still runs" {
	cat > early.sh << 'EOF'
echo "early $1"
i=0
until grep -qx "early $1" out; do
	i=$((i + 1)); [ "$i" -lt 500 ] || exit 9; sleep 0.02
done
echo "late $1"
EOF
	run -0 wx --output=line sh early.sh ::: a < /dev/null
	out_is $'early a\nlate a'
}

@test "--output=line: stdout lines go to stdout, stderr lines to stderr" {
	run -0 wx --output=line -k 'echo out {}; echo err {} >&2' ::: a < /dev/null
	out_is 'out a'
	err_is 'err a'
}

@test "-k: input order although a later job finishes first" {
	# 'b' ends before 'a' prints anything; both run at once (barrier).
	write_await
	cat > job.sh << 'EOF'
case $1 in
a) touch a.ready; sh await.sh b.done || exit 9; echo "a out"; echo "a err" >&2 ;;
b) sh await.sh a.ready || exit 9; echo "b out"; echo "b err" >&2; touch b.done ;;
esac
EOF
	run -0 wx -k -j2 sh job.sh ::: a b < /dev/null
	out_is $'a out\nb out'
	err_is $'a err\nb err'
}

@test "-k: reversed durations give input order, as GNU parallel's -k" {
	# job i sleeps (7 - i) * 0.05 s: the last input is the first to end.
	cat > job.sh << 'EOF'
sleep "$(printf '0.%02d' $(((7 - $1) * 5)))"
echo "out1 $1"
echo "err $1" >&2
echo "out2 $1"
EOF
	run -0 wx -k -j6 sh job.sh ::: 1 2 3 4 5 6 < /dev/null
	"${PARALLEL[@]}" -k -j6 sh job.sh ::: 1 2 3 4 5 6 > want.out 2> want.err < /dev/null
	for i in 1 2 3 4 5 6; do printf 'out1 %s\nout2 %s\n' $i $i; done > expect
	cmp expect out
	diff want.out out
	diff want.err err
}

@test "--tag: each line prefixed with the inputs joined by ' ' and a tab, as GNU parallel" {
	local cmd='printf "x\ny\n"; :'
	run -0 wx --tag -k "$cmd" ::: a 'b c' ::: 1 < /dev/null
	out_is $'a 1\tx\na 1\ty\nb c 1\tx\nb c 1\ty'
	"${PARALLEL[@]}" --tag -k "$cmd" ::: a 'b c' ::: 1 > want < /dev/null
	diff want out
}

@test "--tag with --output=line and on stderr" {
	run -0 wx --tag --output=line -k 'echo o; echo e >&2; :' ::: a < /dev/null
	out_is $'a\to'
	err_is $'a\te'
}

@test "--tagstring: the prefix with replacement strings, and a tab, as GNU parallel" {
	run -0 wx --tagstring '<{}>{#}' -k echo hi ::: x y < /dev/null
	out_is $'<x>1\thi x\n<y>2\thi y'
	"${PARALLEL[@]}" --tagstring '<{}>{#}' -k echo hi ::: x y > want < /dev/null
	diff want out
}

@test "--tagstring: values are shown as they are, not shell-quoted (as GNU parallel)" {
	run -0 wx --tagstring '<{}>' -k echo hi ::: 'b c' "d'e" < /dev/null
	"${PARALLEL[@]}" --tagstring '<{}>' -k echo hi ::: 'b c' "d'e" > want < /dev/null
	out_is $'<b c>\thi b c\n<d\'e>\thi d\'e'
	diff want out
}

# The most memory weft may use while 50 MB go through it (KiB).
RSS_MAX_KB=${WEFT_RSS_MAX_KB:-65536}

# measured_wx ARGS: as wx, with weft's maximum RSS (KiB) in ./rss.
measured_wx() { /usr/bin/time -f %M -o rss "$WEFT" exec "$@" > out 2> err; }

@test "-k: a first job printing 50 MB while later jobs end first: byte-exact, in order, flat memory" {
	[ -x /usr/bin/time ] || skip "needs /usr/bin/time to measure weft's memory"
	head -c 50000000 /dev/urandom > big.bin
	write_await
	cat > job.sh << 'EOF'
case $1 in
1) sh await.sh 2.done 3.done 4.done || exit 9; cat big.bin ;;
*) echo "small $1"; touch "$1.done" ;;
esac
EOF
	run -0 measured_wx -k -j4 sh job.sh ::: 1 2 3 4 < /dev/null
	{
		cat big.bin
		printf 'small %s\n' 2 3 4
	} > want
	cmp want out
	echo "weft's maximum RSS: $(cat rss) KiB"
	[ "$(tail -n 1 rss)" -lt "$RSS_MAX_KB" ]
}

@test "-k: a later job printing 50 MB while the first still runs: byte-exact, in order, flat memory" {
	[ -x /usr/bin/time ] || skip "needs /usr/bin/time to measure weft's memory"
	head -c 50000000 /dev/urandom > big.bin
	write_await
	cat > job.sh << 'EOF'
case $1 in
1) sh await.sh 2.done || exit 9; echo "first" ;;
2) cat big.bin; touch 2.done ;;
esac
EOF
	run -0 measured_wx -k -j2 sh job.sh ::: 1 2 < /dev/null
	{
		echo first
		cat big.bin
	} > want
	cmp want out
	[ "$(tail -n 1 rss)" -lt "$RSS_MAX_KB" ]
}

# head_one ARGS: `yes | weft exec ARGS | head -n 1` ends (bounded) after one
# line; weft dies of SIGPIPE, quietly.
head_one() {
	run -0 timeout 20 bash -c 'yes | "$WEFT" exec "$@" 2> err | head -n 1
		echo "${PIPESTATUS[1]}" > weft.status' bash "$@"
	[ "$output" = y ]
	err_is ''
	[ "$(cat weft.status)" -eq 141 ]
	wait_gone
}

@test "| head -1 with endless input: weft ends at once, quietly (group output)" {
	head_one echo
}

@test "| head -1 with endless input: weft ends at once, quietly (-k)" {
	head_one -k echo
}

@test "| head -1 with endless input: weft ends at once, quietly (--output=line)" {
	head_one --output=line echo
}

@test "lines over 64 KiB stay whole with --output=line and --tag: held on disk past a bound, never cut, never mixed" {
	# a.txt: a 1 MB line of A, then a short one; b.txt: 300 KB of B, no newline.
	awk 'BEGIN { s = "A"; while (length(s) < 1000000) s = s s; print substr(s, 1, 1000000); print "a" }' > a.txt
	awk 'BEGIN { s = "B"; while (length(s) < 300000) s = s s; printf "%s", substr(s, 1, 300000) }' > b.txt
	local mode
	for mode in line group; do
		run -0 wx --output=$mode --tag -j2 cat ::: a.txt b.txt < /dev/null
		run -0 awk -F '\t' '{ print $1, length($2), ($2 ~ /^(A+|a|B+)$/) }' out
		assert_output --partial 'a.txt 1000000 1'
		assert_output --partial 'a.txt 1 1'
		assert_output --partial 'b.txt 300000 1'
		[ "$(wc -l < out)" -eq 3 ]
	done
	recipe '[t]
foreach = a.txt b.txt
run = cat {}'
	run -0 bash -c '"$0" -j2 --output=line > out 2> err' "$WEFT"
	run -0 awk -F ' [|] ' '{ print $1, length($2) }' out
	assert_output --partial 't[a.txt] 1000000'
	assert_output --partial 't[b.txt] 300000'
	[ "$(wc -l < out)" -eq 3 ]
}
