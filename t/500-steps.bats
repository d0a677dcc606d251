#!/usr/bin/env bats
# Built-in steps on the worker pool: `hash` against sha256sum / xxhsum and
# `grep` against GNU grep (C locale), byte for byte, on the same files. The
# C driver t/helpers/step-test.c runs one step as pool work on a libuv loop.
load helpers/common

setup() { common_setup; }

STEP="${STEP_TEST:-$BATS_TEST_DIRNAME/../build/t/step-test}"

# Large inputs, made once for the whole file.
setup_file() {
	cd "$BATS_FILE_TMPDIR" || return 1
	seq 1 6500000 > big          # ~50 MB of numbered lines
	head -c 5000000 /dev/urandom > random
}

# Small inputs, in each test's directory.
files() {
	: > empty
	printf 'hello\nworld\nfoo bar\nHello again\nhello world\n' > text
	printf 'one\ntwo hello\nthree' > nonl
	printf 'alpha\r\nhello\r\nbeta hello\r\n\r\n' > crlf
	printf 'hello\0binary\nhello\n' > bin
	printf 'a\0b\0c\n\0\0\0\377\376hello\n' > bin2
	printf 'x\n' > 'with space'
}

# same_hash [--algo=xxh128] PATH...: the step prints what sha256sum (or
# xxhsum -H2) prints, byte for byte, with the same status.
same_hash() {
	local ref=(sha256sum) ours=0 theirs=0
	if [ "$1" = --algo=xxh128 ]; then
		ref=(xxhsum -H2)
	fi
	case "$1" in --algo=*) ;; *) set -- --algo=sha256 "$@" ;; esac
	"$STEP" hash "$@" > ours.out 2> ours.err || ours=$?
	shift
	"${ref[@]}" "$@" > theirs.out 2> /dev/null || theirs=$?
	if ! cmp theirs.out ours.out; then
		diff theirs.out ours.out | head -20
		return 1
	fi
	# sha256sum exits 1 on an unreadable file; the step's error status is 2.
	[ "$theirs" = 0 ] || theirs=2
	[ "$ours" = "$theirs" ] || { echo "status $ours, want $theirs"; return 1; }
}

# same_grep ARGS...: `step grep ARGS` prints what `LC_ALL=C grep -n ARGS`
# prints on stdout, byte for byte, and exits with the same status.
same_grep() {
	local ours=0 theirs=0
	"$STEP" grep "$@" > ours.out 2> ours.err || ours=$?
	LC_ALL=C grep -n "$@" > theirs.out 2> theirs.err || theirs=$?
	if ! cmp theirs.out ours.out; then
		diff theirs.out ours.out | head -20
		return 1
	fi
	[ "$ours" = "$theirs" ] || { echo "status $ours, want $theirs"; cat ours.err; return 1; }
}

# --- hash ---

@test "hash: sha256 of empty, random, binary and spaced files is sha256sum's" {
	files
	cp "$BATS_FILE_TMPDIR/random" random
	run -0 same_hash empty
	run -0 same_hash random
	run -0 same_hash bin
	run -0 same_hash 'with space'
	run -0 same_hash empty random bin bin2 text 'with space' empty
}

@test "hash: a 50 MB file, by relative and absolute path" {
	run -0 same_hash "$BATS_FILE_TMPDIR/big"
	cd "$BATS_FILE_TMPDIR"
	run -0 same_hash big random
}

@test "hash: names with a backslash or newline are escaped as sha256sum does" {
	: > 'back\slash'
	: > "$(printf 'new\nline')"
	: > "$(printf 'car\rriage')"
	: > plain
	run -0 same_hash 'back\slash' "$(printf 'new\nline')" "$(printf 'car\rriage')" plain
}

@test "hash: --output writes a file that sha256sum -c accepts" {
	files
	run -0 "$STEP" hash --output=sums text empty bin 'with space'
	assert_output ""
	[ "$(stat -c %a sums)" = 644 ]
	run -0 sha256sum -c sums
	assert_output "text: OK
empty: OK
bin: OK
with space: OK"
	# Nothing else is left beside it (the temporary file was renamed).
	run -0 ls -A
	assert_output "$(printf '%s\n' bin bin2 crlf empty nonl sums text 'with space')"
}

@test "hash: --output into another directory" {
	files
	mkdir out
	run -0 "$STEP" hash --output=out/sums text
	run -0 sha256sum -c out/sums
	assert_output "text: OK"
	run -0 ls -A out
	assert_output "sums"
}

@test "hash: xxh128 is what xxhsum -H2 prints" {
	command -v xxhsum > /dev/null || skip "xxhsum not installed (Debian package xxhash)"
	files
	cp "$BATS_FILE_TMPDIR/random" random
	# By a relative name: xxhsum 0.8.1 prints a newline in a name raw,
	# where weft escapes it as sha256sum does (the temp dir may hold one).
	ln -s "$BATS_FILE_TMPDIR/big" big
	run -0 same_hash --algo=xxh128 empty
	run -0 same_hash --algo=xxh128 random bin text 'with space' big
	run -0 "$STEP" hash --algo=xxh128 --output=sums.xxh text bin
	run -0 xxhsum -c sums.xxh
}

@test "hash: a missing file and a directory are errors naming them; the rest is hashed" {
	files
	mkdir dir
	run -2 --separate-stderr "$STEP" hash text missing dir empty
	assert_output "$(sha256sum text empty)"
	[ "$stderr" = "weft: hash: cannot read 'missing': No such file or directory
weft: hash: cannot read 'dir': Is a directory" ]
	run -0 same_hash text missing dir empty
}

@test "hash: a file without read permission is an error naming it" {
	[ "$(id -u)" != 0 ] || skip "root reads any file"
	files
	chmod 000 text
	run -2 --separate-stderr "$STEP" hash text
	[ "$stderr" = "weft: hash: cannot read 'text': Permission denied" ]
}

@test "hash: --output is left alone when a file cannot be read" {
	files
	echo old > sums
	run -2 "$STEP" hash --output=sums text missing
	assert_output "weft: hash: cannot read 'missing': No such file or directory"
	[ "$(cat sums)" = old ]
	run -0 ls -A
	assert_output "$(printf '%s\n' bin bin2 crlf empty nonl sums text 'with space')"
	run -2 "$STEP" hash --output=nodir/sums text
	assert_output "weft: hash: cannot write 'nodir/sums': No such file or directory"
}

@test "hash: bad arguments are recipe-time errors" {
	run -2 "$STEP" --check hash --algo=md5 x
	assert_output "unknown algorithm 'md5' (sha256 or xxh128)"
	run -2 "$STEP" --check hash
	assert_output "no files to hash"
	run -2 "$STEP" --check hash --output=
	assert_output "option '--output=' needs a file name"
	run -2 "$STEP" --check hash -x file
	assert_output "unknown option '-x'"
	run -0 "$STEP" --check hash --algo=xxh128 --output=s -- -file
	assert_output ""
}

# --- grep ---

@test "grep: one file is grep -n's output" {
	files
	run -0 same_grep hello text
	run -0 same_grep '^h' text
	run -0 same_grep 'o$' text
	run -0 same_grep '' text
	run -0 same_grep zzz text
	run -0 same_grep hello empty
	run -0 same_grep '' empty
}

@test "grep: several files get FILE:LINE: prefixes as grep -n's" {
	files
	run -0 same_grep hello text nonl crlf empty 'with space'
	run -0 same_grep zzz text empty
}

@test "grep: -c counts as grep -c, per file with several" {
	files
	run -0 same_grep -c hello text
	run -0 same_grep -c zzz text
	run -0 same_grep -c hello empty
	run -0 same_grep -c hello text nonl crlf empty
	run -0 same_grep -c '' text nonl crlf empty
}

@test "grep: -v selects the lines that do not match, as grep -v -n" {
	files
	run -0 same_grep -v hello text
	run -0 same_grep -v hello text nonl crlf empty
	run -0 same_grep -v '' text
	run -0 same_grep -c -v hello text nonl
	run -0 same_grep -cv o text
}

@test "grep: -i ignores case as grep -i" {
	files
	run -0 same_grep -i HELLO text
	run -0 same_grep -i -c hElLo text crlf
	run -0 same_grep -i -v 'WORLD$' text nonl
}

@test "grep: a last line without a newline and CRLF lines are grep's" {
	files
	run -0 same_grep three nonl
	run -0 same_grep -v zzz nonl
	run -0 same_grep 'hello' crlf
	run -0 same_grep '^$' crlf
	run -0 same_grep -c 'o.$' crlf
}

@test "grep: a 50 MB file is grep's, -n, -c and -v" {
	cp "$BATS_FILE_TMPDIR/big" big
	run -0 same_grep '7$' big
	run -0 same_grep -c '^1' big
	run -0 same_grep -v '[0-8]' big
	run -0 same_grep -c -v 9 big
	run -0 same_grep '^6500000$' big text
}

@test "grep: binary files as grep in the C locale" {
	files
	cp "$BATS_FILE_TMPDIR/random" random
	run -0 same_grep hello bin
	run -0 --separate-stderr "$STEP" grep hello bin
	assert_output ""
	[ "$stderr" = "weft: grep: binary file 'bin' matches" ]
	run -0 same_grep hello text bin
	run -0 same_grep zzz bin
	run -0 same_grep -c hello bin bin2
	run -0 same_grep -v hello bin
	run -0 same_grep '^b' bin2
	run -0 same_grep '^c$' bin2
	run -0 same_grep -c '^c$' bin2
	run -0 same_grep -c -v zzz bin bin2
	{ printf 'x\ny\n'; head -c 200000 /dev/zero; echo; } > zeros
	run -0 same_grep -c '' zeros
	run -0 same_grep -c -v x zeros
	run -0 same_grep '^$' zeros
	run -0 same_grep 'e' random
	run -0 same_grep -c 'e' random
	# Text before the first NUL is printed while it lies in an earlier read.
	{ seq 1 20000; printf '\0\n'; seq 1 10; } > late
	run -0 same_grep '^7' late
}

@test "grep: a missing file and a directory are errors naming them; the rest is searched" {
	files
	mkdir dir
	run -0 same_grep hello text missing dir nonl
	run -0 same_grep -c hello text missing dir nonl
	run -2 --separate-stderr "$STEP" grep hello missing dir
	assert_output ""
	[ "$stderr" = "weft: grep: cannot read 'missing': No such file or directory
weft: grep: cannot read 'dir': Is a directory" ]
}

@test "grep: an invalid regex is a recipe-time error with PCRE2's message and offset" {
	run -2 "$STEP" --check grep 'a(' file
	assert_output "invalid regex 'a(': missing closing parenthesis at offset 2"
	run -2 "$STEP" --check grep -i 'x[b-a]' file
	assert_output "invalid regex 'x[b-a]': range out of order in character class at offset 4"
	run -2 "$STEP" --check grep "$(printf 'a\nb')" file
	assert_output "invalid regex 'a
b': a pattern cannot contain a newline"
	# The driver checks before it runs, as a recipe does.
	run -2 "$STEP" grep '(?<' file
	assert_output --partial "invalid regex '(?<': "
	assert_output --partial " at offset 3"
}

@test "grep: bad arguments are recipe-time errors" {
	run -2 "$STEP" --check grep -x a file
	assert_output "unknown option '-x'"
	run -2 "$STEP" --check grep --count a file
	assert_output "unknown option '--count'"
	run -2 "$STEP" --check grep
	assert_output "no pattern given"
	run -2 "$STEP" --check grep -c a
	assert_output "no files to search"
	run -0 "$STEP" --check grep -cvin --output=o -- -a file
}

@test "grep: --output replaces the file only when grep ends with 0 or 1" {
	files
	run -0 "$STEP" grep --output=found hello text nonl
	assert_output ""
	LC_ALL=C grep -n hello text nonl > want
	run -0 cmp want found
	[ "$(stat -c %a found)" = 644 ]
	run -1 "$STEP" grep --output=none zzz text
	[ -f none ]
	[ ! -s none ]
	echo old > found
	run -2 "$STEP" grep --output=found hello text missing
	[ "$(cat found)" = old ]
	run -0 ls -A
	assert_output "$(printf '%s\n' bin bin2 crlf empty found none nonl text want 'with space')"
}

# --- the pool and the output path ---

@test "pool: a slow reader holds back a step's output instead of buffering it" {
	# ~100 MB of output through a loop that sleeps 1 ms per 64 KiB chunk:
	# unbounded buffering would need >100 MB; the step waits instead.
	# The output goes to a file: bats would split 50 MB into lines.
	run -0 --separate-stderr bash -c '"$0" --stats --delay-ms=1 grep "" "$1" > out' "$STEP" "$BATS_FILE_TMPDIR/big"
	[ "$(wc -l < out)" -eq 6500000 ]
	[[ "$stderr" =~ ^step-test:\ chunks\ ([0-9]+)\ maxrss\ ([0-9]+)$ ]]
	[ "${BASH_REMATCH[1]}" -gt 1000 ]
	echo "maxrss ${BASH_REMATCH[2]} KiB" >&3
	[ "${BASH_REMATCH[2]}" -lt 40000 ]
}

@test "pool: a cancelled step stops early and says so through its status" {
	run -2 --separate-stderr "$STEP" --cancel-after-first grep '' "$BATS_FILE_TMPDIR/big"
	[ "$stderr" = "step-test: cancelled" ]
	[ "${#output}" -lt 10000000 ]
}

@test "pool: a step reading a file that never ends stops when cancelled" {
	mkfifo endless
	mkdir out
	yes > endless 3>&- &
	run -2 --separate-stderr "$STEP" --cancel-after-ms=200 hash --output=out/sums endless
	[ "$stderr" = "step-test: cancelled" ]
	# No output file, and no temporary file left beside it.
	run -0 ls -A out
	assert_output ""
	yes > endless 3>&- &
	run -2 --separate-stderr "$STEP" --cancel-after-ms=200 grep zzz endless
	[ "$stderr" = "step-test: cancelled" ]
}

@test "pool: many jobs on few threads all finish, each with its own output" {
	files
	run -0 "$STEP" --repeat=40 --threads=3 hash text bin
	[ "${#lines[@]}" = 80 ]
	want=$(sha256sum text)
	n=0
	for l in "${lines[@]}"; do
		[ "$l" = "$want" ] && n=$((n + 1))
	done
	[ "$n" = 40 ]
	run -2 "$STEP" --repeat=5 --threads=1 grep hello text missing
	[ "${#lines[@]}" = 15 ]
}
