#!/usr/bin/env bats
# Signals to weft while jobs run, the kill sequence, SIGPIPE, and the
# state weft leaves its stdout in. Jobs say they are running with marker
# files; every wait is bounded.
load helpers/common
load helpers/background

setup() { common_setup; }

# Two jobs, each with a grandchild, that say when they are running.
two_jobs() {
	recipe '[all]
deps = j1 j2
[j1]
run = sleep 1000 & touch j1.ready; wait
[j2]
run = sleep 1000 & touch j2.ready; wait'
}

# interrupted SIGNAL STATUS: weft ends with STATUS when SIGNAL reaches it
# alone while its jobs run, and leaves nothing behind.
interrupted() {
	two_jobs
	start_weft -j2
	wait_for j1.ready
	wait_for j2.ready
	kill -"$1" "$pid"
	wait_weft
	[ "$status" -eq "$2" ]
	[[ "$(tail -n 1 err)" =~ ^weft:\ .*\ in\ [0-9][0-9.ms]*s$ ]]
	assert_no_leftovers
}

@test "SIGINT: jobs stopped, weft dies of SIGINT (130)" {
	interrupted INT 130
}

@test "SIGTERM: jobs stopped, weft dies of SIGTERM (143)" {
	interrupted TERM 143
}

@test "SIGHUP: jobs stopped, weft dies of SIGHUP (129)" {
	interrupted HUP 129
}

@test "a job that ignores SIGTERM is SIGKILLed after --grace" {
	recipe '[stubborn]
run = trap "" TERM; sleep 1000 & touch ready; wait'
	start_weft --grace=500ms
	wait_for ready
	kill -TERM "$pid"
	wait_weft
	[ "$status" -eq 143 ]
	assert_no_leftovers
}

@test "a second SIGINT kills at once" {
	# 'stubborn' would outlive a 60 s grace; 'polite' shows that weft has
	# handled the first signal before the second is sent.
	recipe '[all]
deps = stubborn polite
[stubborn]
run = trap "" TERM; sleep 1000 & touch stubborn.ready; wait
[polite]
run = trap "touch polite.term; exit 0" TERM; sleep 1000 & touch polite.ready; wait'
	start_weft -j2 --grace=60s
	wait_for stubborn.ready
	wait_for polite.ready
	kill -INT "$pid"
	wait_for polite.term
	kill -0 "$pid"
	kill -INT "$pid"
	wait_weft 5
	[ "$status" -eq 130 ]
	assert_no_leftovers
}

@test "SIGINT to weft's whole process group: each job sees one signal at most" {
	cat > job.sh <<'EOF'
trap 'echo INT >> "$1.sig"' INT
trap 'echo TERM >> "$1.sig"; exit 0' TERM
sleep 1000 &
touch "$1.ready"
wait
wait
EOF
	recipe '[all]
deps = j1 j2
[j1]
run = sh job.sh j1
[j2]
run = sh job.sh j2'
	start_weft --setsid -j2
	wait_for j1.ready
	wait_for j2.ready
	touch j1.sig j2.sig
	kill -INT -- "-$pid"
	wait_weft
	[ "$status" -eq 130 ]
	echo "j1: $(cat j1.sig) j2: $(cat j2.sig)"
	[ "$(wc -l < j1.sig)" -le 1 ]
	[ "$(wc -l < j2.sig)" -le 1 ]
	assert_no_leftovers
}

@test "weft | head -1: weft stops its jobs and ends quietly (SIGPIPE)" {
	recipe '[yes]
run = yes'
	local mode
	for mode in line raw; do
		run -0 timeout 20 bash -c '"$0" --output='$mode' 2> err | head -n 1 > out
			echo "${PIPESTATUS[0]}" > rc' "$WEFT"
		[ "$(cat rc)" -eq 141 ]
		grep -Eqx '(yes \| )?y' out
		if grep -Eiq 'broken pipe|epipe' err; then
			cat err >&2
			false
		fi
		assert_no_leftovers
	done
}

@test "after weft exits, its stdout and stderr pipes are still blocking" {
	recipe '[t]
run = echo hello; echo oops >&2'
	local mode
	for mode in group line raw; do
		run -0 bash -c '{ "$0" --output='$mode' 2> err
			"$1" -c "import os; print(os.get_blocking(1))"; } | cat > out' \
			"$WEFT" "$PY"
		printf '%s\n' "$(head -n 1 out)" True > expected
		diff expected out
		grep -Eqx '(t \| )?hello' out
		# stderr too, when it is a pipe shared with the caller
		run -0 bash -c '{ "$0" --output='$mode' > /dev/null
			"$1" -c "import os; print(os.get_blocking(2))" 1>&2; } 2>&1 | cat > out' \
			"$WEFT" "$PY"
		[ "$(tail -n 1 out)" = True ]
	done
}

@test "nohup weft: SIGHUP stays ignored, for weft and its jobs, and the run goes on (as make does)" {
	recipe '[all]
deps = j1 j2
[j1]
run = touch j1.ready; i=0; while [ ! -e go ] && [ $i -lt 500 ]; do i=$((i + 1)); sleep 0.02; done; touch j1.done
[j2]
run = touch j2.ready; i=0; while [ ! -e go ] && [ $i -lt 500 ]; do i=$((i + 1)); sleep 0.02; done; touch j2.done'
	nohup "$WEFT" -j2 < /dev/null > out 2> err 3>&- &
	pid=$!
	wait_for j1.ready
	wait_for j2.ready
	kill -HUP "$pid"
	# Were HUP not ignored, weft would stop both jobs at once and die of it.
	kill -HUP -- "$(ps -o pgid= -p "$(pgrep -P "$pid" -f j1.ready)" | tr -d ' ')"
	touch go
	wait_weft
	[ "$status" -eq 0 ]
	[ -e j1.done ]
	[ -e j2.done ]
	grep -Eq '^weft: 3 tasks done in ' err
}
