#!/usr/bin/env bats
# Recipe variables: ${NAME} expanded when the recipe is read, NAME ?=
# defaults the environment overrides, NAME=VALUE on the command line over
# both, and undefined names and cycles as recipe errors at file:line.
load helpers/common

setup() { common_setup; }

@test 'a $-brace NAME reference expands variables of [vars] and [env] in any order, and the environment' {
	recipe '[vars]
CFLAGS = -O2 ${EXTRA} -I${ROOT}/include -DUSER_HOME=${WEFT_T_HOME}
ROOT = /src
EXTRA = -g
LIT = $${NOT} a reference, $HOME neither
[env]
BIN = ${ROOT}/bin
[a]
run = printf "%s|%s|%s\n" "$CFLAGS" "$LIT" "$BIN"'
	WEFT_T_HOME=/home/x run -0 --separate-stderr "$WEFT" -q
	assert_output '-O2 -g -I/src/include -DUSER_HOME=/home/x|${NOT} a reference, $HOME neither|/src/bin'
}

@test 'NAME ?= VALUE: the environment wins when it sets NAME; the command line wins over both' {
	recipe '[vars]
CC ?= gcc
OPT ?= -O${LEVEL}
LEVEL = 2
[a]
run = echo "$CC $OPT"'
	run -0 --separate-stderr "$WEFT" -q
	assert_output "gcc -O2"
	CC=clang run -0 --separate-stderr "$WEFT" -q
	assert_output "clang -O2"
	CC=clang run -0 --separate-stderr "$WEFT" -q CC=tcc LEVEL=3
	assert_output "tcc -O3"
	# An empty value in the environment is a value.
	CC= run -0 --separate-stderr "$WEFT" -q
	assert_output " -O2"
	# Without ?=, the recipe wins over the environment, as before.
	recipe '[vars]
CC = gcc
[a]
run = echo "$CC"'
	CC=clang run -0 --separate-stderr "$WEFT" -q
	assert_output gcc
}

@test 'undefined names, cycles and a brace that is no reference: every one a recipe error at its line, nothing runs' {
	recipe '[vars]
A = ${B}
B = x${C}
C = ${A}
D = ${WEFT_T_NOPE}
E = ${CC:-gcc}
F = ${D} and ${A}
[a]
run = touch ran'
	unset WEFT_T_NOPE
	run -2 "$WEFT"
	assert_output "weft.ini:4: variable 'A' refers to itself: A -> B -> C -> A
weft.ini:5: undefined variable 'WEFT_T_NOPE' in the value of 'D' (set it in [vars], in the environment, or as WEFT_T_NOPE=VALUE on the command line)
weft.ini:6: '\${CC:-gcc}' in the value of 'E' is not a \${NAME} reference (write \$\${ for a literal \${)"
	[ ! -e ran ]
	# A name the command line sets is defined.
	run -0 "$WEFT" -q WEFT_T_NOPE=1 A=a E=e
}

@test 'the expanded values decide whether a task is up to date' {
	echo x > src.txt
	recipe '[vars]
MODE ?= fast
FLAGS = --${MODE}
[t]
sources = src.txt
run = echo "$FLAGS" >> log'
	run -0 "$WEFT" -q
	run -0 "$WEFT" -q
	[ "$(wc -l < log)" -eq 1 ]
	MODE=slow run -0 "$WEFT" -q
	run -0 cat log
	assert_output "--fast
--slow"
}
