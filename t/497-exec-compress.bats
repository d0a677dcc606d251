#!/usr/bin/env bats
# weft exec --compress: output held back past its memory share (-k, group
# mode) is kept compressed in its temporary file, and comes out the same.
load helpers/common
load helpers/exec

setup() { common_setup; }

# The bytes weft's temporary files under ./tmp hold now (its pid in $pid).
tmp_bytes() {
	local f n=0 s
	for f in /proc/"$pid"/fd/*; do
		case $(readlink "$f" 2> /dev/null) in "$PWD/tmp/"*)
			s=$(stat -L -c %s "$f" 2> /dev/null) && n=$((n + s)) ;;
		esac
	done
	echo "$n"
}

@test "--compress: output spilled for -k is the same, and what waits on disk is compressed" {
	write_await
	mkdir tmp
	# Job 1 waits for the test; job 2's 6 MB wait behind it, spilled.
	TMPDIR=$PWD/tmp start_wx -k --compress -j2 --joblog jl \
		'if [ {} = 1 ]; then sh await.sh go; echo one; else head -c 6000000 /dev/zero | tr "\0" x; echo; fi' ::: 1 2
	local i=0
	while [ "$(wc -l < jl 2> /dev/null || echo 0)" -lt 2 ] && [ $i -lt 500 ]; do
		i=$((i + 1))
		sleep 0.02
	done
	[ "$(wc -l < jl)" = 2 ] || fail "job 2 never finished"
	local held
	held=$(tmp_bytes)
	touch go
	wait_wx
	[ "$status" = 0 ]
	[ "$held" -gt 0 ] && [ "$held" -lt 1000000 ] || fail "6 MB held in $held bytes"
	[ "$(head -n 1 out)" = one ]
	[ "$(tail -n 1 out | wc -c)" = 6000001 ]
	[ -z "$(tail -n 1 out | tr -d x)" ]
}

@test "--compress gives what GNU parallel gives; --compress-program is refused" {
	command -v parallel > /dev/null || skip "GNU parallel is not installed"
	parallel --will-cite -k -j3 'seq {} 300000' ::: 3 2 1 > want
	run -0 wx --compress -k -j3 'seq {} 300000' ::: 3 2 1
	cmp want out
	run -255 wx --compress-program zstd true ::: 1
	[[ $(head -n 1 err) == "weft exec: --compress-program and --decompress-program cannot be used: weft exec compresses spilled output with zlib itself (--compress)" ]]
}
