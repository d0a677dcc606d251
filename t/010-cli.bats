#!/usr/bin/env bats
# The command line: help, version, the views that run nothing (-l, --graph,
# -n), finding the recipe, picking tasks, variables and bad option values.
load helpers/common

setup() { common_setup; }

# No ran-* marker exists: nothing ran.
assert_nothing_ran() {
	local left=(ran-*)
	if [ -e "${left[0]}" ]; then
		echo "tasks ran: ${left[*]}" >&2
		return 1
	fi
}

# ran_exactly NAME...: the ran-* markers are exactly ran-NAME for these.
ran_exactly() {
	local want got
	want=$(printf 'ran-%s\n' "$@" | sort)
	got=$(compgen -G 'ran-*' | sort)
	assert_equal "$got" "$want"
}

USAGE='usage: weft [options] [TASK|/REGEX/|NAME=VALUE]...
       weft exec [options] COMMAND [ARG...] [::: VALUE... | :::: FILE...]...
       weft report FILE -o OUT.html

Run the tasks of a recipe (weft.ini) and their dependencies in parallel.

Options:
  -f, --file=FILE       read the recipe from FILE instead of the nearest weft.ini
  -C, --directory=DIR   change to DIR before doing anything else
  -j, --jobs=N          run at most N jobs at once (default: the number of CPUs)
  -k, --keep-going      after a failure, go on with tasks that do not depend on it
  -B, --always-make     run tasks even when their sources say they are up to date
      --explain         say why each task with sources runs or is skipped
  -n, --dry-run         print what would run, as lines for sh, without running it
  -l, --list            list the tasks with their descriptions
      --list-vars       list the variables of [vars] and [env] with their values
      --graph           print the dependency graph in DOT format
      --output=MODE     line, group or raw (default: line on a terminal, else group)
      --color=WHEN      auto, always or never (default: auto)
      --grace=DURATION  wait this long after SIGTERM before SIGKILL (default: 2s)
      --joblog=FILE     record each finished job in FILE (GNU parallel'\''s format)
  -q, --quiet           no status line and no line for each finished job
      --heartbeat=DURATION  say which jobs still run after DURATION without a line (default: 2m)
      --events=FILE     write the events of the run to FILE as JSON Lines (- for stdout)
      --events-output   with --events: include the output of the jobs in the events
      --cluster=N       run the jobs on N runner processes (auto: one per CPU)
      --requeue=N       with --cluster: run a job again N times if its runner dies (default: 1)
      --junit=FILE      write a JUnit XML report to FILE: a testcase for each job
      --trace=FILE      write a Chrome trace of the run to FILE, for Perfetto or chrome://tracing
      --report=FILE     write an HTML report of the run to FILE: its timeline and critical path
      --jobserver-style=STYLE  pipe or fifo: how jobs reach the jobserver (default: pipe)
  -V, --version         print the version and exit
  -h, --help            print this help and exit

Exit status: 0 all tasks succeeded, 1 a task failed, 2 usage or recipe error,
128+N interrupted by signal N (130 SIGINT, 143 SIGTERM, 129 SIGHUP).'

@test "--help and -h print the usage text exactly, without needing a recipe" {
	run -0 --separate-stderr "$WEFT" --help
	assert_output "$USAGE"
	assert_equal "$stderr" ""
	run -0 --separate-stderr "$WEFT" -h
	assert_output "$USAGE"
	assert_equal "$stderr" ""
}

@test "every option of --help is in man/weft.1, with the same words" {
	local man="$BATS_TEST_DIRNAME/../man/weft.1"
	run -0 --separate-stderr "$WEFT" --help
	# The man page as plain words: macros, font escapes and quotes gone.
	local text
	text=$(sed -e 's/^\.[A-Za-z]*[[:space:]]*//' -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' \
		-e 's/\\&//g' -e 's/"//g' "$man" | tr -s '\n\t ' '   ')
	local line desc short long n=0
	for line in "${lines[@]}"; do
		[[ $line =~ ^\ \ (-([A-Za-z]),\ |\ \ \ \ )--([a-z-]+)(=[A-Z]+)?\ +(.*)$ ]] || continue
		short=${BASH_REMATCH[2]} long=${BASH_REMATCH[3]} desc=${BASH_REMATCH[5]}
		n=$((n + 1))
		grep -qF -- "\\-\\-${long//-/\\-}" "$man" || fail "--$long is not in man/weft.1"
		if [ -n "$short" ]; then
			grep -qF -- "\\-$short" "$man" || fail "-$short is not in man/weft.1"
		fi
		[[ $text == *"$desc"* ]] || fail "man/weft.1 does not say '$desc' (for --$long)"
	done
	assert_equal "$n" 26
}

@test "--version and -V print the version" {
	run -0 --separate-stderr "$WEFT" --version
	assert_output --regexp '^weft [0-9]+\.[0-9]+\.[0-9]+$'
	local version=$output
	run -0 --separate-stderr "$WEFT" -V
	assert_output "$version"
	assert_equal "$stderr" ""
}

@test "-l lists every task in file order, names padded, two spaces, desc" {
	recipe '[build]
desc = compile the library
run = touch ran-build

[test:unit]
desc = run the unit tests
deps = build
run = touch ran-test

[x]
run = touch ran-x

[clean]
desc = remove   what build made'
	run -0 --separate-stderr "$WEFT" -l
	assert_output 'build      compile the library
test:unit  run the unit tests
x
clean      remove   what build made'
	assert_equal "$stderr" ""
	assert_nothing_ran
	run -0 --separate-stderr "$WEFT" --list
	assert_line --index 0 'build      compile the library'
}

@test "--graph prints the whole graph in DOT" {
	recipe '[all]
deps = build test

[build]
run = touch ran-build

[test]
deps = build
run = touch ran-test

[clean]
run = touch ran-clean'
	run -0 --separate-stderr "$WEFT" --graph
	assert_output 'digraph weft {
  "all";
  "all" -> "build";
  "all" -> "test";
  "build";
  "test";
  "test" -> "build";
  "clean";
}'
	assert_equal "$stderr" ""
	assert_nothing_ran
}

@test "--graph TASK prints only that task and what it depends on" {
	recipe '[all]
deps = build test
[build]
run = touch ran-build
[test]
deps = build
run = touch ran-test
[clean]
run = touch ran-clean'
	run -0 --separate-stderr "$WEFT" --graph test
	assert_output 'digraph weft {
  "build";
  "test";
  "test" -> "build";
}'
	assert_nothing_ran
}

@test "-n prints each command as a line for sh, dependencies first, and runs nothing" {
	recipe '[release]
deps = package
run = touch ran-release

[compile]
run = touch ran-compile
  echo "compiled $0"

[package]
deps = compile
dir = dist
run = touch ran-package ; tar cf x.tar .  # keep'
	run -0 --separate-stderr "$WEFT" -n release
	assert_output "set -e
/bin/sh -e -c 'touch ran-compile
echo \"compiled \$0\"' compile
(cd dist && /bin/sh -c 'touch ran-package ; tar cf x.tar .  # keep' package)
touch ran-release"
	assert_equal "$stderr" ""
	assert_nothing_ran
}

@test "-n puts every dependency before its dependents in a diamond; a task without run prints nothing" {
	recipe '[all]
deps = d c
[d]
deps = b c
run = echo d
[c]
deps = a
run = echo c
[b]
deps = a
run = echo b
[a]
run = echo a'
	run -0 --separate-stderr "$WEFT" --dry-run all
	assert_equal "${#lines[@]}" 5
	assert_line --index 0 'set -e'
	local i pos_a pos_b pos_c pos_d
	for ((i = 1; i < 5; i++)); do
		case ${lines[i]} in
		'echo a') pos_a=$i ;;
		'echo b') pos_b=$i ;;
		'echo c') pos_c=$i ;;
		'echo d') pos_d=$i ;;
		*) fail "unexpected line '${lines[i]}'" ;;
		esac
	done
	[ "$pos_a" -lt "$pos_b" ]
	[ "$pos_a" -lt "$pos_c" ]
	[ "$pos_b" -lt "$pos_d" ]
	[ "$pos_c" -lt "$pos_d" ]
}

@test "-f FILE reads that recipe and runs its tasks in FILE's directory" {
	recipe '[t]
run = touch ran-wrong'
	mkdir -p sub/deep
	printf '[other]\nrun = pwd\n' > sub/deep/tasks.ini
	run -0 --separate-stderr "$WEFT" -f sub/deep/tasks.ini
	assert_output "$(cd sub/deep && pwd -P)"
	run -0 --separate-stderr "$WEFT" --file=sub/deep/tasks.ini other
	assert_output "$(cd sub/deep && pwd -P)"
	assert_nothing_ran
}

@test "-C DIR looks for the recipe from DIR, and a relative -f is taken from DIR" {
	mkdir -p proj/sub
	printf '[where]\nrun = pwd\n' > proj/weft.ini
	printf '[other]\nrun = echo other\n' > proj/sub/x.ini
	run -0 --separate-stderr "$WEFT" -C proj
	assert_output "$(cd proj && pwd -P)"
	run -0 --separate-stderr "$WEFT" --directory=proj/sub
	assert_output "$(cd proj && pwd -P)"
	run -0 --separate-stderr "$WEFT" -C proj -f sub/x.ini
	assert_output other
	run -2 --separate-stderr "$WEFT" -C nowhere
	assert_output ""
	[[ $stderr == "weft: "*nowhere* ]] || fail "stderr: $stderr"
}

@test "weft.ini is found in a parent directory and tasks run in the recipe's directory" {
	recipe '[where]
run = pwd'
	local top
	top=$(pwd -P)
	mkdir -p a/b/c
	cd a/b/c
	run -0 --separate-stderr "$WEFT"
	assert_output "$top"
}

@test "no recipe: message and exit 2" {
	mkdir empty
	cd empty
	local d=$PWD
	while [ "$d" != / ]; do
		d=$(dirname "$d")
		[ ! -e "$d/weft.ini" ] || skip "$d/weft.ini exists"
	done
	run -2 --separate-stderr "$WEFT"
	assert_output ""
	assert_equal "$stderr" "weft: no weft.ini in . or any parent directory (-f FILE reads another)"
	run -2 --separate-stderr "$WEFT" -l
	assert_equal "$stderr" "weft: no weft.ini in . or any parent directory (-f FILE reads another)"
	# Recipes under other names, here, are named.
	touch build.ini 'a b.ini' notes.txt
	run -2 --separate-stderr "$WEFT"
	assert_equal "$stderr" "weft: no weft.ini in . or any parent directory (-f FILE reads another)
weft: .ini files here: a b.ini build.ini"
}

@test "unknown task: message with a hint when one is close, exit 2, nothing runs" {
	recipe '[build]
run = touch ran-build
[test]
run = touch ran-test'
	run -2 --separate-stderr "$WEFT" biuld
	assert_output ""
	assert_equal "$stderr" "weft: unknown task 'biuld' (did you mean 'build'?)"
	run -2 --separate-stderr "$WEFT" test frobnicate
	assert_equal "$stderr" "weft: unknown task 'frobnicate'"
	assert_nothing_ran
}

@test "/REGEX/ selects every task whose name matches, unanchored" {
	recipe '[build]
run = touch ran-build
[lint:c]
run = touch ran-lint-c
[lint:sh]
run = touch ran-lint-sh
[unit-test]
run = touch ran-unit-test
[test:slow]
run = touch ran-test-slow'
	run -0 --separate-stderr "$WEFT" '/^lint:/'
	ran_exactly lint-c lint-sh
	rm ran-*
	run -0 --separate-stderr "$WEFT" /test/ build
	ran_exactly build test-slow unit-test
}

@test "/REGEX/ errors: invalid regex and no match, exit 2, nothing runs" {
	recipe '[build]
run = touch ran-build'
	run -2 --separate-stderr "$WEFT" '/(/'
	assert_output ""
	[[ $stderr == 'weft: '*'/(/'* ]] || fail "no message about /(/: $stderr"
	[[ $stderr != *$'\n'* ]] || fail "more than one line: $stderr"
	run -2 --separate-stderr "$WEFT" build /xyz/
	assert_equal "$stderr" "weft: no task matches /xyz/"
	assert_nothing_ran
}

@test "no task named: [weft] default runs, else the first task" {
	recipe '[first]
run = touch ran-first
[weft]
default = second
[second]
deps = third
run = touch ran-second
[third]
run = touch ran-third'
	run -0 --separate-stderr "$WEFT"
	ran_exactly second third
	rm ran-*
	run -0 --separate-stderr "$WEFT" third
	ran_exactly third
	rm ran-*
	recipe '[first]
deps = second
run = touch ran-first
[second]
run = touch ran-second
[third]
run = touch ran-third'
	run -0 --separate-stderr "$WEFT"
	ran_exactly first second
}

@test "NAME=VALUE overrides [vars] and reaches every task" {
	recipe '[vars]
CC = cc
[build]
deps = dep
run = echo "build $CC"
[dep]
run = echo "dep $CC"'
	run -0 --separate-stderr "$WEFT" -j1
	assert_output $'dep cc\nbuild cc'
	run -0 --separate-stderr "$WEFT" -j1 CC=clang
	assert_output $'dep clang\nbuild clang'
	run -0 --separate-stderr "$WEFT" -j1 CC=
	assert_output $'dep \nbuild '
}

@test "variables: environment < [env] < [vars] < env.NAME < command line" {
	recipe '[env]
V2 = env
V3 = env
V4 = env
V5 = env
[vars]
V3 = vars
V4 = vars
V5 = vars
[t]
env.V4 = task
env.V5 = task
run = echo "$V1 $V2 $V3 $V4 $V5"'
	V1=outer V2=outer V3=outer V4=outer V5=outer run -0 --separate-stderr "$WEFT" V5=cli
	assert_output "outer env vars task cli"
	V1=outer V2=outer V3=outer V4=outer V5=outer run -0 --separate-stderr "$WEFT"
	assert_output "outer env vars task task"
}

@test "bad option values: exit 2 with a message, nothing runs" {
	recipe '[t]
run = touch ran-t'
	local args
	for args in '-j 0' '-j x' '--jobs=0' '-j -1' '--output=x' '--color=x' '--grace=x' '--grace=5x'; do
		# shellcheck disable=SC2086
		run -2 --separate-stderr "$WEFT" $args
		assert_output ""
		[[ $stderr == "weft: "* ]] || fail "$args: no message: $stderr"
		[[ $stderr == *"'${args#*[ =]}'"* ]] || fail "$args: the message does not quote the value: $stderr"
	done
	assert_nothing_ran
}

@test "an unknown option names the nearest one, for weft and weft exec; a far one gets no guess" {
	recipe '[t]
run = touch ran-t'
	run -2 --separate-stderr "$WEFT" --jbos=2
	assert_equal "$stderr" "weft: unknown option '--jbos=2' (did you mean '--jobs'?)
Try 'weft --help' for more information."
	run -2 --separate-stderr "$WEFT" --explian
	assert_equal "${stderr_lines[0]}" "weft: unknown option '--explian' (did you mean '--explain'?)"
	run -2 --separate-stderr "$WEFT" --evnets=x
	assert_equal "${stderr_lines[0]}" "weft: unknown option '--evnets=x' (did you mean '--events'?)"
	run -2 --separate-stderr "$WEFT" --zzzzzz
	assert_equal "${stderr_lines[0]}" "weft: unknown option '--zzzzzz'"
	run -255 --separate-stderr "$WEFT" exec --keep-ordr echo ::: a
	assert_equal "${stderr_lines[0]}" "weft exec: unknown option '--keep-ordr' (did you mean '--keep-order'?)"
	assert_output ""
	assert_nothing_ran
}

@test "options after task names are options (GNU-style permutation)" {
	recipe '[build]
run = touch ran-build'
	run -0 --separate-stderr "$WEFT" build -n
	assert_output $'set -e\ntouch ran-build'
	assert_nothing_ran
	run -0 --separate-stderr "$WEFT" build -k
	[ -e ran-build ]
	rm ran-build
	run -0 --separate-stderr "$WEFT" build -l
	assert_output "build"
	assert_nothing_ran
	run -0 --separate-stderr "$WEFT" build --output=raw -j 1
	[ -e ran-build ]
}
