#!/usr/bin/env bats
# Graph order and scheduling: deps before dependents, deps in parallel,
# the -j limit, stopping at the first failure, -k, the summary line.
# Concurrency is proved with barriers (jobs that wait, bounded, for each
# other's marker files), never with timings.
load helpers/common

setup() { common_setup; }

# The number part of the summary line: "0.42s", "12s", "1m3.5s" ...
SECS='[0-9][0-9.ms]*s'

# weft_files ARGS: runs weft with stdout in ./out and stderr in ./err.
weft_files() { "$WEFT" "$@" > out 2> err; }

# summary_is TEXT: the last line of ./err is "weft: TEXT in <secs>".
summary_is() {
	local last
	last=$(tail -n 1 err)
	[[ "$last" =~ ^weft:\ $1\ in\ $SECS$ ]] || {
		echo "last line of stderr: '$last', expected 'weft: $1 in ...'" >&2
		return 1
	}
}

# barrier.sh ME OTHER: creates ME.ready, then waits (up to 10 s) for
# OTHER.ready; exits 9 when the other never came.
write_barrier() {
	cat > barrier.sh <<'EOF'
touch "$1.ready"
i=0
while [ ! -e "$2.ready" ]; do
	i=$((i + 1))
	[ "$i" -lt 500 ] || exit 9
	sleep 0.02
done
touch "$1.done"
EOF
}

# slot.sh NAME GOAL: registers NAME in slots/, records how many are
# registered (to "seen") until GOAL were seen at once by anyone (bounded:
# up to 10 s), at least a few times, then unregisters.
write_slot() {
	cat > slot.sh <<'EOF'
mkdir -p slots
: > "slots/$1"
me=$1 goal=$2
i=0
while :; do
	# Counted by the shell's glob: no process per look.
	set -- slots/*
	n=$#
	echo "$n" >> seen
	[ "$n" -lt "$goal" ] || : > reached
	i=$((i + 1))
	if [ "$i" -ge 5 ] && [ -e reached ]; then break; fi
	[ "$i" -lt 500 ] || break
	sleep 0.02
done
rm "slots/$me"
EOF
}

# slot_recipe GOAL: eight slot tasks s1..s8 under 'all'.
slot_recipe() {
	local i text='[all]
deps = s1 s2 s3 s4 s5 s6 s7 s8'
	for i in 1 2 3 4 5 6 7 8; do
		text="$text
[s$i]
run = sh slot.sh s$i $1"
	done
	recipe "$text"
}

max_seen() { sort -n seen | tail -n 1; }

@test "a dependency finishes before its dependent starts (chain)" {
	recipe '[c]
deps = b
run = test -e b.done && touch c.done
[b]
deps = a
run = test -e a.done && touch b.done
[a]
run = touch a.done'
	run -0 "$WEFT" -j4 c
	[ -e c.done ]
}

@test "a shared dependency runs once, before both dependents" {
	recipe '[top]
deps = left right
run = test -e left.done && test -e right.done && touch top.done
[left]
deps = base
run = test -e base.done && touch left.done
[right]
deps = base
run = test -e base.done && touch right.done
[base]
run = echo ran >> base.log
    touch base.done'
	run -0 "$WEFT" -j4 top
	[ -e top.done ]
	[ "$(wc -l < base.log)" -eq 1 ]
}

@test "the deps of a task run in parallel with each other (-j2 barrier)" {
	write_barrier
	recipe '[all]
deps = a b
run = test -e a.done && test -e b.done && touch all.done
[a]
run = sh barrier.sh a b
[b]
run = sh barrier.sh b a'
	run -0 weft_files -j2
	[ -e all.done ]
	summary_is "3 tasks done"
}

@test "-j1 runs one job at a time: the barrier times out" {
	write_barrier
	recipe '[all]
deps = a b
run = touch all.done
[a]
timeout = 2s
run = sh barrier.sh a b
[b]
timeout = 2s
run = sh barrier.sh b a'
	run -1 weft_files -j1
	grep -Eqx "weft: task '(a|b)' timed out after 2s" err
	summary_is "0 done, 1 failed, 2 not started"
	# the first job was alone, and the other one never started
	[ "$(ls ./*.ready | wc -l)" -eq 1 ]
	[ ! -e all.done ]
	assert_no_leftovers
}

@test "-j1 never runs two jobs at once" {
	write_slot
	slot_recipe 1
	run -0 weft_files -j1
	[ "$(max_seen)" -eq 1 ]
}

@test "-j2 never runs more than two jobs at once" {
	write_slot
	slot_recipe 2
	run -0 weft_files -j 2
	[ "$(max_seen)" -eq 2 ]
}

@test "-j3 never runs more than three jobs at once, and does reach three" {
	write_slot
	slot_recipe 3
	run -0 weft_files --jobs=3
	[ "$(max_seen)" -eq 3 ]
	summary_is "9 tasks done"
}

@test "first failure: running jobs finish, no new task starts" {
	# 'long' is surely running when 'fail' fails (barrier), and waits for
	# weft's failure message before it ends normally; 'later' (a dependent
	# of 'long' only) becomes ready after the failure and must not start.
	cat > long.sh <<'EOF'
touch long.ready
i=0
until [ -e fail.ready ] && grep -q "task 'fail' failed" err; do
	i=$((i + 1))
	[ "$i" -lt 500 ] || exit 9
	sleep 0.02
done
touch long.done
EOF
	recipe '[all]
deps = later fail
[later]
deps = long
run = touch later.ran
[long]
run = sh long.sh
[fail]
run = touch fail.ready
    i=0
    while [ ! -e long.ready ] && [ $i -lt 500 ]; do i=$((i + 1)); sleep 0.02; done
    exit 1'
	run -1 weft_files -j4
	[ -e long.done ]
	[ ! -e later.ran ]
	grep -qx "weft: task 'fail' failed (exit 1)" err
	run -1 grep -q "task 'long'" err
	summary_is "1 done, 1 failed, 2 not started"
}

@test "first failure with -j1: queued tasks never start" {
	recipe '[all]
deps = f1 f2 f3
[f1]
run = touch f1.ran
    exit 1
[f2]
run = touch f2.ran
    exit 1
[f3]
run = touch f3.ran
    exit 1'
	run -1 weft_files -j1
	[ "$(ls ./*.ran | wc -l)" -eq 1 ]
	[ "$(grep -c "^weft: task 'f[123]' failed (exit 1)$" err)" -eq 1 ]
	summary_is "0 done, 1 failed, 3 not started"
}

@test "-k runs every task not depending on a failure and skips its dependents" {
	# 'after' becomes ready only once the failure has been reported.
	cat > wait-fail.sh <<'EOF'
i=0
until grep -q "task 'fail' failed" err; do
	i=$((i + 1))
	[ "$i" -lt 500 ] || exit 9
	sleep 0.02
done
touch waited.done
EOF
	recipe '[all]
deps = dependent after fail
[dependent]
deps = mid
run = touch dependent.ran
[mid]
deps = fail
run = touch mid.ran
[fail]
run = exit 4
[waited]
run = sh wait-fail.sh
[after]
deps = waited
run = touch after.ran'
	run -1 weft_files -k -j2
	[ -e waited.done ]
	[ -e after.ran ]
	[ ! -e mid.ran ]
	[ ! -e dependent.ran ]
	grep -qx "weft: task 'fail' failed (exit 4)" err
	summary_is "2 done, 1 failed, 3 not started"
}

@test "--keep-going with -j1 runs all independent tasks" {
	recipe '[all]
deps = a fail b c
[a]
run = touch a.ran
[fail]
run = exit 1
[b]
run = touch b.ran
[c]
deps = fail
run = touch c.ran'
	run -1 weft_files --keep-going -j1
	[ -e a.ran ]
	[ -e b.ran ]
	[ ! -e c.ran ]
	summary_is "2 done, 1 failed, 2 not started"
}

@test "all tasks succeed: exit 0 and 'N tasks done' as the last line" {
	recipe '[all]
deps = a b
run = echo all
[a]
run = echo a
[b]
run = echo b 1>&2'
	run -0 weft_files -q
	summary_is "3 tasks done"
	[ "$(tail -n 1 out)" = all ]
	[ "$(grep -c . err)" -eq 2 ]
}

@test "a failed task: exit 1, its message, and 'A done, B failed, C not started'" {
	recipe '[all]
deps = ok bad
run = true
[ok]
run = true
[bad]
deps = ok
run = exit 2'
	run -1 weft_files -j1
	grep -qx "weft: task 'bad' failed (exit 2)" err
	summary_is "1 done, 1 failed, 1 not started"
}
