#!/usr/bin/env bats
# weft exec: replacement strings with blanks after the number ({1\n},
# {2 .}) as GNU parallel reads them, and -j, --timeout and --retries,
# which take one value for the whole run, refusing replacement strings.
load helpers/common
load helpers/exec

setup() { common_setup; }

@test "{N} followed by blanks or a newline before its end reads as GNU parallel reads it" {
	command -v parallel > /dev/null || skip "GNU parallel is not installed"
	local cmd=$'echo {1\n} {2 .} {-1\t/} {1 }'
	gnu_parallel --will-cite -k "$cmd" ::: a b.c ::: x/y.z < /dev/null > want 2>&1
	run -0 wx -k "$cmd" ::: a b.c ::: x/y.z
	cmp want out
	out_is $'a x/y y.z a\nb.c x/y y.z b.c'
	# Without a number, { and a newline stay as they are.
	run -0 wx -k $'printf "[%s]" \'{\n}\'; echo' ::: a
	out_is $'[{\n}]a'
}

@test "-j, --timeout and --retries take one value for the run, not a replacement string" {
	run -255 wx -j {} echo ::: 1
	[[ $(head -n 1 err) == "weft exec: invalid value '{}' for --jobs: not a replacement string (the number of slots is one for the whole run)" ]]
	run -255 wx --timeout '{=$_+1=}' echo ::: 1
	[[ $(head -n 1 err) == "weft exec: invalid value '{=\$_+1=}' for --timeout: not a replacement string (one timeout is for every job)" ]]
	run -255 wx --retries {1} echo ::: 1
	[[ $(head -n 1 err) == "weft exec: invalid value '{1}' for --retries: not a replacement string (one number of runs is for every job)" ]]
	[ ! -s out ]
}
