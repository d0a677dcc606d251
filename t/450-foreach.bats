#!/usr/bin/env bats
# foreach in recipes: items from globs (with **), lines:, cmd: and words;
# one job per item with replacement strings; the task's own jobs cap;
# dependents wait for every item; failures; listing errors.
load helpers/common

setup() { common_setup; }

weft_files() { "$WEFT" "$@" > out 2> err; }

@test "a glob with ** gives every matching file at any depth, sorted, one job each" {
	mkdir -p src/a/b src/.hidden
	touch src/x.c src/a/y.c src/a/b/z.c src/a/note.txt src/.hidden/h.c src/.dot.c
	recipe '[cc]
foreach = src/**/*.c
run = echo "{}" >> items'
	run -0 weft_files -j1 cc
	run -0 cat items
	assert_output "src/a/b/z.c
src/a/y.c
src/x.c"
	[[ "$(tail -n 1 err)" =~ ^weft:\ 3\ tasks\ done\ in ]]
}

@test "** does not follow links to directories: a link to a parent neither loops nor repeats; a named link is followed" {
	mkdir -p src/lib
	touch src/a.c src/lib/b.c
	ln -s .. src/lib/up
	ln -s ../lib src/lib/again
	ln -s lib src/ln
	ln -s a.c src/linked.c
	recipe '[all]
deps = cc named
[cc]
foreach = src/**/*.c
run = echo "{}" >> items
[named]
foreach = src/**/ln/*.c
run = echo "{}" >> named'
	run -0 timeout 20 "$WEFT" -j1
	run -0 cat items
	assert_output "src/a.c
src/lib/b.c
src/linked.c"
	run -0 cat named
	assert_output "src/ln/b.c"
}

@test "\"{}\" in the recipe's own double quotes: a file named \$(touch PWNED) stays a name, in recipes and weft exec" {
	mkdir up
	touch 'up/$(touch PWNED)' 'up/a`touch PWNED`b' 'up/q"uo\te'
	recipe '[t]
foreach = up/*
run = printf "<%s>\n" "{}" >> items'
	run -0 "$WEFT" -j1
	run -0 cat items
	assert_output '<up/$(touch PWNED)>
<up/a`touch PWNED`b>
<up/q"uo\te>'
	"$WEFT" exec -k 'printf "<%s>\n" "{/}"' ::: up/* > out 2> err < /dev/null
	run -0 cat out
	assert_output '<$(touch PWNED)>
<a`touch PWNED`b>
<q"uo\te>'
	[ ! -e PWNED ]
	[ ! -e up/PWNED ]
}

@test "replacement strings expand per item, shell-quoted; with none the item is appended" {
	recipe "[a]
foreach = 'it s' dir/f.tar.gz
run = printf '%s|%s|%s|%s|%s\n' {} {.} {/} {//} {#} >> out-a

[b]
foreach = one two
run = printf '%s\n' >> out-b"
	run -0 "$WEFT" -j1 a b
	run -0 cat out-a
	assert_output "'it|'it|'it|.|1
s'|s'|s'|.|2
dir/f.tar.gz|dir/f.tar|f.tar.gz|dir|3"
	run -0 cat out-b
	assert_output "one
two"
}

@test "lines:FILE and cmd:COMMAND give one item per line; words are items" {
	printf 'l1\nl2 with space\n' > list
	cat > weft.ini <<'EOF2'
[lines]
foreach = lines:list
run = echo L {} >> got

[cmd]
foreach = cmd:printf 'c1\nc2\n'
run = echo C {} >> got

[words]
foreach = w1 w2
run = echo W {} >> got
EOF2
	run -0 "$WEFT" -j1 lines cmd words
	run -0 sort got
	assert_output "C c1
C c2
L l1
L l2 with space
W w1
W w2"
}

@test "items are listed when the task is ready, so deps can make them" {
	recipe '[make]
run = mkdir -p gen && touch gen/1.txt gen/2.txt

[use]
deps = make
foreach = gen/*.txt
run = echo {} >> used'
	run -0 "$WEFT" -j1 use
	run -0 cat used
	assert_output "gen/1.txt
gen/2.txt"
}

@test "globs and lines: are read in the task's dir, where its commands run" {
	mkdir -p sub
	touch sub/a.in sub/b.in
	printf 'x\n' > sub/list
	recipe '[g]
dir = sub
foreach = *.in
run = test -e {} && echo {} >> seen

[l]
dir = sub
foreach = lines:list
run = echo {} >> seen'
	run -0 "$WEFT" -j1 g l
	run -0 cat sub/seen
	assert_output "a.in
b.in
x"
}

@test "jobs = N caps the task's own concurrency and is reached; -j applies on top" {
	# slot.sh ITEM: marks ITEM running, then waits until $BARRIER items
	# have arrived, so that many must run at once. Every count of running
	# items is taken while the counting job holds its slot, and the first
	# job to leave counts before any marker is gone: the highest count is
	# at least $BARRIER, and at most the cap.
	cat > slot.sh <<'EOF2'
mkdir -p running arrived
me=$1
: > "running/$me"
set -- running/*; echo $# >> seen
: > "arrived/$me"
i=0
while set -- arrived/*; [ $# -lt "$BARRIER" ]; do i=$((i+1)); [ "$i" -lt 500 ] || exit 9; sleep 0.02; done
set -- running/*; echo $# >> seen
rm "running/$me"
EOF2
	recipe '[t]
foreach = 1 2 3 4 5 6
jobs = 3
run = sh slot.sh {}'
	run -0 env BARRIER=3 "$WEFT" -j6 t
	run -0 sort -n seen
	[ "${#lines[@]}" -eq 12 ]
	assert_equal "${lines[11]}" 3

	rm -r running arrived seen
	run -0 env BARRIER=2 "$WEFT" -j2 t
	run -0 sort -n seen
	[ "${#lines[@]}" -eq 12 ]
	assert_equal "${lines[11]}" 2
}

@test "two items of one task really run at once (barrier), with jobs = 2" {
	cat > barrier.sh <<'EOF2'
touch "$1.ready"
i=0
while [ ! -e "$2.ready" ]; do i=$((i+1)); [ "$i" -lt 500 ] || exit 9; sleep 0.02; done
EOF2
	recipe '[t]
foreach = a b
jobs = 2
timeout = 30s
run = sh barrier.sh {} $(test {} = a && echo b || echo a)'
	run -0 "$WEFT" -j2 t
	[ -e a.ready ]
	[ -e b.ready ]
}

@test "dependents wait for every item" {
	recipe '[items]
foreach = 1 2 3
run = touch item-{}

[after]
deps = items
run = ls item-1 item-2 item-3 > seen'
	run -0 "$WEFT" -j4 after
	run -0 cat seen
	assert_output "item-1
item-2
item-3"
}

@test "a failing item fails the task; without -k no new item starts, with -k the rest run" {
	recipe '[t]
foreach = 1 2 3 4
run = touch ran-{}; test {} != 2

[after]
deps = t
run = touch after-ran'
	run -1 weft_files -j1 after
	[ -e ran-1 ]
	[ -e ran-2 ]
	[ ! -e ran-3 ]
	[ ! -e ran-4 ]
	[ ! -e after-ran ]
	grep -qx "weft: task 't\[2\]' failed (exit 1)" err
	rm -f ran-*
	run -1 weft_files -j1 -k after
	[ -e ran-1 ]
	[ -e ran-3 ]
	[ -e ran-4 ]
	[ ! -e after-ran ]
	[[ "$(tail -n 1 err)" =~ ^weft:\ 3\ done,\ 1\ failed,\ 1\ not\ started\ in ]]
}

@test "no items: the task succeeds at once and its dependents run" {
	recipe '[none]
foreach = nothing/*.c
run = touch ran-{}

[after]
deps = none
run = touch after-ran'
	run -0 "$WEFT" after
	[ -e after-ran ]
	[ ! -e ran-nothing ]
}

@test "items that cannot be listed fail the task, with the reason" {
	recipe "[c]
foreach = cmd:echo oops >&2; exit 3
run = touch ran

[l]
foreach = lines:missing
run = touch ran"
	run -1 weft_files -k c l
	[ ! -e ran ]
	grep -qx "weft: cannot list the items of task 'c': 'echo oops >&2; exit 3' failed" err
	grep -qx "oops" err
	grep -qx "weft: cannot read the items of task 'l': No such file or directory" err
}

@test "-n shows each item of a foreach task with its command expanded, in its dir" {
	recipe '[t]
foreach = src/*.c
dir = d
run = cc -c {}'
	mkdir -p d/src
	touch d/src/a.c 'd/src/b c.c'
	run -0 "$WEFT" -n t
	assert_output "set -e
(cd d && cc -c src/a.c)
(cd d && cc -c 'src/b c.c')"
}

@test "an item name is the job's name in line output: T[ITEM] | ..." {
	recipe '[t]
foreach = x
run = echo hi'
	run -0 --separate-stderr "$WEFT" --output=line t
	assert_output "t[x] | hi x"
}

@test "bad foreach and jobs values are recipe errors" {
	recipe '[t]
foreach = lines:
jobs = 0
run = true'
	run -2 --separate-stderr "$WEFT" t
	[ "$stderr" = "weft.ini:2: empty value for 'foreach' (use a glob, lines:FILE, cmd:COMMAND or words)
weft.ini:3: invalid value '0' for 'jobs' (a number from 1)" ]
}

@test "a foreach glob that matches nothing: a warning naming the task and pattern; foreach-empty = error fails it, ok says nothing" {
	recipe '[w]
foreach = src/*.nothing
run = touch ran-w-{/}
[e]
foreach = src/*.nothing
foreach-empty = error
run = touch ran-e
[o]
foreach = src/*.nothing
foreach-empty = ok
run = touch ran-o'
	run -0 --separate-stderr "$WEFT" w
	assert_equal "${stderr_lines[0]}" "weft: warning: task 'w' has no item: 'src/*.nothing' matches nothing (foreach-empty = ok says nothing)"
	run -1 --separate-stderr "$WEFT" e
	assert_equal "${stderr_lines[0]}" "weft: task 'e' has no item: 'src/*.nothing' matches nothing"
	run -0 --separate-stderr "$WEFT" o
	[[ "$stderr" =~ ^weft:\ 0\ tasks\ done\ in ]]
	recipe '[x]
foreach-empty = sometimes
run = true
[y]
foreach-empty = ok
run = true'
	run -2 --separate-stderr "$WEFT"
	assert_equal "$stderr" "weft.ini:2: invalid value 'sometimes' for 'foreach-empty' (error, warn or ok)
weft.ini:5: 'foreach-empty' in task 'y', which has no 'foreach'"
}

@test "--output=line pads every prefix to the longest name queued, foreach items included (capped)" {
	local long
	long=$(printf 'x%.0s' $(seq 40)).c
	touch a.c longer-name.c "$long"
	recipe '[t]
foreach = *.c
run = test -n {} && echo hi'
	run -0 --separate-stderr "$WEFT" -j1 --output=line
	# 24 at most: the longest name here is longer, and is not padded.
	assert_line -n 0 "$(printf '%-24s | hi' 't[a.c]')"
	assert_line -n 1 "$(printf '%-24s | hi' 't[longer-name.c]')"
	assert_line -n 2 "t[$long] | hi"
}
