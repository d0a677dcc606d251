#!/usr/bin/env bats
# The task graph (src/graph.c) through the driver t/helpers/graph-test.c:
# adding tasks and deps, selection, the order deps come in, cycle and
# unknown-dep messages, and "did you mean". A script line's number is the
# recipe line the driver gives what it adds.
load helpers/common

setup() { common_setup; }

GT="${GRAPH_TEST:-$BATS_TEST_DIRNAME/../build/t/graph-test}"

@test "selecting a task takes it and what it needs, transitively; order puts deps first" {
	run -0 "$GT" <<'EOF'
task all build test
task build gen
task test build
task gen
task other gen
resolve
select all
selected
order
EOF
	assert_output "errors 0
selected 4: all build test gen
order: gen build test all"
}

@test "selecting two targets takes the union, each task once, in one order" {
	run -0 "$GT" <<'EOF'
task a c
task b c
task c
task d
resolve
select b
selected
select a
selected
order
EOF
	assert_output "errors 0
selected 2: b c
selected 3: a b c
order: c a b"
}

@test "nothing selected: an empty selection and an empty order" {
	run -0 "$GT" <<'EOF'
task a
resolve
selected
order
EOF
	assert_output "errors 0
selected 0: -
order: -"
}

@test "dependents are recorded in recipe order; a dep named twice counts once" {
	run -0 "$GT" <<'EOF'
task lib
task app lib lib
task test app lib
task docs
resolve
rdeps lib
rdeps app
rdeps docs
select test
order
EOF
	assert_output "errors 0
rdeps lib: app test
rdeps app: test
rdeps docs: -
order: lib app test"
}

@test "a name already taken is refused and the first task keeps its deps" {
	run -0 "$GT" <<'EOF'
task a b
task b
task a c
resolve
select a
order
EOF
	assert_output "duplicate a
errors 0
order: b a"
}

@test "a cycle is named from the task where it starts, at that task's deps line" {
	# a's dep on b comes on line 3, after both tasks.
	run -0 --separate-stderr "$GT" <<'EOF'
task a
task b a
dep a b
resolve
EOF
	assert_output "errors 1"
	assert_equal "$stderr" "weft.ini:3: dependency cycle: a -> b -> a"
}

@test "a task depending on itself, and each separate cycle, is its own error" {
	run -0 --separate-stderr "$GT" <<'EOF'
task ok
task s s
task x ok y
task y z
task z x
resolve
EOF
	assert_output "errors 2"
	assert_equal "$stderr" "weft.ini:2: dependency cycle: s -> s
weft.ini:3: dependency cycle: x -> y -> z -> x"
}

@test "unknown deps: the nearest name as a hint, none when nothing is close; reserved sections" {
	run -0 --separate-stderr "$GT" <<'EOF'
task build
task test
task check biuld
task ci tset zzzzzz
task all env weft vars
resolve
EOF
	assert_output "errors 6"
	assert_equal "$stderr" "weft.ini:3: task 'check' depends on unknown task 'biuld' (did you mean 'build'?)
weft.ini:4: task 'ci' depends on unknown task 'tset' (did you mean 'test'?)
weft.ini:4: task 'ci' depends on unknown task 'zzzzzz'
weft.ini:5: 'env' is a reserved section, not a task
weft.ini:5: 'weft' is a reserved section, not a task
weft.ini:5: 'vars' is a reserved section, not a task"
}

@test "suggest: at most a third of the name's length, rounded up, in edits" {
	run -0 "$GT" <<'EOF'
task build
task lint
task docs
task ab
suggest build
suggest biuld
suggest dcos
suggest ac
suggest xy
suggest bld
suggest bldx
suggest lintlintlint
EOF
	# biuld and dcos: a swap of neighbours is one edit. bld: 2 edits from
	# build, over 3/3 rounded up. bldx: 3 edits from build, over 4/3 rounded
	# up. ac: one edit, within 2/3 rounded up.
	assert_output "suggest build: build
suggest biuld: build
suggest dcos: docs
suggest ac: ab
suggest xy: -
suggest bld: -
suggest bldx: -
suggest lintlintlint: -"
}

@test "suggest: of names equally close, the first in the recipe" {
	run -0 "$GT" <<'EOF'
task cat
task bat
suggest hat
EOF
	assert_output "suggest hat: cat"
	run -0 "$GT" <<'EOF'
task bat
task cat
suggest hat
EOF
	assert_output "suggest hat: bat"
}

@test "graph-test refuses a script it cannot run, naming the line" {
	run -2 --separate-stderr "$GT" <<'EOF'
task a

select a
EOF
	assert_equal "$stderr" "graph-test: line 3: select before resolve"
	run -2 --separate-stderr "$GT" <<'EOF'
resolve
select nope
EOF
	assert_equal "$stderr" "graph-test: line 2: no such task: nope"
}
