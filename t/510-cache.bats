#!/usr/bin/env bats
# Up-to-date checks (src/cache.c) through the driver t/helpers/cache-test.c:
# what makes a task stale and why, stat data before hashing, and a state in
# .weft/ that a kill -9, a bad file or a planted symbolic link cannot fool.
load helpers/common

setup() {
	common_setup
	mkdir -p src/sub out
	echo 'int a;' > src/a.c
	echo 'int b;' > src/sub/b.c
	echo built > out/x
}

CT="${CACHE_TEST:-$BATS_TEST_DIRNAME/../build/t/cache-test}"

# check [OPTIONS]: task "build" of this directory, with stat data trusted
# at once (no racy window; see the racy test).
check() {
	"$CT" --racy-ms 0 --source 'src/**/*.c' --output 'out/*' --cmd 'cc -o out/x src/*.c' --env CC=cc "$@" . build
}

# many DIR N: N small files DIR/fN.c.
many() {
	mkdir -p "$1"
	# One awk, not a redirection per file from bash: half the system time.
	awk -v d="$1" -v n="$2" 'BEGIN { for (i = 1; i <= n; i++) { f = d "/f" i ".c"; print i > f; close(f) } }'
}

@test "a task that never ran is stale; once recorded and unchanged, fresh without hashing" {
	run -0 --separate-stderr check
	assert_line -n 0 'stale: never ran'
	assert_line -n 1 --regexp '^fingerprint [0-9a-f]{32}$'
	assert_equal "$stderr" 'hashed=2 sources=2'
	local fp=${lines[1]}
	run -0 --separate-stderr check --record
	run -0 --separate-stderr check
	assert_output "fresh
$fp"
	assert_equal "$stderr" 'hashed=0 sources=2'
}

@test "a fresh task whose depfile names its own source saves nothing: a no-op leaves the state as it was" {
	echo 'int h;' > src/h.h
	run -0 check --record --read src/a.c --read src/h.h
	local before
	before=$(cksum < .weft/state)
	# --run records a fresh task (as weft does) and saves: a save writes a
	# new id, so the same bytes mean that nothing was written.
	run -0 --separate-stderr check --run false --read src/a.c --read src/h.h
	assert_line -n 0 'fresh'
	assert_equal "$(cksum < .weft/state)" "$before"
	echo 'int h = 1;' > src/h.h
	run -0 --separate-stderr check --run true --read src/a.c --read src/h.h
	assert_line -n 0 "stale: source 'src/h.h' changed"
	[ "$(cksum < .weft/state)" != "$before" ]
}

@test "a changed source makes the task stale and names the file" {
	run -0 check --record
	echo 'int a = 1;' > src/a.c
	run -0 --separate-stderr check
	assert_line -n 0 "stale: source 'src/a.c' changed"
	assert_equal "$stderr" 'hashed=1 sources=2'
	echo 'int b = 1;' > src/sub/b.c
	run -0 --separate-stderr check
	assert_line -n 0 "stale: source 'src/a.c' changed (and 1 more)"
}

@test "touching a source without changing it hashes it once and stays fresh" {
	run -0 check --record
	touch -d '2001-02-03 04:05:06' src/a.c
	run -0 --separate-stderr check --record
	assert_line -n 0 'fresh'
	assert_equal "$stderr" 'hashed=1 sources=2'
	run -0 --separate-stderr check
	assert_line -n 0 'fresh'
	assert_equal "$stderr" 'hashed=0 sources=2'
}

@test "same size and mtime but new content: ctime and inode give it away" {
	run -0 check --record
	local m
	m=$(stat -c %y src/a.c)
	echo 'int z;' > src/a.c.new
	touch -d "$m" src/a.c.new
	mv src/a.c.new src/a.c
	run -0 check
	assert_line -n 0 "stale: source 'src/a.c' changed"
}

@test "a changed command, environment or dependency makes the task stale, each with its reason" {
	run -0 check --dep 1111 --dep 2222 --env A=1 --record
	run -0 check --dep 2222 --dep 1111 --env A=1
	assert_line -n 0 'fresh'
	run -0 check --dep 1111 --dep 2222 --env A=1 --cmd 'cc -O2 -o out/x src/*.c'
	assert_line -n 0 'stale: command changed'
	run -0 check --dep 1111 --dep 2222 --env A=2
	assert_line -n 0 'stale: environment changed'
	run -0 check --dep 1111 --dep 2222
	assert_line -n 0 'stale: environment changed'
	run -0 check --dep 1111 --dep 3333 --env A=1
	assert_line -n 0 'stale: a dependency changed'
	run -0 check --dep 1111 --env A=1
	assert_line -n 0 'stale: a dependency changed'
}

@test "a missing output, or one whose content changed since the run, makes the task stale" {
	mkdir bin
	echo y > bin/y
	run -0 check --output bin/y --record
	assert_line -n 0 'stale: never ran'
	rm out/x
	run -0 check --output bin/y
	assert_line -n 0 "stale: no output matches 'out/*'"
	echo x > out/x
	run -0 check --output bin/y
	assert_line -n 0 "stale: output 'out/x' changed"
	echo built > out/x
	run -0 check --output bin/y
	assert_line -n 0 'fresh'
	rm bin/y
	run -0 check --output bin/y
	assert_line -n 0 "stale: output 'bin/y' is missing"
}

@test "a source added to or removed from the glob makes the task stale" {
	run -0 check --record
	echo 'int c;' > src/sub/c.c
	echo 'not a source' > src/notes.txt
	run -0 check
	assert_line -n 0 "stale: source 'src/sub/c.c' added"
	run -0 check --record
	rm src/sub/b.c
	run -0 check
	assert_line -n 0 "stale: source 'src/sub/b.c' removed"
	run -0 check --record
	mkdir src/dir.c
	ln -s nowhere src/dangling.c
	run -0 check
	assert_line -n 0 'fresh'
}

@test "-B makes every task stale and hashes every file; the run is still recorded" {
	run -0 check --record
	run -0 --separate-stderr check --always --record
	assert_line -n 0 'stale: -B given'
	assert_equal "$stderr" 'hashed=2 sources=2'
	run -0 check
	assert_line -n 0 'fresh'
}

@test "a file changed just before it was hashed is hashed again next time (racily clean)" {
	run -0 --separate-stderr check --racy-ms 600000 --record
	assert_equal "$stderr" 'hashed=2 sources=2'
	run -0 --separate-stderr check --racy-ms 600000 --record
	assert_line -n 0 'fresh'
	assert_equal "$stderr" 'hashed=2 sources=2'
	# By now the files are older than their last hash.
	run -0 --separate-stderr check
	assert_line -n 0 'fresh'
	assert_equal "$stderr" 'hashed=0 sources=2'
}

@test "a failed run is never recorded as a success" {
	run -0 check --record
	echo 'int a = 2;' > src/a.c
	run -1 check --run 'exit 1'
	assert_line -n 0 "stale: source 'src/a.c' changed"
	run -0 --separate-stderr check
	assert_line -n 0 'stale: last run failed or was interrupted'
	assert_equal "$stderr" 'hashed=0 sources=2'
	run -0 check --run 'true'
	run -0 check
	assert_line -n 0 'fresh'
}

@test "kill -9 while the task runs: the next run is not fooled by a half-written output" {
	run -0 check --record
	rm out/x
	"$CT" --racy-ms 0 --source 'src/**/*.c' --output 'out/*' --cmd 'cc -o out/x src/*.c' --env CC=cc \
		--run 'echo $$ > child.pid; echo half > out/x; exec sleep 60' . build > run.out 2>&1 &
	local pid=$!
	wait_for out/x
	wait_for child.pid
	kill -9 "$pid"
	kill -9 "$(cat child.pid)"
	wait "$pid" || true
	# The state still records the success before (read without the
	# journal); the journal withdraws it.
	mv .weft/journal journal
	"$CT" --dump . > text
	mv journal .weft/journal
	run -0 grep -c '^task	build	ok	' text
	run -0 cat .weft/journal
	assert_output --regexp $'^forget\t[0-9a-f]{16}\tbuild$'
	# The inputs match that success and out/x exists, yet the run that
	# rewrote it never finished.
	run -0 --separate-stderr check
	assert_line -n 0 'stale: last run failed or was interrupted'
	assert_equal "$stderr" 'hashed=0 sources=2'
}

@test "kill -9 during saves of a 10,000-file state leaves the old or the new state, whole" {
	many big 10000
	local big=(--racy-ms 0 --source 'big/*.c' --cmd 'cat big/*.c')
	run -0 "$CT" "${big[@]}" --record . big
	local round n
	n=$(rounds 6)
	for round in $(seq "$n"); do
		"$CT" "${big[@]}" --save-loop 0 . big > /dev/null 2>&1 &
		local pid=$!
		# Past the load and check (some 30 ms), into the saves.
		sleep "$(printf '0.%02d' $((RANDOM % 20 + 5)))"
		kill -9 "$pid"
		wait "$pid" || true
		run -0 --separate-stderr "$CT" "${big[@]}" . big
		assert_line -n 0 'fresh'
		assert_equal "$stderr" 'hashed=0 sources=10000'
		run -0 --separate-stderr "$CT" --cmd x . round
		assert_line -n 0 --regexp '^(stale: never ran|stale: command changed)$'
		assert_equal "$stderr" 'hashed=0 sources=0'
	done
	# Each temporary file left is a kill that landed inside a save.
	local torn=(.weft/state.tmp-*)
	[ -e "${torn[0]}" ] || torn=()
	echo "# ${#torn[@]} of $n kills landed inside a save" >&3
}

@test "10,000 unchanged sources are checked by stat alone, and on many threads at once alike" {
	many big 10000
	local big=(--racy-ms 0 --source 'big/**/*.c' --cmd 'cat big/*.c' --time)
	run -0 --separate-stderr "$CT" "${big[@]}" --record . big
	assert_line -n 0 'stale: never ran'
	run -0 --separate-stderr "$CT" "${big[@]}" . big
	assert_line -n 0 'fresh'
	assert_equal "${stderr_lines[0]}" 'hashed=0 sources=10000'
	run -0 "$CT" --racy-ms 0 --source 'big/**/*.c' --parallel 8 . big
	assert_output --partial 'parallel 8: same'
	# Not a pass/fail criterion (no test depends on speed); for the record.
	echo "# 10,000 unchanged sources: ${stderr_lines[1]}" >&3
}

@test "a corrupt, truncated or foreign state is ignored with a warning and then replaced" {
	run -0 check --record
	cp .weft/state good
	printf X | dd of=.weft/state bs=1 seek=120 conv=notrunc status=none
	run -0 --separate-stderr check
	assert_line -n 0 'stale: never ran'
	assert_equal "$stderr" 'cache-test: warning: .weft/state: checksum mismatch; starting afresh
hashed=2 sources=2'

	head -c 150 good > .weft/state
	run -0 --separate-stderr check
	assert_equal "${stderr_lines[0]}" 'cache-test: warning: .weft/state: truncated; starting afresh'

	{ cat good && printf 'extra\n'; } > .weft/state
	run -0 --separate-stderr check
	assert_equal "${stderr_lines[0]}" 'cache-test: warning: .weft/state: longer than its header says; starting afresh'

	: > .weft/state
	run -0 --separate-stderr check
	assert_equal "${stderr_lines[0]}" 'cache-test: warning: .weft/state: not a weft state file; starting afresh'

	head -c 3000 /dev/urandom > .weft/state
	run -0 --separate-stderr check
	assert_equal "${stderr_lines[0]}" 'cache-test: warning: .weft/state: not a weft state file; starting afresh'

	printf 'weft-state\t5\t0123456789abcdef\t0\t00000000000000000000000000000000\n' > .weft/state
	run -0 --separate-stderr check
	assert_equal "${stderr_lines[0]}" 'cache-test: warning: .weft/state: written by another version of weft (format 5); starting afresh'

	# A state of the first format, before outputs were recorded: stale, not read.
	local z=00000000000000000000000000000000
	printf 'task\tbuild\tok\t%s\t%s\t%s\t%s\t0\n' "$z" "$z" "$z" "$z" > body
	printf 'weft-state\t1\t0123456789abcdef\t%s\t%s\n' "$(wc -c < body)" "$(xxhsum -H2 body | cut -d' ' -f1)" > .weft/state
	cat body >> .weft/state
	run -0 --separate-stderr check
	assert_equal "${stderr_lines[0]}" 'cache-test: warning: .weft/state: written by another version of weft (format 1); starting afresh'
	assert_line -n 0 'stale: never ran'

	# A checksum that matches a body that does not parse.
	printf 'task\tbuild\tok\n' > body
	printf 'weft-state\t2\t0123456789abcdef\t%s\t%s\n' "$(wc -c < body)" "$(xxhsum -H2 body | cut -d' ' -f1)" > .weft/state
	cat body >> .weft/state
	run -0 --separate-stderr check
	assert_equal "${stderr_lines[0]}" 'cache-test: warning: .weft/state: bad line 2; starting afresh'

	# A binary body (format 4) whose checksum matches and that does not
	# parse: the byte order mark, then a name longer than what follows.
	printf '\001\000\000\000\005\000\000\000abc' > body
	printf 'weft-state\t4\t0123456789abcdef\t%s\t%s\n' "$(wc -c < body)" "$(xxhsum -H2 body | cut -d' ' -f1)" > .weft/state
	cat body >> .weft/state
	run -0 --separate-stderr check
	assert_equal "${stderr_lines[0]}" 'cache-test: warning: .weft/state: bad record 1; starting afresh'

	# The next save replaces it.
	run -0 check --record
	run -0 --separate-stderr check
	assert_line -n 0 'fresh'
	assert_equal "$stderr" 'hashed=0 sources=2'
}

# restate AWK: .weft/state's text (saved in ./good by --dump) changed by the awk
# program AWK (fields split at tabs), under a header whose length and
# checksum match it: only the parsing can find it wrong.
restate() {
	tail -n +2 good | awk -F'\t' -v OFS='\t' "$1" > body
	printf 'weft-state\t3\t0123456789abcdef\t%s\t%s\n' "$(wc -c < body)" "$(xxhsum -H2 body | cut -d' ' -f1)" > .weft/state
	cat body >> .weft/state
}

@test "a state whose fields are malformed, however its checksum, counts for nothing" {
	run -0 check --record
	# The text (format 3) of the binary state, which the parser still reads.
	"$CT" --dump . > good
	# Line 3 is the first file's: kind, path, hash, size, mtime, ctime,
	# ino, dev, verified.
	local bad
	for bad in '$7 = "18446744073709551616"' '$7 = "184467440737095516150"' '$4 = "9223372036854775808"' \
		'$4 = "12a4"' '$4 = ""' '$4 = "-"' '$5 = "+5"' '$3 = toupper($3)' '$3 = substr($3, 2)' \
		'$9 = $9 "\t1"' '$9 = $9 "x"' '$1 = "files"' '$2 = ""'; do
		restate "NR == 2 { $bad } 1"
		run -0 --separate-stderr check
		assert_line -n 0 'stale: never ran'
		assert_equal "${stderr_lines[0]}" 'cache-test: warning: .weft/state: bad line 3; starting afresh'
	done
	# The largest numbers each field holds are read back as they are.
	restate 'NR == 2 { $7 = "18446744073709551615"; $8 = "00000000000000000000001"; $9 = "-9223372036854775808" } 1'
	run -0 --separate-stderr check
	assert_line -n 0 'fresh'
	refute_output --partial warning
	assert_equal "$stderr" 'hashed=1 sources=2'
}

@test "names with spaces, tabs and newlines round-trip through the state" {
	mkdir -p 'odd dir'
	printf 'one\n' > 'odd dir/a b.c'
	printf 'two\n' > "odd dir/tab$(printf '\t')new
line\\.c"
	local task="the
task	\\ name"
	run -0 --separate-stderr "$CT" --racy-ms 0 --source 'odd dir/*.c' --record . "$task"
	assert_equal "$stderr" 'hashed=2 sources=2'
	run -0 --separate-stderr "$CT" --racy-ms 0 --source 'odd dir/*.c' . "$task"
	assert_line -n 0 'fresh'
	assert_equal "$stderr" 'hashed=0 sources=2'
	printf 'three\n' > "odd dir/tab$(printf '\t')new
line\\.c"
	run -0 "$CT" --racy-ms 0 --source 'odd dir/*.c' . "$task"
	assert_line -n 0 "stale: source 'odd dir/tab	new"
	assert_line -n 1 "line\\.c' changed"
}

@test "patterns relative to a task directory, even one whose name is a pattern" {
	mkdir -p 'we[ird]*dir/src' 'we[ird]*dir/out'
	echo 1 > 'we[ird]*dir/src/m.c'
	echo 1 > 'we[ird]*dir/out/m'
	echo decoy > src/m.c
	run -0 --separate-stderr "$CT" --racy-ms 0 --dir 'we[ird]*dir/' --source 'src/*.c' --output out/m --record . sub
	assert_equal "$stderr" 'hashed=1 sources=1'
	echo 2 > 'we[ird]*dir/src/m.c'
	run -0 "$CT" --racy-ms 0 --dir 'we[ird]*dir/' --source 'src/*.c' --output out/m . sub
	assert_line -n 0 "stale: source 'src/m.c' changed"
	rm 'we[ird]*dir/out/m'
	run -0 "$CT" --racy-ms 0 --dir 'we[ird]*dir' --source 'src/*.c' --output out/m --record . sub
	run -0 "$CT" --racy-ms 0 --dir 'we[ird]*dir' --source 'src/*.c' --output out/m . sub
	assert_line -n 0 "stale: output 'out/m' is missing"
	# An absolute pattern stays absolute.
	run -0 "$CT" --racy-ms 0 --dir 'we[ird]*dir' --source "$PWD/src/*.c" --record . abs
	echo changed > src/m.c
	run -0 "$CT" --racy-ms 0 --dir 'we[ird]*dir' --source "$PWD/src/*.c" . abs
	# $PWD may hold a newline (make test-hostile): compare the whole output.
	[[ "$output" == "stale: source '$PWD/src/m.c' changed"$'\n'* ]]
}

@test "an unreadable source is an error, not a fingerprint" {
	[ "$(id -u)" -ne 0 ] || skip "root reads every file"
	run -0 check --record
	chmod 000 src/a.c
	run -0 check
	assert_output "stale: cannot read source 'src/a.c': Permission denied
fingerprint none"
}

@test ".weft is 0700 and the state 0600, whatever the umask" {
	umask 000
	run -0 check --record
	run -0 stat -c %a .weft .weft/state
	assert_output '700
600'
	run -0 ls -A .weft
	assert_output 'state'
}

@test "a symbolic link planted at the state, the journal or .weft is not followed" {
	echo precious > victim
	mkdir .weft
	ln -s ../victim .weft/state
	run -0 --separate-stderr check --record
	assert_equal "${stderr_lines[0]}" 'cache-test: warning: .weft/state: Too many levels of symbolic links; starting afresh'
	run -0 cat victim
	assert_output 'precious'
	run -0 test -f .weft/state -a ! -L .weft/state

	# A journal that cannot be read or written: no success is trusted, and
	# what cache_forget() would append goes into a whole new state.
	ln -s ../victim .weft/journal
	echo 'int a = 3;' > src/a.c
	run -0 --separate-stderr check --run 'echo ran > ran'
	assert_equal "${stderr_lines[0]}" 'cache-test: warning: .weft/journal: Too many levels of symbolic links; every task runs'
	assert_line -n 0 'stale: last run failed or was interrupted'
	run -0 cat ran victim
	assert_output 'ran
precious'
	run -0 ls -A .weft
	assert_output 'state'
	run -0 --separate-stderr check
	assert_line -n 0 'fresh'
	assert_equal "$stderr" 'hashed=0 sources=2'

	rm -r .weft
	mkdir elsewhere
	ln -s elsewhere .weft
	run -3 --separate-stderr check --record
	assert_equal "${stderr_lines[0]}" 'cache-test: warning: .weft: not a directory; starting afresh'
	assert_equal "${stderr_lines[2]}" 'cache-test: cannot save: Not a directory'
	run -0 ls -A elsewhere
	assert_output ''
}

@test "journal lines apply only to the state they were written against; a save clears them" {
	run -0 check --record
	echo 'int a = 4;' > src/a.c
	run -0 check --run 'true'
	run -0 ls -A .weft
	assert_output 'state'
	# A forget against some older state does not withdraw the current success.
	printf 'forget\t0000000000000000\tbuild\n' > .weft/journal
	run -0 check
	assert_line -n 0 'fresh'
}

@test "temporary states left by killed runs are removed when old" {
	run -0 check --record
	echo stale > .weft/state.tmp-0123456789abcdef
	touch -d '1 hour ago' .weft/state.tmp-0123456789abcdef
	echo recent > .weft/state.tmp-fedcba9876543210
	echo 'int a = 5;' > src/a.c
	run -0 check --record
	run -0 ls -A .weft
	assert_output 'state
state.tmp-fedcba9876543210'
}
