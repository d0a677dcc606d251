#!/usr/bin/env bats
# Shell completions (completions/): bash driven through COMP_WORDS, fish
# through `complete -C`, zsh through its completion function with compadd
# standing in; each completes options, the nearest recipe's tasks, NAME=
# variables and weft exec's options.
load helpers/common

setup() {
	common_setup
	COMPLETIONS="$BATS_TEST_DIRNAME/../completions"
	# The weft under test first on PATH, as the scripts call `weft`.
	mkdir bin
	ln -s "$WEFT" bin/weft
	PATH="$PWD/bin:$PATH"
	mkdir -p sub
	recipe '[vars]
CC ?= gcc
CFLAGS = -O2
[build]
desc = compile
run = true
[check]
run = true'
	printf '[other]\nrun = true\n' > sub/alt.ini
}

# bash_complete WORDS...: COMPREPLY for completing the last word, one a line.
bash_complete() {
	bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _weft; printf "%s\n" "${COMPREPLY[@]}"' \
		_ "$COMPLETIONS/weft.bash" "$@"
}

@test "bash: task names, exec and variables; options; a /regex/ left alone" {
	run -0 bash_complete weft ""
	assert_line build
	assert_line check
	assert_line exec
	assert_line CC=
	assert_line CFLAGS=
	run -0 bash_complete weft ch
	assert_output check
	run -0 bash_complete weft --jo
	assert_line -- --joblog=
	assert_line -- --jobs=
	assert_line -- --jobserver-style=
	[ "${#lines[@]}" -eq 3 ]
	run -0 bash_complete weft -
	assert_line -k
	assert_line --keep-going
	run -0 bash_complete weft /bu
	assert_output ""
	run -0 bash_complete weft --output ""
	assert_output "line
group
raw"
}

@test "bash: -f FILE and -C DIR name the recipe whose tasks complete" {
	run -0 bash_complete weft -f sub/alt.ini ""
	assert_line other
	refute_line build
	run -0 bash_complete weft --file=sub/alt.ini o
	assert_output other
	# as bash splits it, at the =
	run -0 bash_complete weft --file = sub/alt.ini o
	assert_output other
}

@test "bash: weft exec completes its own options, and commands" {
	run -0 bash_complete weft exec --ta
	assert_output "--tag
--tagstring="
	run -0 bash_complete weft exec --resum
	assert_output "--resume
--resume-failed"
}

@test "bash: weft report completes its options and file names" {
	run -0 bash_complete weft re
	assert_output report
	run -0 bash_complete weft report --o
	assert_output "--output="
	# only the options, not the words of the help's text
	run -0 bash_complete weft report --
	assert_output "--output=
--help"
	touch run.events
	run -0 bash_complete weft report run.e
	assert_output run.events
}

@test "fish: options, tasks, variables and exec's options" {
	command -v fish > /dev/null || skip "fish is not installed"
	run -0 fish -c "source '$COMPLETIONS/weft.fish'; complete -C 'weft '"
	assert_line --regexp $'^build\ttask$'
	assert_line --regexp $'^CC=\tvariable$'
	assert_line --regexp $'^exec\t'
	run -0 fish -c "source '$COMPLETIONS/weft.fish'; complete -C 'weft --keep'"
	assert_output -- "--keep-going"
	run -0 fish -c "source '$COMPLETIONS/weft.fish'; complete -C 'weft exec --resum'"
	assert_output -- "--resume
--resume-failed"
	run -0 fish -c "source '$COMPLETIONS/weft.fish'; complete -C 'weft report --o'"
	assert_output -- "--output="
	touch run.events
	run -0 fish -c "source '$COMPLETIONS/weft.fish'; complete -C 'weft report run.e'"
	assert_output run.events
	run -0 fish -c "source '$COMPLETIONS/weft.fish'; complete -C 'weft -f sub/alt.ini '"
	assert_line --regexp $'^other\ttask$'
}

@test "zsh: the completion function offers tasks, variables and options" {
	command -v zsh > /dev/null || skip "zsh is not installed"
	# compadd prints what it is given, after its options.
	local stubs='compadd() { local i=${@[(i)--]}; print -rl -- "${@[i+1,-1]}"; }; _files() { :; }; _command_names() { :; }'
	run -0 zsh -f -c "$stubs; autoload -U +X compinit 2>/dev/null; words=(weft ''); CURRENT=2; source '$COMPLETIONS/_weft'"
	assert_line build
	assert_line exec
	assert_line CC=
	run -0 zsh -f -c "$stubs; words=(weft --); CURRENT=2; source '$COMPLETIONS/_weft'"
	assert_line --keep-going
	assert_line --heartbeat=
	run -0 zsh -f -c "$stubs; words=(weft exec --); CURRENT=3; source '$COMPLETIONS/_weft'"
	assert_line --resume-failed
	run -0 zsh -f -c "$stubs; words=(weft ''); CURRENT=2; source '$COMPLETIONS/_weft'"
	assert_line report
	run -0 zsh -f -c "$stubs; words=(weft report --); CURRENT=3; source '$COMPLETIONS/_weft'"
	assert_line --output=
	refute_line --keep-going
	run -0 zsh -n "$COMPLETIONS/_weft"
}

@test "--list-vars: the variables as the tasks get them" {
	run -0 "$WEFT" --list-vars CFLAGS=-O0
	assert_output "CC=gcc
CFLAGS=-O0"
	CC=clang run -0 "$WEFT" --list-vars
	assert_output "CC=clang
CFLAGS=-O2"
}
