#!/usr/bin/env bats
# Up-to-date checks through weft itself: sources and outputs decide by
# content whether a task runs; -B and --explain; a failed, interrupted or
# killed run is never taken for a success.
load helpers/common

setup() {
	common_setup
	mkdir -p src
	echo 'one' > src/a.c
	echo 'two' > src/b.c
	cat > weft.ini <<'EOF2'
[vars]
MODE = fast

[build]
sources = src/*.c
outputs = out/all
run = mkdir -p out && cat src/*.c > out/all && echo "$MODE" >> out/all && echo run >> runs-build

[test]
deps = build
sources = out/all
run = echo run >> runs-test
EOF2
}

weft_files() { "$WEFT" "$@" > out.txt 2> err.txt; }

runs() { [ -e "runs-$1" ] && wc -l < "runs-$1" || echo 0; }

@test "a second run with nothing changed skips both tasks, and says so" {
	run -0 weft_files --explain test
	grep -qx "weft: task 'build' runs: never ran" err.txt
	run -0 weft_files --explain test
	grep -qx "weft: task 'build' is up to date" err.txt
	grep -qx "weft: task 'test' is up to date" err.txt
	[[ "$(tail -n 1 err.txt)" =~ ^weft:\ 2\ tasks\ done\ in\ [0-9.]+s\ \(2\ up\ to\ date\)$ ]]
	[ "$(runs build)" -eq 1 ]
	[ "$(runs test)" -eq 1 ]
}

@test "touching a source without changing it: still up to date" {
	run -0 weft_files test
	touch -d '+1 hour' src/a.c
	run -0 weft_files --explain test
	grep -qx "weft: task 'build' is up to date" err.txt
	[ "$(runs build)" -eq 1 ]
}

@test "changing a source runs the task and its dependents" {
	run -0 weft_files test
	echo 'changed' >> src/b.c
	run -0 weft_files --explain test
	grep -qx "weft: task 'build' runs: source 'src/b.c' changed" err.txt
	grep -qx "weft: task 'test' runs: a dependency changed" err.txt
	[ "$(runs build)" -eq 2 ]
	[ "$(runs test)" -eq 2 ]
}

@test "adding or removing a matching source runs the task" {
	run -0 weft_files build
	echo 'three' > src/c.c
	run -0 weft_files --explain build
	grep -qx "weft: task 'build' runs: source 'src/c.c' added" err.txt
	rm src/c.c
	run -0 weft_files --explain build
	grep -qx "weft: task 'build' runs: source 'src/c.c' removed" err.txt
	[ "$(runs build)" -eq 3 ]
}

@test "changing the command or a variable the recipe sets runs the task" {
	run -0 weft_files build
	sed -i 's/echo run >> runs-build/echo run >> runs-build # v2/' weft.ini
	run -0 weft_files --explain build
	grep -qx "weft: task 'build' runs: command changed" err.txt
	run -0 weft_files --explain build MODE=slow
	grep -qx "weft: task 'build' runs: environment changed" err.txt
	# The inherited environment does not count.
	run -0 env SOMETHING_ELSE=1 "$WEFT" --explain build MODE=slow
	[[ "$output" == *"weft: task 'build' is up to date"* ]]
}

@test "a deleted output runs the task" {
	run -0 weft_files build
	rm out/all
	run -0 weft_files --explain build
	grep -qx "weft: task 'build' runs: output 'out/all' is missing" err.txt
	[ -e out/all ]
}

@test "-B runs everything and then records it" {
	run -0 weft_files test
	run -0 weft_files -B --explain test
	grep -qx "weft: task 'build' runs: -B given" err.txt
	[ "$(runs build)" -eq 2 ]
	[ "$(runs test)" -eq 2 ]
	run -0 weft_files test
	[ "$(runs build)" -eq 2 ]
}

@test "a failed run is not recorded: the next run tries again" {
	sed -i 's/^run = echo run >> runs-test$/run = echo run >> runs-test; test -e pass/' weft.ini
	run -1 weft_files test
	run -1 weft_files --explain test
	grep -qx "weft: task 'build' is up to date" err.txt
	grep -qx "weft: task 'test' runs: last run failed or was interrupted" err.txt
	touch pass
	run -0 weft_files test
	run -0 weft_files --explain test
	grep -qx "weft: task 'test' is up to date" err.txt
}

@test "kill -9 in the middle of a task that was up to date: the next run is not fooled" {
	run -0 weft_files test
	# The task ran once and is up to date; -B makes it run again, and we
	# kill weft while it runs, after it wrote half of its output.
	# (Only the first run waits: the command must stay the same.)
	sed -i 's|^run = mkdir -p out.*|run = mkdir -p out \&\& : > out/all \&\& if [ ! -e started ]; then touch started \&\& sleep 30; fi|' weft.ini
	sed -i 's|^outputs = out/all|outputs = out/all|' weft.ini
	setsid "$WEFT" -B build > out.txt 2> err.txt &
	local pid=$!
	wait_for started
	kill -9 -- -"$pid"
	wait "$pid" || true
	# Same command as the killed run, same sources: only the journal knows.
	run -0 weft_files --explain build
	grep -qx "weft: task 'build' runs: last run failed or was interrupted" err.txt
	# The killed run's job went with it (weft's guard stopped it).
	wait_gone 2
}

@test "SIGTERM during a run is not recorded as a success" {
	sed -i 's|^run = mkdir -p out.*|run = mkdir -p out \&\& touch out/all started \&\& sleep 30|' weft.ini
	"$WEFT" build > out.txt 2> err.txt &
	local pid=$!
	wait_for started
	kill -TERM "$pid"
	local status=0
	wait "$pid" || status=$?
	[ "$status" -eq 143 ]
	rm started
	run -124 timeout 2 "$WEFT" --explain build
	[[ "$output" == *"weft: task 'build' runs: never ran"* || "$output" == *"runs: last run failed or was interrupted"* ]]
	assert_no_leftovers
}

@test "broken links and directories that match sources are not sources" {
	cat > weft.ini <<'EOF2'
[t]
sources = src/*.c
run = touch ran
EOF2
	ln -s /nonexistent/dir src/broken.c
	mkdir src/dir.c
	run -0 weft_files t
	[ -e ran ]
}

@test "foreach with sources: the whole task is skipped when nothing changed" {
	cat > weft.ini <<'EOF2'
[each]
foreach = src/*.c
sources = src/*.c
run = echo {} >> runs-each
EOF2
	run -0 weft_files -j1 each
	[ "$(runs each)" -eq 2 ]
	run -0 weft_files each
	[ "$(runs each)" -eq 2 ]
	[[ "$(tail -n 1 err.txt)" =~ \(1\ up\ to\ date\)$ ]]
}

@test ".weft is 0700 and its state 0600" {
	run -0 weft_files build
	[ "$(stat -c %a .weft)" = 700 ]
	[ "$(stat -c %a .weft/state)" = 600 ]
}

@test "sources may all be on indented lines; a list with none at all is an error" {
	cat > weft.ini <<'EOF2'
[t]
sources =
  src/a.c
  src/b.c
run = echo run >> runs-t
EOF2
	printf '[empty]\noutputs =\nrun = true\n' > empty.ini
	run -0 "$WEFT" t
	run -0 "$WEFT" --explain t
	[[ "$output" == *"weft: task 't' is up to date"* ]]
	echo more >> src/b.c
	run -0 "$WEFT" --explain t
	[[ "$output" == *"weft: task 't' runs: source 'src/b.c' changed"* ]]
	run -2 --separate-stderr "$WEFT" -f empty.ini
	[ "$stderr" = "empty.ini:2: empty value for 'outputs' (use file names or glob patterns)" ]
}

@test "a source edited while the task runs, then edited back, makes the task run again next time" {
	# The first run's command reads a.c as edited (v2), and a.c then goes
	# back to its old content: a git stash round trip while it runs. The
	# command stays the same from run to run.
	sed -i 's|^run = mkdir -p out.*|run = if [ ! -e once ]; then touch once; cp src/a.c saved; echo v2 > src/a.c; fi; mkdir -p out \&\& cat src/*.c > out/all; if [ -e saved ]; then cp saved src/a.c; rm saved; fi; echo run >> runs-build|' weft.ini
	run -0 weft_files --explain test
	grep -qx "weft: warning: a source of task 'build' changed while it ran: it runs again next time" err.txt
	grep -qx v2 out/all
	[ "$(cat src/a.c)" = one ]
	# Same sources and command as before that run, yet not up to date:
	# its output, and what depends on it, were built from v2.
	run -0 weft_files --explain test
	grep -qx "weft: task 'build' runs: last run failed or was interrupted" err.txt
	grep -qx "weft: task 'test' runs: a dependency changed" err.txt
	[ "$(runs build)" -eq 2 ]
	[ "$(runs test)" -eq 2 ]
	run -1 grep -c v2 out/all
	# and then it settles
	run -0 weft_files --explain test
	grep -qx "weft: task 'build' is up to date" err.txt
	[ "$(runs build)" -eq 2 ]
}

@test "a file a check looked at is looked at again after a listing command rewrote it" {
	# a's check looks at h.h; then b's listing command rewrites it: b's
	# items must see the new h.h, not what a's check saw.
	cat > weft.ini <<'EOF2'
[a]
sources = h.h
run = echo run >> runs-a

[b]
deps = a
foreach = cmd:if [ -e flag ]; then cp new.h h.h; fi; echo x
sources = h.h
outputs = out-{}
run = cp h.h out-{} && echo run >> runs-b
EOF2
	echo one > h.h
	echo two > new.h
	run -0 "$WEFT" -j1 b
	# Past the racy window (2 s): the next run hashes the files again and
	# from then on trusts their stat data, as a real no-op would.
	sleep 2.1
	run -0 "$WEFT" -j1 b
	[ "$(runs b)" -eq 1 ]
	touch flag
	run -0 "$WEFT" -j1 b
	[ "$(runs b)" -eq 2 ]
	[ "$(cat out-x)" = two ]
}

# each_recipe: a foreach task over src/*.c that logs each item it runs to ./ran.
each_recipe() {
	printf '[each]\nforeach = src/*.c\nsources = {}\nrun = echo {} >> ran\n' > weft.ini
}

@test "a pattern's directory listing kept in .weft/dirs is read again once the directory changes, even with its mtime put back" {
	each_recipe
	# Past the racy window (2 s) of src/'s last change: its listing is kept.
	sleep 2.1
	run -0 "$WEFT" -j1 each
	[ "$(sort ran | tr '\n' ' ')" = "src/a.c src/b.c " ]
	grep -aq 'a\.c' .weft/dirs
	# A new file, and src/ given its old mtime back: its ctime still moved.
	touch -r src src-times
	echo three > src/c.c
	touch -m -r src-times src
	run -0 "$WEFT" -j1 each
	[ "$(tail -n 1 ran)" = src/c.c ]
	[ "$(wc -l < ran)" -eq 3 ]
	sleep 2.1
	run -0 "$WEFT" -j1 each
	grep -aq 'c\.c' .weft/dirs
	rm src/a.c
	run -0 "$WEFT" -j1 each
	[ "$(wc -l < ran)" -eq 3 ]
	assert_line --regexp '^weft: 2 tasks done in [0-9.]+s \(2 up to date\)$'
}

@test "a damaged .weft/dirs is a cache: the run lists the directories and writes it afresh" {
	each_recipe
	mkdir -p .weft
	head -c 300 /dev/urandom > .weft/dirs
	run -0 "$WEFT" -j1 each
	assert_equal "$stderr" ""
	[ "$(wc -l < ran)" -eq 2 ]
	printf 'weft-dirs\t1\nshort' > .weft/dirs
	run -0 "$WEFT" -j1 each
	[ "$(wc -l < ran)" -eq 2 ]
	assert_line --regexp '^weft: 2 tasks done in [0-9.]+s \(2 up to date\)$'
}

# le32 N, le64 N: N as printf escapes of its bytes, little-endian.
le32() { printf '\\x%02x' $(($1 & 255)) $((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255)); }
le64() { le32 $(($1 & 0xffffffff)); le32 $((($1 >> 32) & 0xffffffff)); }
# dirs_listing PATH SEEN NAME [DEV INO MTIME CTIME]: one listing of
# .weft/dirs (weft.ini(5)), last used on day SEEN, of one file NAME, with
# that stat data (times in ns; by default, what no directory has).
dirs_listing() {
	le32 $((${#1} + 1)); printf '%s\\x00' "$1"
	le64 "${4:-1}"; le64 "${5:-2}"; le64 "${6:-3}"; le64 "${7:-4}"; le64 "$2"; le32 1
	printf '\\x08'; le32 $((${#3} + 1)); printf '%s\\x00' "$3"
}

# write_dirs BODY...: .weft/dirs holding the listings BODY (printf escapes),
# under a header whose length and checksum fit them.
write_dirs() {
	printf '%b' "$@" > body
	local sum
	sum=$(xxhsum -H2 body | cut -d' ' -f1)
	mkdir -p .weft
	{ printf 'weft-dirs\t1\n'; printf '%b' "$(le64 "$(wc -c < body)")"; printf '%b' "$(sed 's/../\\x&/g' <<< "$sum")"; cat body; } > .weft/dirs
}

@test "listings in .weft/dirs that no run used for 30 days are dropped; those used since stay" {
	each_recipe
	local today=$(($(date +%s) / 86400))
	write_dirs "$(dirs_listing old $((today - 31)) stale.c)$(dirs_listing recent $((today - 2)) fresh.c)"
	run -0 "$WEFT" -j1 each
	[ "$(wc -l < ran)" -eq 2 ]
	# Saved again without the old listing; the recent one was read and kept.
	run -1 grep -aq 'stale\.c' .weft/dirs
	grep -aq 'fresh\.c' .weft/dirs
}

@test "a task with no success on record withdraws none before it runs; one with a success withdraws it first" {
	# Each item copies .weft/journal as it is when the item runs.
	printf '[each]\nforeach = src/*.c\nsources = {}\nrun = (cat .weft/journal 2>/dev/null || true) > j-{/}; echo {} >> ran\n' > weft.ini
	run -0 "$WEFT" -j1 each
	[ "$(wc -l < ran)" -eq 2 ]
	run -1 grep -h '^forget' j-a.c j-b.c
	echo changed > src/a.c
	run -0 "$WEFT" -j1 each
	[ "$(wc -l < ran)" -eq 3 ]
	run -0 grep -c $'^forget\t[0-9a-f]\\{16\\}\teach\\[src/a.c\\]$' j-a.c
	assert_output 1
}

@test "a pattern over an empty directory matches nothing, and a file added there makes the task run" {
	mkdir empty
	printf '[a]\nsources = empty/*.c\nrun = echo run >> runs-a\n' > weft.ini
	run -0 "$WEFT" a
	run -0 "$WEFT" a
	assert_line 'weft: [1/1] a: up to date'
	echo x > empty/new.c
	run -0 "$WEFT" a
	[ "$(runs a)" -eq 2 ]
}

@test "a .weft/dirs listing whose names no directory could hold is not read, even with the directory's own stat data" {
	each_recipe
	local today=$(($(date +%s) / 86400)) dev ino mtime ctime
	read -r dev ino mtime ctime < <(stat -c '%d %i %.9Y %.9Z' src | tr -d .)
	write_dirs "$(dirs_listing src "$today" ../../x.c "$dev" "$ino" "$mtime" "$ctime")"
	run -0 "$WEFT" -j1 each
	[ "$(sort ran | tr '\n' ' ')" = "src/a.c src/b.c " ]
	# A name of its own, with the same stat data, is used: the test above
	# could not pass for a listing that was never looked at.
	write_dirs "$(dirs_listing src "$today" z.c "$dev" "$ino" "$mtime" "$ctime")"
	run -0 "$WEFT" -j1 each
	[ "$(tail -n 1 ran)" = src/z.c ]
}

@test "a FIFO planted at .weft/dirs or .weft/journal does not hold the run" {
	each_recipe
	mkdir -p .weft
	mkfifo .weft/dirs .weft/journal
	run -0 timeout 20 "$WEFT" -j1 each
	[ "$(wc -l < ran)" -eq 2 ]
}

@test "a source and a directory dated after 2262, past what nanoseconds in 64 bits hold, are compared by content" {
	mkdir far
	echo one > far/a.c
	touch -d '2300-01-01' far/a.c far
	printf '[a]\nsources = far/*.c\nrun = echo run >> runs-a\n' > weft.ini
	run -0 "$WEFT" a
	run -0 "$WEFT" a
	assert_line 'weft: [1/1] a: up to date'
	echo two > far/a.c
	touch -d '2300-01-01' far/a.c
	run -0 "$WEFT" a
	[ "$(runs a)" -eq 2 ]
}
