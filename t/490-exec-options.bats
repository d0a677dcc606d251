#!/usr/bin/env bats
# weft exec's everyday options from GNU parallel: -v, -a, -u, --line-buffer,
# -q, -I, --delay, --tmpdir, --arg-sep, --arg-file-sep and the aliases -P,
# -C, --keeporder, --xapply; compared with parallel where its output is the
# contract.
load helpers/common
load helpers/exec

setup() { common_setup; }

@test "-q, -I, -C, -P, --keeporder, --xapply, --arg-sep give what GNU parallel gives" {
	command -v parallel > /dev/null || skip "GNU parallel is not installed"
	local a
	for a in "-k -q echo 'a  b' {}" "-k -I @@ echo x@@y" "-k -C , echo {2}" "-P1 --keeporder echo" \
		"--xapply -k echo {1}{2} ::: 1 2 3" "-k --arg-sep ,, echo"; do
		eval "gnu_parallel --will-cite $a ::: 'p,q' r" < /dev/null > want 2>&1
		eval "\"\$WEFT\" exec $a ::: 'p,q' r" > got 2>&1
		cmp want got || fail "weft exec $a: $(cat got), not $(cat want)"
	done
}

@test "-v prints each job's command as the first line of its output" {
	run -0 wx -k -v echo ::: a 'b c'
	out_is $'echo a\na\necho \'b c\'\nb c'
	run -0 wx -k -v --pipe --block 2 wc -l <<< $'x\ny'
	out_is $'wc -l\n1\nwc -l\n1'
}

@test "-a FILE and --arg-file are sources, before those of ::: and ::::" {
	printf 'x\ny\n' > af
	printf '1\n' > bf
	run -0 wx -k -a af echo
	out_is $'x\ny'
	run -0 wx -k --arg-file af -a bf echo ::: p
	out_is $'x 1 p\ny 1 p'
	run -0 wx -k --arg-file-sep ++ echo ++ bf
	out_is '1'
	run -255 wx --pipe -a af cat
	[[ $(head -n 1 err) == "weft exec: -a cannot be used with --pipe: --pipe reads standard input" ]]
}

@test "-u is raw output, --line-buffer line output" {
	write_await
	# With --line-buffer a job's whole line is printed while it still runs:
	# the other job sees it in ./out.
	run -0 wx_within 20 --line-buffer -j2 "if [ {} = 1 ]; then echo first; sleep 0.1; sh await.sh seen; else i=0; until grep -q first out || [ \$i -ge 500 ]; do i=\$((i+1)); sleep 0.02; done; touch seen; fi" ::: 1 2
	[ -e seen ]
	grep -qx first out
	run -0 wx -u -k "printf 'a\\nb\\n'; : {}" ::: 1
	out_is $'a\nb'
}

@test "--delay spaces the starts of the jobs" {
	# The job log's start times are weft's own, taken as it starts each job.
	run -0 wx -j3 --delay 0.3 --joblog jl true ::: 1 2 3
	[ "$(tail -n +2 jl | wc -l)" = 3 ]
	tail -n +2 jl | cut -f 3 | sort -n | awk 'NR > 1 && $1 - prev < 0.299 { exit 1 } { prev = $1 }'
	run -255 wx --delay soon true ::: 1
}

@test "--tmpdir: weft and the jobs use DIR for temporary files" {
	mkdir td
	run -0 wx --tmpdir td 'echo $TMPDIR; : {}' ::: 1
	out_is 'td'
	run -255 wx --tmpdir nowhere true ::: 1
	[[ $(cat err) == "weft exec: cannot use --tmpdir 'nowhere': No such file or directory" ]]
}

@test "--shuf runs every input once, in a random order; {#} counts in running order" {
	seq 200 > in
	run -0 wx -k -j1 --shuf 'echo {#} {}' < in
	cut -d ' ' -f 1 out | cmp - in
	cut -d ' ' -f 2 out | sort -n | cmp - in
	# 200 inputs in their own order by chance: one in 200! runs.
	run ! cmp -s <(cut -d ' ' -f 2 out) in
	run -255 wx --pipe --shuf cat < /dev/null
}

@test "--header: the first input names its source, or its columns with --colsep, as in GNU parallel" {
	command -v parallel > /dev/null || skip "GNU parallel is not installed"
	printf 'n,m\n1,2\n3,4\n' > in
	run -0 wx -k --header : --colsep , echo {m}-{n} {1} {m.} < in
	out_is $'2-1 1 2\n4-3 3 4'
	gnu_parallel --will-cite -k --header : --colsep , echo {m}-{n} {1} {m.} < in > want
	cmp want out
	run -0 wx -k --header : echo {a} {b} ::: a 1 2 ::: b x
	out_is $'1 x\n2 x'
	run -255 wx --header : --pipe cat < /dev/null
}

@test "--plus: its replacement strings that need no Perl give what GNU parallel gives" {
	command -v parallel > /dev/null || skip "GNU parallel is not installed"
	local s='X{+/},{+.},{+..},{+...},{..},{...},{/..},{/...},{##},{0#},{2..},{1+/},{-1/..}X'
	gnu_parallel --will-cite -k --plus echo "$s" ::: a/b.tar.gz.x c.d 'e..' f/.g/h ::: q/r.s.t < /dev/null > want
	run -0 wx -k --plus echo "$s" ::: a/b.tar.gz.x c.d 'e..' f/.g/h ::: q/r.s.t
	cmp want out
	run -0 wx -k -j12 --plus echo '{0%}' ::: a
	out_is '01'
	# Without --plus they are text.
	run -0 wx -k echo '{..}' ::: a.b.c
	out_is '{..} a.b.c'
}
