#!/usr/bin/env bats
# weft exec --pipe: standard input cut into blocks at record boundaries,
# each fed to a job's stdin through the event loop. The blocks are compared
# byte for byte with GNU parallel's (one parallel run per case, few blocks
# each: parallel is slow to start); back-pressure is proved with a job
# that holds the only slot until the input's writer could finish.
load helpers/common
load helpers/exec

setup() { common_setup; }

# same_blocks OPTION... : weft exec cuts ./in where GNU parallel does (the
# sizes of the blocks match), and loses or adds nothing (its blocks, put
# back together, are ./in): so every block is the same, byte for byte.
same_blocks() {
	command -v parallel > /dev/null || skip "GNU parallel is not installed"
	gnu_parallel --will-cite --pipe -k "$@" wc -c < in > want 2> /dev/null
	run -0 wx --pipe -k "$@" wc -c < in
	cmp want out || fail "--pipe $* cuts otherwise than GNU parallel: $(diff want out | head -n 5)"
	run -0 wx --pipe -k "$@" cat < in
	cmp in out || fail "--pipe $* cat does not give back the input"
}

@test "--pipe: lines cut into blocks as GNU parallel cuts them" {
	awk 'BEGIN { for (i = 1; i <= 400; i++) { s = ""; for (k = 0; k < i % 37; k++) s = s "x"; print i ":" s } }' > in
	same_blocks --block-size 2k
	[ "$(wc -l < want)" -ge 4 ]
}

@test "--pipe: records that straddle blocks, --recstart and --recend, -N and -L, as GNU parallel" {
	awk 'BEGIN { for (i = 1; i <= 40; i++) { printf ">seq%d\n", i; for (k = 0; k < i % 5 + 1; k++) print "ACGTACGTAC" } }' > in
	same_blocks --block 500 --recstart '>'
	same_blocks --block 400 --recstart '>' --recend '\n' -N 9
	same_blocks --block 300 -L 30
	same_blocks --block 100 -N 40
}

@test "--pipe: binary data, NULs and no newline at all, byte for byte" {
	# Bytes 0..255 over and over: every byte value, newlines scarce.
	awk 'BEGIN { for (i = 0; i < 3000; i++) printf "%c", i % 256 }' > in
	head -c 20000 /dev/urandom >> in
	same_blocks --block 7k --recend ''
	same_blocks --block 6k
	same_blocks --block 7k --recend '\0'
}

@test "--pipe: a 1 MiB line grows the block size, as in GNU parallel" {
	{
		echo first
		head -c 1048576 /dev/zero | tr '\0' 'y'
		echo
		echo last
	} > in
	same_blocks --block 256k
	run -0 wx --pipe -k --block 256k wc -c < in
	out_is $'6\n1048582'
	[[ $(cat err) == *"weft exec: warning: a record was longer than 256000 bytes: the block size is now 332801"* ]]
}

@test "--pipe: -k prints outputs in block order; {#} is the block number" {
	seq 1000 > in
	run -0 wx --pipe -k --block 1k -j4 'echo {#}: $(wc -l)' < in
	[ "$(wc -l < out)" -ge 4 ]
	awk -F': ' '{ if ($1 != NR) exit 1; n += $2 } END { if (n != 1000) exit 1 }' out
	err_is ''
}

@test "--pipe: a job's stdin is a real pipe, and one that reads nothing ends cleanly" {
	seq 20000 > in
	run -0 wx --pipe -k --block 64k 'cat /dev/stdin | wc -l' < in
	awk '{ n += $1 } END { if (n != 20000) exit 1 }' out
	# Jobs that never read their block: weft neither hangs nor fails.
	head -c 3000000 /dev/zero > in
	run -0 wx_within 20 --pipe --recend '' --block 256k true < in
	err_is ''
}

@test "--pipe: input is read only as fast as jobs take it (back-pressure)" {
	# The writer touches ./wrote only after all 4 MiB were taken from it.
	# With -j1, the first job holds the only slot until ./wrote exists or
	# 1 s passes: weft must not have read the input ahead of the jobs.
	cat > first.sh << 'EOF'
if [ "$1" = 1 ]; then
	i=0
	while [ ! -e wrote ] && [ $i -lt 50 ]; do i=$((i + 1)); sleep 0.02; done
	[ -e wrote ] && touch saw-wrote
fi
wc -c
EOF
	{ head -c 4194304 /dev/zero; touch wrote; } | /usr/bin/time -f '%M' -o rss "$WEFT" exec -j1 --pipe --recend '' --block 64k sh first.sh {#} > out 2> err
	[ ! -e saw-wrote ] || fail "weft read the whole input while its only job was busy"
	awk '{ n += $1 } END { if (n != 4194304) exit 1 }' out
	# Memory stayed flat: far less than the input.
	# (make asan's shadow memory raises the bound through WEFT_RSS_MAX_KB.)
	[ "$(cat rss)" -lt "${WEFT_RSS_MAX_KB:-6000}" ] || fail "peak RSS $(cat rss) KiB"
}

@test "--pipe: --retries gives the job its block again" {
	cat > flaky.sh << 'EOF'
if [ ! -e "tried$1" ]; then : > "tried$1"; exit 1; fi
wc -l
EOF
	seq 100 > in
	run -0 wx --pipe -k --retries 2 --block 100 sh flaky.sh {#} < in
	awk '{ n += $1 } END { if (n != 100) exit 1 }' out
}

@test "--pipe: no input, no jobs; --dry-run prints a command per block" {
	run -0 wx --pipe wc -l < /dev/null
	out_is ''
	printf 'a\nb\nc\n' > in
	run -0 wx --pipe --dry-run -k --block 2 'wc {#}' < in
	out_is $'wc 1\nwc 2\nwc 3'
}

@test "--pipe: bad uses are refused before anything runs" {
	run -255 wx --pipe < /dev/null
	[[ $(head -n 1 err) == "weft exec: --pipe must have a command to pipe into (e.g. 'cat')" ]]
	run -255 wx --pipe cat ::: a
	[[ $(head -n 1 err) == "weft exec: --pipe reads standard input: it takes no :::" ]]
	run -255 wx --block-size 1M cat < /dev/null
	[[ $(head -n 1 err) == "weft exec: --block-size needs --pipe" ]]
	run -255 wx --pipe --block-size 1X cat < /dev/null
	[[ $(head -n 1 err) == "weft exec: invalid value '1X' for --block-size (a size such as 64k, 1M or 10M)" ]]
	run -255 wx --pipe --cluster 2 cat < /dev/null
	run -255 wx --pipe --halt soon,fail=10% cat < /dev/null
}

@test "--block-size takes GNU parallel's suffixes" {
	printf 'ab\n%.0s' $(seq 1000) > in
	# 1k is 1000 bytes and 1K 1024: blocks of 999 and 1023 bytes.
	run -0 wx --pipe -k --block 1k wc -c < in
	[ "$(head -n 1 out)" = 999 ]
	run -0 wx --pipe -k --block 1K wc -c < in
	[ "$(head -n 1 out)" = 1023 ]
	run -0 wx --pipe -k --block 1Ki wc -c < in
	[ "$(head -n 1 out)" = 1023 ]
}

@test "every option of weft exec --help is in man/weft.1, with the same words" {
	local man="$BATS_TEST_DIRNAME/../man/weft.1"
	run -0 --separate-stderr "$WEFT" exec --help
	local text
	text=$(sed -e 's/^\.[A-Za-z]*[[:space:]]*//' -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' \
		-e 's/\\&//g' -e 's/"//g' "$man" | tr -s '\n\t ' '   ')
	local line desc long n=0
	for line in "${lines[@]}"; do
		[[ $line =~ ^\ \ (-([A-Za-z0-9]),\ |\ \ \ \ )--([a-z-]+)(=[A-Z,=]+)?\ +(.*)$ ]] || continue
		long=${BASH_REMATCH[3]} desc=${BASH_REMATCH[5]}
		n=$((n + 1))
		grep -qF -- "\\-\\-${long//-/\\-}" "$man" || fail "--$long is not in man/weft.1"
		[[ $text == *"$desc"* ]] || fail "man/weft.1 does not say '$desc' (for --$long)"
	done
	[ "$n" -ge 30 ]
}
