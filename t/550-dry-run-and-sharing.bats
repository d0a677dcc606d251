#!/usr/bin/env bats
# weft -n prints what would run as lines for sh (only what is stale), a
# failure names its command, and runs that share a recipe's .weft/: runs
# over disjoint tasks go at once, two over one task run it once.
bats_require_minimum_version 1.5.0
load helpers/common

setup() {
	common_setup
}

# A recipe that uses what -n has to write out: [vars], [env], a command
# line variable, env.NAME, dir, foreach, a multi-line run, $0, a step.
mixed_recipe() {
	mkdir -p in sub
	printf 'alpha\n' > in/a.txt
	printf 'beta gamma\n' > in/b.txt
	cat > weft.ini <<'EOF2'
[env]
GREETING = hello there

[vars]
MODE = fast

[all]
deps = each script sums
sources = weft.ini
outputs = all.out
run = cat out/*.up script.out sums.txt > all.out

[each]
foreach = in/*.txt
sources = {}
outputs = out/{/.}.up
run = mkdir -p out && tr a-z A-Z < {} > out/{/.}.up && echo "$MODE $GREETING" >> out/{/.}.up

[script]
dir = sub
env.WHO = task's own
run = echo "$0: $WHO $MODE" > ../script.out
  for f in ../in/*.txt; do wc -c < "$f" >> ../script.out; done

[sums]
deps = each
step = hash --output=sums.txt out/a.up out/b.up
EOF2
}

# The files a run made, with their contents.
made() { find . -path ./.weft -prune -o -type f ! -name weft.ini ! -name script.sh -print | sort | xargs sha256sum; }

@test "weft -n | sh from clean makes what weft -j1 makes, byte for byte, and -n writes nothing" {
	mkdir a b
	(cd a && mixed_recipe)
	(cd b && mixed_recipe)
	cd a
	run -0 --separate-stderr "$WEFT" -n MODE=slow
	assert_equal "$stderr" ""
	[ ! -e .weft ]
	[ ! -e out ]
	printf '%s\n' "$output" > script.sh
	assert_line --index 0 'set -e'
	assert_line "export GREETING='hello there'"
	assert_line --index 2 'export MODE=slow'
	refute_line 'export MODE=fast'
	assert_line "(cd sub && WHO='task'\\''s own' /bin/sh -e -c 'echo \"\$0: \$WHO \$MODE\" > ../script.out"
	assert_line 'sha256sum -- out/a.up out/b.up > sums.txt'
	run -0 sh script.sh
	cd ../b
	run -0 "$WEFT" -j1 MODE=slow
	cd ..
	assert_equal "$(cd a && made)" "$(cd b && made)"
	grep -qx 'script: task.s own slow' b/script.out
	grep -qx 'BETA GAMMA' b/out/b.up
}

@test "weft -n | sh builds the C project as weft does" {
	cp -r "$BATS_TEST_DIRNAME/fixtures/cproject" a
	cp -r "$BATS_TEST_DIRNAME/fixtures/cproject" b
	(cd a && "$WEFT" -n link > ../script.sh && sh ../script.sh)
	(cd b && "$WEFT" -j1 link > /dev/null 2>&1)
	[ ! -e a/.weft ]
	for f in app obj/main.o obj/math.o obj/util.o obj/solo.o; do
		cmp "a/$f" "b/$f"
	done
	assert_equal "$(wc -l < a/compiles.log)" 4
}

@test "-n after a build prints nothing and changes nothing in .weft/; after an edit only what is stale" {
	cp -r "$BATS_TEST_DIRNAME/fixtures/cproject/." .
	run -0 "$WEFT" link
	local before
	before=$(ls -lA --time-style=full-iso .weft && stat -c %y .weft && sha256sum -- .weft/*)
	run -0 --separate-stderr "$WEFT" -n link
	assert_output ""
	assert_equal "$stderr" ""
	echo '/* edited */' >> src/util.c
	run -0 --separate-stderr "$WEFT" -n link
	assert_output "set -e
/bin/sh -c 'mkdir -p obj && echo src/util.c >> compiles.log && gcc -Iinclude -MMD -MP -MF obj/util.d -c src/util.c -o obj/util.o' 'compile[src/util.c]'
/bin/sh -c 'gcc -o app obj/*.o && echo link >> links.log' link"
	run -0 --separate-stderr "$WEFT" -n --explain link
	assert_line "# task 'compile[src/util.c]' runs: source 'src/util.c' changed"
	assert_line "# task 'compile[src/main.c]' is up to date"
	assert_line "# task 'link' runs: a dependency changed"
	printf '%s\n' "$output" > script.sh
	run -0 sh -n script.sh
	assert_equal "$(ls -lA --time-style=full-iso .weft && stat -c %y .weft && sha256sum -- .weft/*)" "$before"
	assert_equal "$(wc -l < compiles.log)" 4
	run -0 --separate-stderr "$WEFT" -n -B link
	assert_equal "${#lines[@]}" 6
}

@test "weft -n -k | sh goes on past a failure as weft -k does, skipping what depends on it" {
	mkdir k
	cd k
	cat > weft.ini <<'EOF2'
[a]
run = touch a; exit 3

[b]
deps = a
run = touch b

[c]
run = touch c

[d]
deps = c
dir = .
run = touch d

[each]
foreach = x y
run = touch each-{}; test {} = y

[all]
deps = b d each
run = touch all
EOF2
	run -1 "$WEFT" -k all
	run -0 ls
	assert_output "$(printf 'a\nc\nd\neach-x\neach-y\nweft.ini')"
	rm a c d each-x each-y
	"$WEFT" -n -k all > ../script.sh
	run ! grep -qx 'set -e' ../script.sh
	run -1 sh ../script.sh
	run -0 ls
	assert_output "$(printf 'a\nc\nd\neach-x\neach-y\nweft.ini')"
	# Without -k, the script stops at the first failure, as weft does.
	rm a c d each-x each-y
	"$WEFT" -n all > ../script.sh
	run -3 sh ../script.sh
	run -0 ls
	assert_output "$(printf 'a\nweft.ini')"
}

@test "-n runs a cmd: listing to know the items, and nothing else" {
	cat > weft.ini <<'EOF2'
[t]
foreach = cmd:echo listed >> listings; printf '%s\n' x 'y z'
run = echo {} >> ran
EOF2
	run -0 --separate-stderr "$WEFT" -n
	assert_output "set -e
echo x >> ran
echo 'y z' >> ran"
	[ "$(cat listings)" = listed ]
	[ ! -e ran ]
}

@test "a plain one-line command is printed as it is; one the shell would read otherwise gets a shell of its own" {
	cat > weft.ini <<'EOF2'
[weft]
default = all
[all]
deps = plain pipe cd list
[plain]
run = touch "plain file"
[pipe]
run = echo p | tr p q > piped
[cd]
run = cd /
[list]
run = false; touch listed
EOF2
	run -0 --separate-stderr "$WEFT" -n
	assert_output "set -e
touch \"plain file\"
echo p | tr p q > piped
/bin/sh -c 'cd /' cd
/bin/sh -c 'false; touch listed' list"
	printf '%s\n' "$output" > script.sh
	run -0 sh script.sh
	[ -e "plain file" ] && [ "$(cat piped)" = q ] && [ -e listed ]
}

@test "the failure line is followed by the command as it ran, a script by its first line" {
	cat > weft.ini <<'EOF2'
[all]
deps = one many each
[one]
run = echo out; exit 3
[many]
dir = .
run = echo first
  false
  echo never
[each]
foreach = a
run = test {} = b
EOF2
	run -1 --separate-stderr "$WEFT" -k -j1 all
	[[ "$stderr" == *"weft: task 'one' failed (exit 3)
weft: command: echo out; exit 3"* ]] || fail "$stderr"
	[[ "$stderr" == *"weft: task 'many' failed (exit 1)
weft: command: cd . && echo first ... (2 more lines)"* ]] || fail "$stderr"
	[[ "$stderr" == *"weft: task 'each[a]' failed (exit 1)
weft: command: test a = b"* ]] || fail "$stderr"
	[ "$(grep -c '^weft: command:' <<< "$stderr")" -eq 3 ]
}

# Each waits for the other's marker: neither can end unless both run at once.
@test "two wefts on disjoint tasks of one recipe run at the same time, and both records are kept" {
	cat > weft.ini <<'EOF2'
[a]
sources = weft.ini
outputs = a.out
run = touch a-started; i=0; while [ ! -e b-started ] && [ $i -lt 1000 ]; do i=$((i+1)); sleep 0.01; done; [ -e b-started ] && touch a.out

[b]
sources = weft.ini
outputs = b.out
run = touch b-started; i=0; while [ ! -e a-started ] && [ $i -lt 1000 ]; do i=$((i+1)); sleep 0.01; done; [ -e a-started ] && touch b.out
EOF2
	"$WEFT" a > out1 2> err1 3>&- &
	local first=$!
	"$WEFT" b > out2 2> err2 3>&- &
	local second=$!
	wait "$first" || fail "first: $(cat err1)"
	wait "$second" || fail "second: $(cat err2)"
	run -0 "$WEFT" --explain a b
	assert_line "weft: task 'a' is up to date"
	assert_line "weft: task 'b' is up to date"
}

@test "two wefts on the same task run it once, and both succeed" {
	cat > weft.ini <<'EOF2'
[build]
sources = weft.ini
outputs = built
run = echo run >> runs; touch started; i=0; while [ ! -e go ] && [ $i -lt 1000 ]; do i=$((i+1)); sleep 0.01; done; touch built
EOF2
	"$WEFT" build > out1 2> err1 3>&- &
	local first=$!
	wait_for started
	"$WEFT" --explain build > out2 2> err2 3>&- &
	local second=$!
	local i
	for ((i = 0; i < 1000; i++)); do grep -q "waiting for another weft" err2 && break; sleep 0.01; done
	grep -qx "weft: waiting for another weft that runs task 'build' here" err2
	touch go
	wait "$first" || fail "first: $(cat err1)"
	wait "$second" || fail "second: $(cat err2)"
	assert_equal "$(cat runs)" run
	grep -qx "weft: task 'build' is up to date" err2
}

# A task without sources always runs: the second run waits for the first
# one's run of it to end, then runs it again, never beside it.
@test "two wefts that both run a task without sources run it one after the other" {
	cat > weft.ini <<'EOF2'
[gen]
run = echo begin >> runs; touch started; i=0; while [ ! -e go ] && [ $i -lt 1000 ]; do i=$((i+1)); sleep 0.01; done; echo end >> runs

[build]
deps = gen
sources = weft.ini
outputs = built
run = echo build >> builds; touch built
EOF2
	"$WEFT" build > out1 2> err1 3>&- &
	local first=$!
	wait_for started
	"$WEFT" build > out2 2> err2 3>&- &
	local second=$!
	local i
	for ((i = 0; i < 1000; i++)); do grep -q "waiting for another weft" err2 && break; sleep 0.01; done
	grep -qx "weft: waiting for another weft that runs task 'gen' here" err2
	# Still waiting: gen has begun once.
	assert_equal "$(cat runs)" begin
	touch go
	wait "$first" || fail "first: $(cat err1)"
	wait "$second" || fail "second: $(cat err2)"
	assert_equal "$(cat runs)" "$(printf 'begin\nend\nbegin\nend')"
	# gen ran again, so what depends on it ran again too.
	assert_equal "$(cat builds)" "$(printf 'build\nbuild')"
}

@test "a weft inside a weft on the same recipe never waits on its parent" {
	# -j1: outer runs first and holds the one slot while its own weft
	# builds; the parent's build and gen, found to run, wait for the slot
	# without holding their locks.
	cat > weft.ini <<EOF2
[all]
deps = outer build gen

[outer]
sources = weft.ini
run = "$WEFT" -q build gen

[build]
sources = weft.ini
outputs = built
run = echo build >> builds; touch built

[gen]
run = echo gen >> gens
EOF2
	run -0 timeout 20 "$WEFT" -q -j1 all
	[ -e built ]
	# The parent runs them again after, as make would.
	assert_equal "$(cat builds)" "$(printf 'build\nbuild')"
	assert_equal "$(cat gens)" "$(printf 'gen\ngen')"
}

@test "a task found to run whose lock another weft took meanwhile waits, is checked again, and runs once" {
	cat > weft.ini <<'EOF2'
[all]
deps = hold build

[hold]
sources = weft.ini
run = touch hold.on; i=0; while [ ! -e go1 ] && [ $i -lt 1000 ]; do i=$((i+1)); sleep 0.01; done

[build]
sources = weft.ini
outputs = built
run = echo run >> runs; touch b.started; i=0; while [ ! -e go2 ] && [ $i -lt 1000 ]; do i=$((i+1)); sleep 0.01; done; touch built
EOF2
	"$WEFT" -j1 --explain all > out1 2> err1 3>&- &
	local first=$!
	wait_for hold.on
	local i
	for ((i = 0; i < 1000; i++)); do grep -q "task 'build' runs" err1 && break; sleep 0.01; done
	grep -q "task 'build' runs" err1
	# found to run, waiting for the slot: its lock is free for another run
	"$WEFT" build > out2 2> err2 3>&- &
	local second=$!
	wait_for b.started
	touch go1
	for ((i = 0; i < 1000; i++)); do grep -q "waiting for another weft" err1 && break; sleep 0.01; done
	grep -qx "weft: waiting for another weft that runs task 'build' here" err1
	touch go2
	wait "$second" || fail "second: $(cat err2)"
	wait "$first" || fail "first: $(cat err1)"
	assert_equal "$(cat runs)" run
	grep -qx "weft: task 'build' is up to date" err1
}

# A check goes without the task's lock; found fresh, it counts only if no
# other run has written .weft/ since this one loaded it, since a run
# withdraws a task's success there before it runs the task.
@test "a task another weft began to run after this one loaded the state is not taken as up to date" {
	local build='sources = weft.ini
outputs = built
run = echo run >> runs; touch b.started; i=0; while [ ! -e go2 ] && [ $i -lt 1000 ]; do i=$((i+1)); sleep 0.01; done; touch built'
	cat > weft.ini <<EOF2
[gate]
sources = g.txt
outputs = g.out
run = touch gate.on; i=0; while [ ! -e go1 ] && [ \$i -lt 1000 ]; do i=\$((i+1)); sleep 0.01; done; touch g.out

[build]
deps = gate
$build
EOF2
	# The same build without the dep: another fingerprint, so it runs.
	printf '[build]\n%s\n' "$build" > two.ini
	echo 1 > g.txt
	touch go1 go2
	run -0 "$WEFT" build
	rm go1 go2 g.out runs b.started
	# Loads the state, then waits in gate (whose output is gone) before
	# it checks build.
	"$WEFT" --explain build > out2 2> err2 3>&- &
	local second=$!
	wait_for gate.on
	"$WEFT" -f two.ini build > out1 2> err1 3>&- &
	local first=$!
	wait_for b.started
	# build's files are as recorded, and the record this run loaded says
	# it succeeded: only .weft/ tells that the other run is at it.
	touch go1
	local i
	for ((i = 0; i < 1000; i++)); do grep -q "waiting for another weft" err2 && break; sleep 0.01; done
	grep -qx "weft: waiting for another weft that runs task 'build' here" err2
	assert_equal "$(cat runs)" run
	touch go2
	wait "$first" || fail "first: $(cat err1)"
	wait "$second" || fail "second: $(cat err2)"
	# Then checked again: the other run's record is of another command.
	assert_equal "$(cat runs)" "$(printf 'run\nrun')"
}

@test ".weft/ holds a .gitignore of '*', so git status never shows it" {
	cat > weft.ini <<'EOF2'
[t]
sources = weft.ini
run = true
EOF2
	git init -q .
	run -0 "$WEFT"
	assert_equal "$(cat .weft/.gitignore)" '*'
	run -0 git status --porcelain --untracked-files=all
	assert_output '?? weft.ini'
}
