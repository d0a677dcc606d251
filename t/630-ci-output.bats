#!/usr/bin/env bats
# A run read as a log: a line per finished task where no status line can be
# drawn, CI=true headers, GitHub Actions groups, annotations and job
# summary, the still-running heartbeat, --joblog for recipes, and the
# colour and width conventions of the environment.
load helpers/common

setup() { common_setup; }

# times_out: run's output with every "(1.23s)" as "(T)".
times_out() { sed -E 's/\([0-9]+\.[0-9]+s\)/(T)/g' <<< "$output"; }


@test "stdout not a terminal: each finished task's line on stderr, just before its grouped output" {
	recipe '[all]
deps = a
run = echo out-all
[a]
run = echo out-a; echo err-a >&2'
	run -0 "$WEFT" -j1
	run -0 times_out
	assert_line --index 0 "weft: [1/2] a: ok (T)"
	assert_line --index 1 "out-a"
	assert_line --index 2 "err-a"
	assert_line --index 3 "weft: [2/2] all: ok (T)"
	assert_line --index 4 "out-all"
	# Failures, up-to-date tasks and tasks that never started.
	echo x > src.txt
	recipe '[all]
deps = fresh bad after
[fresh]
sources = src.txt
run = true
[bad]
run = exit 3
[after]
deps = bad
run = true'
	run -0 "$WEFT" fresh
	run -1 --separate-stderr "$WEFT" -k -j1
	run -0 times_out <<< "$stderr"
	output=$stderr
	run -0 times_out
	assert_line --regexp '^weft: \[[12]/4\] fresh: up to date$'
	assert_line --regexp '^weft: \[[12]/4\] bad: exit 3 \(T\)$'
	refute_line --partial "after:"
}

@test "-q: no line per task, only the jobs' output and the summary" {
	recipe '[a]
run = echo out-a'
	run -0 --separate-stderr "$WEFT" -q
	assert_output out-a
	[[ $stderr =~ ^weft:\ 1\ task\ done\ in\ [0-9.]+s$ ]]
}

@test "CI=true: a header line on stdout before each task's output, no control codes, group output even on a terminal" {
	recipe '[all]
deps = a b
run = echo out-all
[a]
run = echo out-a
[b]
run = echo out-b >&2; exit 1'
	export CI=true TERM=xterm
	run -1 --separate-stderr "$WEFT" -k -j1
	run -0 times_out
	assert_line --index 0 "[1/3] a: ok (T)"
	assert_line --index 1 "out-a"
	assert_line --index 2 "[2/3] b: exit 1 (T)"
	[ "${#lines[@]}" -eq 3 ]
	[[ $stderr == *"out-b"* ]]
	# On a terminal too: no status line, no colour.
	on_tty "'$WEFT' -k -j1 a"
	LC_ALL=C run -1 grep -q '[[:cntrl:]]' tty
	grep -qx '\[1/1\] a: ok ([0-9.]*s)' tty
	# CI=false is no CI.
	export CI=false
	run -0 --separate-stderr "$WEFT" a
	assert_output out-a
}

@test "GitHub Actions: groups, error annotations, error-format places, and the job summary, byte for byte" {
	recipe '[all]
deps = lint build
[lint]
run = echo "checked 3 files"
[build]
run = echo compiling; echo "src/a,b.c:12:5: error: 50% done: no" >& 2; exit 2'"
error-format = ^(?<file>[^:]+):(?<line>\\d+):(?<col>\\d+): error: (?<message>.*)$"
	export GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY=$PWD/summary.md
	echo "earlier step" > summary.md
	run -1 --separate-stderr "$WEFT" -k -j1 lint build
	run -0 times_out
	assert_output "::group::lint: ok (T)
checked 3 files
::endgroup::
::group::build: exit 2 (T)
::error title=build failed::exit 2
::error file=src/a%2Cb.c,line=12,col=5,title=build::50%25 done: no
compiling
::endgroup::"
	run -0 sed -E 's/[0-9]+\.[0-9]+s/T/' summary.md
	assert_output "earlier step
### weft: 1 ok, 1 failed, 0 not started

| task | result | time |
|---|---|---:|
| lint | ✅ ok | T |
| build | ❌ exit 2 | T |"
}

@test "GitHub Actions: annotations of a task that succeeds are warnings" {
	recipe '[w]
run = echo "x.c:1:2: error: only a warning here"'"
error-format = ^(?<file>[^:]+):(?<line>\\d+):(?<col>\\d+): error: (?<message>.*)$"
	GITHUB_ACTIONS=true run -0 --separate-stderr "$WEFT"
	assert_line "::warning file=x.c,line=1,col=2,title=w::only a warning here"
	refute_line --partial "::error"
}

@test "--heartbeat: a long silent wait names the jobs still running" {
	# The job waits (bounded) until weft has said it is still running.
	wait_job err 'weft: still running: slow ('
	recipe '[slow]
run = sh job.sh'
	run -0 sh -c '"$0" --heartbeat=200ms > out 2> err' "$WEFT"
	[ -e seen ]
	# Never with 0; bad values are usage errors.
	run -2 "$WEFT" --heartbeat=soon
	assert_output --partial "invalid duration 'soon' for --heartbeat"
	recipe '[quick]
run = true'
	run -0 --separate-stderr "$WEFT" --heartbeat=0
	refute_output --partial "still running"
}

@test "--joblog for a recipe: GNU parallel's format, a line per finished job, ids as Seq" {
	recipe '[all]
deps = a b
[a]
run = echo hi
[b]
foreach = x y
run = echo {}; exit 1'
	run -1 "$WEFT" -k -j1 --joblog=jl
	run -0 head -n 1 jl
	assert_output "$(printf 'Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand')"
	run -0 awk -F'\t' 'NR > 1 { print $1, $2, $6, $7, $9 }' jl
	assert_line --regexp '^[0-9]+ : 3 0 echo hi$'
	# Seq: the ids, each once.
	[ "$(awk -F'\t' 'NR > 1 { print $1 }' jl | sort -u | wc -l)" -eq 3 ]
	assert_line --regexp '^[0-9]+ : 2 1 echo x; exit 1$'
	assert_line --regexp '^[0-9]+ : 2 1 echo y; exit 1$'
	[ "${#lines[@]}" -eq 3 ]
	# Each run starts the log anew; an unwritable log stops the run before it starts.
	run -0 "$WEFT" -q a --joblog=jl
	[ "$(wc -l < jl)" -eq 2 ]
	run -2 "$WEFT" a --joblog=no/such/dir/jl
	assert_output --partial "cannot open the job log"
}

@test "FORCE_COLOR and CLICOLOR_FORCE colour output in a pipe; NO_COLOR and FORCE_COLOR=0 do not" {
	recipe '[a]
run = echo hi'
	FORCE_COLOR=1 run -0 --separate-stderr "$WEFT" --output=line
	[[ $output == *$'\033['* ]]
	CLICOLOR_FORCE=1 run -0 --separate-stderr "$WEFT" --output=line
	[[ $output == *$'\033['* ]]
	FORCE_COLOR=0 run -0 --separate-stderr "$WEFT" --output=line
	[[ $output != *$'\033'* ]]
	NO_COLOR=1 TERM=xterm run -0 --separate-stderr "$WEFT" --output=line --color=auto
	[[ $output != *$'\033'* ]]
	# The command line has the last word.
	FORCE_COLOR=1 run -0 --separate-stderr "$WEFT" --output=line --color=never
	[[ $output != *$'\033'* ]]
}

@test "COLUMNS sets the width of the status line" {
	wait_job tty 'running:'
	recipe '[a-task-with-a-rather-long-name]
run = sh job.sh'
	export TERM=xterm COLUMNS=30
	on_tty "'$WEFT'"
	[ -e seen ]
	# Every line the status line drew fits in 29 columns.
	run -0 sh -c "tr '\r' '\n' < tty | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' | grep 'running:'"
	local l
	for l in "${lines[@]}"; do
		[ "${#l}" -le 29 ] || fail "too wide: '$l'"
	done
}
