#!/usr/bin/env bats
# weft as a build tool: a foreach task whose sources, outputs and depfile
# use the item is checked item by item; gcc's depfiles add the headers;
# outputs recorded at a success must still be there, unchanged. Compiles
# are counted by the log the compile command appends to.
load helpers/common
load helpers/background

setup() {
	common_setup
	cp -r "$BATS_TEST_DIRNAME/fixtures/cproject/." .
}

# build [ARGS]: runs weft ARGS, stdout and stderr in out.txt, err.txt.
build() { "$WEFT" "$@" > out.txt 2> err.txt; }

# compiled: the files compiled since the last call, sorted, one a line.
compiled() {
	sort compiles.log 2> /dev/null
	: > compiles.log
}

@test "a clean build compiles each file once; a second run compiles and links nothing" {
	run -0 build link
	run -0 compiled
	assert_output "$(printf 'src/main.c\nsrc/math.c\nsrc/solo.c\nsrc/util.c')"
	run -0 ./app
	assert_output 'hello 42 7'
	# gcc's depfiles are read into .weft/ and deleted, as ninja's deps = gcc does.
	run -0 ls obj
	assert_output "$(printf 'main.o\nmath.o\nsolo.o\nutil.o')"
	run -0 build --explain link
	run -0 compiled
	assert_output ''
	[ "$(wc -l < links.log)" -eq 1 ]
	grep -qx "weft: task 'compile\[src/math.c\]' is up to date" err.txt
	[[ "$(tail -n 1 err.txt)" =~ \(5\ up\ to\ date\)$ ]]
}

@test "editing one .c compiles exactly that file, then links" {
	run -0 build link
	compiled > /dev/null
	echo '/* edited */' >> src/math.c
	run -0 build --explain link
	run -0 compiled
	assert_output 'src/math.c'
	grep -qx "weft: task 'compile\[src/math.c\]' runs: source 'src/math.c' changed" err.txt
	grep -qx "weft: task 'link' runs: a dependency changed" err.txt
	[ "$(wc -l < links.log)" -eq 2 ]
}

@test "editing a header compiles exactly the files that include it, directly or not" {
	run -0 build link
	compiled > /dev/null
	echo '/* edited */' >> include/mathx.h
	run -0 build --explain link
	run -0 compiled
	assert_output "$(printf 'src/main.c\nsrc/math.c')"
	grep -qx "weft: task 'compile\[src/main.c\]' runs: source 'include/mathx.h' changed" err.txt
	# config.h comes in through util.h only
	sed -i 's/"hello"/"hi"/' include/config.h
	run -0 build link
	run -0 compiled
	assert_output "$(printf 'src/main.c\nsrc/util.c')"
	run -0 ./app
	assert_output 'hi 42 7'
	# An include added: the next depfile has it, and editing it counts.
	sed -i 's|#include "mathx.h"|#include "mathx.h"\n#include "config.h"|' src/math.c
	run -0 build link
	run -0 compiled
	assert_output 'src/math.c'
	echo '/* again */' >> include/config.h
	run -0 build link
	run -0 compiled
	assert_output "$(printf 'src/main.c\nsrc/math.c\nsrc/util.c')"
}

@test "a file that breaks, then is fixed, is the only one compiled each time" {
	run -0 build link
	compiled > /dev/null
	cp src/util.c util.c.good
	echo 'this is not C;' >> src/util.c
	run -1 build link
	run -0 compiled
	assert_output 'src/util.c'
	[ "$(wc -l < links.log)" -eq 1 ]
	# Still broken: it runs again (its last run failed), and only it.
	run -1 build --explain link
	grep -qx "weft: task 'compile\[src/util.c\]' runs: last run failed or was interrupted" err.txt
	run -0 compiled
	assert_output 'src/util.c'
	cp util.c.good src/util.c
	run -0 build link
	run -0 compiled
	assert_output 'src/util.c'
	# Back as it was when the program was linked: so is util.o, and the
	# link is up to date.
	[ "$(wc -l < links.log)" -eq 1 ]
	run -0 ./app
	assert_output 'hello 42 7'
}

@test "a deleted or overwritten output compiles only its file; --explain names it" {
	run -0 build link
	compiled > /dev/null
	rm obj/solo.o
	run -0 build --explain link
	grep -qx "weft: task 'compile\[src/solo.c\]' runs: output 'obj/solo.o' is missing" err.txt
	run -0 compiled
	assert_output 'src/solo.c'
	# Overwritten by someone else: its content is not what the run left.
	echo junk > obj/math.o
	run -0 build --explain link
	grep -qx "weft: task 'compile\[src/math.c\]' runs: output 'obj/math.o' changed" err.txt
	run -0 compiled
	assert_output 'src/math.c'
	run -0 ./app
	assert_output 'hello 42 7'
	# Touched, same content: still up to date.
	touch obj/main.o
	run -0 build link
	run -0 compiled
	assert_output ''
}

@test "the link task re-runs when one of the files its outputs matched is gone, though the pattern still matches" {
	cat >> weft.ini <<'EOF2'

[dist]
deps = link
sources = app
outputs = dist/*
run = mkdir -p dist && cp app dist/app && cp app dist/app2 && echo dist >> dists.log
EOF2
	run -0 build dist
	rm dist/app2
	run -0 build --explain dist
	grep -qx "weft: task 'dist' runs: output 'dist/app2' is missing" err.txt
	[ "$(wc -l < dists.log)" -eq 2 ]
	[ -e dist/app2 ]
}

@test "with -k, items that succeeded beside a failing one stay done" {
	run -0 build link
	compiled > /dev/null
	for f in src/*.c; do echo '/* edited */' >> "$f"; done
	cp src/solo.c solo.c.good
	echo 'broken' >> src/solo.c
	run -1 build -k link
	run -0 compiled
	assert_output "$(printf 'src/main.c\nsrc/math.c\nsrc/solo.c\nsrc/util.c')"
	cp solo.c.good src/solo.c
	run -0 build link
	run -0 compiled
	assert_output 'src/solo.c'
}

@test "items that finished before Ctrl-C stay done; the interrupted one runs again" {
	cat > weft.ini <<'EOF2'
[each]
foreach = a b c
sources = {}.in
outputs = {}.out
run = echo {} >> ran.log; if [ {} = c ] && [ ! -e go ]; then touch c-started; while [ ! -e go ]; do sleep 0.05; done; fi; cp {}.in {}.out
EOF2
	echo 1 > a.in
	echo 2 > b.in
	echo 3 > c.in
	start_weft -j3 --events=ev each
	wait_for c-started
	# A job's "finished" event comes once it is settled (recorded).
	local i
	for ((i = 0; i < 500; i++)); do
		[ "$(grep -c '"event":"finished"' ev)" -ge 2 ] && break
		sleep 0.02
	done
	[ "$(grep -c '"event":"finished"' ev)" -eq 2 ]
	kill -INT "$pid"
	wait_weft
	[ "$status" -eq 130 ]
	[ ! -e c.out ]
	touch go
	: > ran.log
	run -0 "$WEFT" --explain each
	[ "$(cat ran.log)" = c ]
	assert_output --partial "weft: task 'each[a]' is up to date"
	assert_output --partial "weft: task 'each[c]' runs: last run failed or was interrupted"
}

@test "a task-level pattern in sources applies to every item" {
	cat > weft.ini <<'EOF2'
[compile]
foreach = src/*.c
sources = {} include/*.h
outputs = obj/{/.}.o
run = mkdir -p obj && echo {} >> compiles.log && gcc -Iinclude -c {} -o obj/{/.}.o
EOF2
	run -0 build compile
	compiled > /dev/null
	echo '/* edited */' >> include/mathx.h
	run -0 build --explain compile
	run -0 compiled
	assert_output "$(printf 'src/main.c\nsrc/math.c\nsrc/solo.c\nsrc/util.c')"
	grep -qx "weft: task 'compile\[src/solo.c\]' runs: source 'include/mathx.h' changed" err.txt
	echo '/* edited */' >> src/solo.c
	run -0 build compile
	run -0 compiled
	assert_output 'src/solo.c'
}

@test "an item's name is taken literally in its patterns, glob characters and all" {
	printf '%s\n' 'a[1].c' 'b*.c' > items
	echo one > 'a[1].c'
	echo two > 'b*.c'
	echo other > a1.c
	echo other > bx.c
	cat > weft.ini <<'EOF2'
[each]
foreach = lines:items
sources = {}
outputs = {}.out
run = cp {} {}.out && echo {} >> ran.log
EOF2
	run -0 "$WEFT" each
	echo changed >> a1.c
	echo changed >> bx.c
	: > ran.log
	run -0 "$WEFT" each
	[ ! -s ran.log ]
	echo changed >> 'b*.c'
	run -0 "$WEFT" each
	[ "$(cat ran.log)" = 'b*.c' ]
}

# A depfile as gcc -MD -MP writes it, with every escape make knows: two
# targets, a continued line, a name with a space, one with "$$", one with
# a backslash before a space, and the phony rules of -MP.
write_depfile() {
	printf '%s\n' \
		'out\ file.o other.o: one.in with\ space.h \' \
		'  dollar$$sign.h\' \
		' sub/deep.h two\\\ bs.h' \
		'with\ space.h:' \
		'' \
		'dollar$$sign.h:' \
		'sub/deep.h:' > dep.src
}

@test "depfiles: escaped spaces, continued lines, several targets, \$\$ and -MP rules; the file is read and deleted" {
	write_depfile
	mkdir sub
	echo 1 > one.in
	echo 1 > 'with space.h'
	echo 1 > 'dollar$sign.h'
	echo 1 > sub/deep.h
	echo 1 > 'two\ bs.h'
	cat > weft.ini <<'EOF2'
[each]
foreach = one
sources = {}.in
depfile = {}.d
run = cp dep.src {}.d && echo {} >> ran.log
EOF2
	run -0 "$WEFT" each
	[ ! -e one.d ]
	run -0 "$WEFT" --explain each
	assert_output --partial "weft: task 'each[one]' is up to date"
	local f
	for f in 'with space.h' 'dollar$sign.h' sub/deep.h 'two\ bs.h'; do
		echo 2 >> "$f"
		run -0 "$WEFT" --explain each
		assert_output --partial "weft: task 'each[one]' runs: source '$f' changed"
	done
	[ "$(wc -l < ran.log)" -eq 5 ]
	# A header that is gone: the item runs (and gcc would say why).
	rm sub/deep.h
	run -0 "$WEFT" --explain each
	assert_output --partial "weft: task 'each[one]' runs: source 'sub/deep.h' removed"
}

@test "a task without foreach may have a depfile of its own" {
	printf 'app: main.in lib.h\n' > dep.src
	echo 1 > main.in
	echo 1 > lib.h
	cat > weft.ini <<'EOF2'
[app]
sources = main.in
depfile = app.d
run = cp dep.src app.d && echo run >> ran.log
EOF2
	run -0 "$WEFT" app
	run -0 "$WEFT" --explain app
	assert_output --partial "weft: task 'app' is up to date"
	echo 2 > lib.h
	run -0 "$WEFT" --explain app
	assert_output --partial "weft: task 'app' runs: source 'lib.h' changed"
	[ "$(wc -l < ran.log)" -eq 2 ]
}

@test "a malformed or missing depfile fails the item with the file and line; it is never up to date" {
	printf 'one.o: one.in \\\n  one.h\nthis line has no colon\n' > dep.src
	echo 1 > one.in
	echo 1 > one.h
	cat > weft.ini <<'EOF2'
[each]
foreach = one two
sources = {}.in
depfile = {}.d
run = if [ {} = one ]; then cp dep.src {}.d; fi; echo {} >> ran.log

[after]
deps = each
run = touch after-ran
EOF2
	# -k: without it, the item that fails first may stop the other before it starts.
	run -1 --separate-stderr "$WEFT" -k --output=line after
	[[ "$stderr" == *"weft: task 'each[one]': depfile 'one.d' line 3: expected ':' after the targets"* ]]
	[[ "$stderr" == *"weft: task 'each[two]': cannot read depfile 'two.d': No such file or directory"* ]]
	[[ "$stderr" == *"weft: task 'each[one]' failed (exit 1)"* ]]
	[ ! -e after-ran ]
	# The bad one stays, to be looked at.
	[ -e one.d ]
	run -1 "$WEFT" -k --explain each
	assert_output --partial "weft: task 'each[one]' runs: last run failed or was interrupted"
	assert_output --partial "weft: task 'each[two]' runs: last run failed or was interrupted"
	[ "$(wc -l < ran.log)" -eq 4 ]
}

@test "replacement strings in sources, outputs or depfile need foreach; a foreach depfile needs the item" {
	cat > weft.ini <<'EOF2'
[a]
sources = x.c {}.c
run = true

[b]
outputs = {.}.o
run = true

[c]
depfile = {.}.d
run = true

[d]
foreach = *.c
depfile = all.d
run = true

[e]
depfile =
run = true
EOF2
	run -2 --separate-stderr "$WEFT" a
	assert_equal "$stderr" "weft.ini:2: 'sources' pattern '{}.c' uses a replacement string, but task 'a' has no 'foreach'
weft.ini:6: 'outputs' pattern '{.}.o' uses a replacement string, but task 'b' has no 'foreach'
weft.ini:10: 'depfile' '{.}.d' uses a replacement string, but task 'c' has no 'foreach'
weft.ini:15: 'depfile' of foreach task 'd' must name each item's own file (use e.g. {.}.d)
weft.ini:19: empty value for 'depfile' (use e.g. {.}.d, or leave the key out)"
}

@test "each kind of malformed depfile is named with its line" {
	echo 1 > one.in
	cat > weft.ini <<'EOF2'
[each]
foreach = one
sources = {}.in
depfile = {}.d
run = cp dep.src {}.d
EOF2
	local -a bad=(': one.in' 'one.o: one.in: more' 'one.o: \\\n  one.in\n\none.in one.h')
	local -a why=("line 1: ':' with no target before it" "line 1: a second ':' in one rule"
		"line 4: expected ':' after the targets")
	# (not "i": bats's run uses that name)
	local k
	for k in 0 1 2; do
		printf "${bad[k]}\n" > dep.src
		run -1 --separate-stderr "$WEFT" each
		[[ "$stderr" == "weft: task 'each[one]': depfile 'one.d' ${why[k]}"$'\n'* ]]
	done
	printf 'one.o: one.in\r\n\r\none.in:\r\n' > dep.src
	run -0 "$WEFT" each
}
