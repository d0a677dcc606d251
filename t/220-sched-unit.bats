#!/usr/bin/env bats
# The scheduler (src/sched.c) through the driver t/helpers/sched-test.c:
# the order tasks become ready in, slots, what a failure stops with and
# without keep-going, and that a failed task's dependents never start.
load helpers/common

setup() { common_setup; }

ST="${SCHED_TEST:-$BATS_TEST_DIRNAME/../build/t/sched-test}"

@test "tasks without deps are ready in recipe order; a task is ready when its last dep is done" {
	run -0 "$ST" <<'EOF'
task all lib app docs
task lib gen
task app lib
task docs
task gen
init all
state
next
state
ok gen
next
ok lib
ok docs
state
next
ok app
next
ok all
counts
EOF
	assert_output "state: all=waiting lib=waiting app=waiting docs=ready gen=ready
start: docs gen
state: all=waiting lib=waiting app=waiting docs=running gen=running
start: lib
state: all=waiting lib=ok app=ready docs=ok gen=ok
start: app
start: all
total=5 running=0 ok=5 failed=0 not_started=0 finished=yes"
}

@test "the ready queue is first in, first out: a dependent queues behind what was ready before it" {
	run -0 "$ST" <<'EOF'
task a
task b
task c a
task d
init
next 1
ok a
next
EOF
	assert_output "start: a
start: b d c"
}

@test "a run with one slot starts one task at a time, in ready order" {
	run -0 "$ST" <<'EOF'
task all a b c
task a
task b
task c a
init
run 1
EOF
	assert_output "start a
ok a
start b
ok b
start c
ok c
start all
ok all
total=4 running=0 ok=4 failed=0 not_started=0 finished=yes"
}

@test "a run with two slots fills both, and a freed slot takes what became ready" {
	run -0 "$ST" <<'EOF'
task all a b c
task a
task b
task c a
init
run 2
EOF
	assert_output "start a
start b
ok a
start c
ok b
ok c
start all
ok all
total=4 running=0 ok=4 failed=0 not_started=0 finished=yes"
}

@test "without keep-going a failure stops new starts; running tasks still end, their dependents never start" {
	run -0 "$ST" <<'EOF'
task all a b c
task a
task b
task c
task d b
init
run 2 a
next
state
EOF
	# c was ready and d became ready when b ended: neither starts.
	assert_equal "${#lines[@]}" 7
	assert_equal "$(printf '%s\n' "${lines[@]:0:6}")" "start a
start b
fail a
ok b
total=5 running=0 ok=1 failed=1 not_started=3 finished=yes
start: -"
	# The stopped run leaves c and d as they were; what counts is that
	# they never started.
	assert_line -n 6 --regexp '^state: all=blocked a=failed b=ok c=[a-z]+ d=[a-z]+$'
}

@test "with keep-going a failure blocks its dependents, transitively, and everything else runs" {
	run -0 "$ST" <<'EOF'
task all a b c
task a
task b
task c
task d a
task e d
task f e b
init -k
run 1 a
state
next
EOF
	assert_output "start a
fail a
start b
ok b
start c
ok c
total=7 running=0 ok=2 failed=1 not_started=4 finished=yes
state: all=blocked a=failed b=ok c=ok d=blocked e=blocked f=blocked
start: -"
}

@test "a dependent of a failed task stays blocked whichever of its deps ends first" {
	# f's other dep b ends after a failed (above); here before.
	run -0 "$ST" <<'EOF'
task a
task b
task d a b
init -k
next
ok b
state
fail a
state
next
counts
EOF
	assert_output "start: a b
state: a=running b=ok d=waiting
state: a=failed b=ok d=blocked
start: -
total=3 running=0 ok=1 failed=1 not_started=1 finished=yes"
}

@test "only selected tasks are scheduled; an unselected dependent is left alone" {
	run -0 "$ST" <<'EOF'
task a
task b a
task c a
init b
state
run 1
EOF
	assert_output "state: a=ready b=waiting
start a
ok a
start b
ok b
total=2 running=0 ok=2 failed=0 not_started=0 finished=yes"
}

@test "a dep named twice is waited for once" {
	run -0 "$ST" <<'EOF'
task a
task b a a
init
next
ok a
next
EOF
	assert_output "start: a
start: b"
}

@test "stop: nothing new starts, and the run is finished once the running tasks end" {
	run -0 "$ST" <<'EOF'
task a
task b
task c a
init -k
next 1
stop
next
counts
ok a
next
counts
EOF
	assert_output "start: a
start: -
total=3 running=1 ok=0 failed=0 not_started=2 finished=no
start: -
total=3 running=0 ok=1 failed=0 not_started=2 finished=yes"
}

@test "sched-test refuses to end a task that is not running, naming the line" {
	run -2 --separate-stderr "$ST" <<'EOF'
task a
task b a
init
ok b
EOF
	assert_equal "$stderr" "sched-test: line 4: not running: b"
	run -2 --separate-stderr "$ST" <<'EOF'
task a nosuch
init
EOF
	assert_equal "$stderr" "weft.ini:1: task 'a' depends on unknown task 'nosuch'
sched-test: line 2: the graph has errors"
}
