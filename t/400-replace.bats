#!/usr/bin/env bats
# Fan-out command templates: GNU parallel's replacement strings, their
# path edge cases, and shell quoting that survives hostile input. The
# C driver t/helpers/replace-test.c expands one template for one input.
load helpers/common

setup() { common_setup; }

RT="${REPLACE_TEST:-$BATS_TEST_DIRNAME/../build/t/replace-test}"

# expect ARGV... = WANT: the driver expands ARGV to exactly WANT.
expect() {
	local args=()
	while [ "$1" != "=" ]; do
		args+=("$1")
		shift
	done
	run -0 "$RT" "${args[@]}"
	assert_output "$2"
}

@test "each replacement string expands to its value" {
	expect echo {} -- a/b.c = "echo a/b.c"
	expect echo {.} -- a/b.c = "echo a/b"
	expect echo {/} -- a/b.c = "echo b.c"
	expect echo {//} -- a/b.c = "echo a"
	expect echo {/.} -- a/b.c = "echo b"
	expect --seq 7 echo {#} -- a = "echo 7"
	expect --slot 3 echo {%} -- a = "echo 3"
	expect --seq 18446744073709551615 echo {#} -- a = "echo 18446744073709551615"
}

@test "positional replacement strings pick one arg" {
	expect echo {1} {2} -- x/a.b y/c.d = "echo x/a.b y/c.d"
	expect echo {2.} -- x/a.b y/c.d = "echo y/c"
	expect echo {2/} -- x/a.b y/c.d = "echo c.d"
	expect echo {2//} -- x/a.b y/c.d = "echo y"
	expect echo {2/.} -- x/a.b y/c.d = "echo c"
	expect echo {-1} {-2} -- x/a.b y/c.d = "echo y/c.d x/a.b"
	expect echo {-1/.} -- x/a.b y/c.d = "echo c"
	expect echo {01} -- x y = "echo x"
}

@test "{N} past the last arg expands to nothing" {
	expect echo [{3}] -- a b = "echo []"
	expect echo [{3.}] [{-3}] -- a b = "echo [] []"
	expect echo [{99999999999999999999999}] -- a = "echo []"
	expect echo [{1}] -- = "echo []"
	expect echo [{}] -- = "echo []"
}

@test "the bare forms apply to every arg, joined by a space" {
	expect echo {} -- a 'b c' = "echo a 'b c'"
	expect echo {.} -- a.x b.y = "echo a b"
	expect echo {/} -- d/a e/b = "echo a b"
	expect echo x{}y -- a b = "echo xa by"
}

@test "{.} drops the last extension, dot-files included" {
	expect {.} -- a.tar.gz = "a.tar"
	expect {.} -- noext = "noext"
	expect {.} -- x. = "x"
	expect {.} -- .bashrc = "''"
	expect {.} -- d/.bashrc = "d/"
	expect {.} -- a.b/c = "a.b/c"
	expect {.} -- a/b.c/ = "a/b.c/"
	expect {.} -- .. = "."
	expect {.} -- '' = "''"
}

@test "{/} keeps what follows the last slash" {
	expect {/} -- b.c = "b.c"
	expect {/} -- a/b/ = "''"
	expect {/} -- / = "''"
	expect {/} -- a//b = "b"
	expect {/} -- /a.b = "a.b"
	expect {/} -- d/.bashrc = ".bashrc"
}

@test "{//} is dirname" {
	expect {//} -- b.c = "."
	expect {//} -- '' = "."
	expect {//} -- a/b/ = "a"
	expect {//} -- a.b/ = "."
	expect {//} -- / = "/"
	expect {//} -- // = "/"
	expect {//} -- //a = "/"
	expect {//} -- /a = "/"
	expect {//} -- a//b// = "a"
	expect {//} -- a/./b = "a/."
	expect {//} -- x/y/z = "x/y"
}

@test "{/.} is the basename without extension" {
	expect {/.} -- a/b.tar.gz = "b.tar"
	expect {/.} -- a/.bashrc = "''"
	expect {/.} -- a/b/ = "''"
	expect {/.} -- .. = "."
	expect {/.} -- noext = "noext"
}

@test "text that is no replacement string stays literal" {
	expect echo {foo} { } { } {0} {-0} {-} {+1} {1x} {#1} -- a = "echo {foo} { } { } {0} {-0} {-} {+1} {1x} {#1} a"
	expect echo '{{}' '{}}' '{' '}' -- a = "echo {a a} { }"
	expect echo '{/' '}' -- a = "echo {/ } a"
}

@test "a template without replacement strings gets the args appended" {
	expect echo -- a 'b c' = "echo a 'b c'"
	expect echo hi -- = "echo hi"
	expect -- a 'b c' = "a 'b c'"
	expect 'echo "x y"' -- '$z' = "echo \"x y\" '\$z'"
}

@test "{#} or {%} alone stops the args being appended, as in GNU parallel" {
	expect echo {#} -- a = "echo 1"
	expect echo {%} -- a = "echo 1"
}

@test "the command words are shell code and stay unquoted" {
	expect 'echo $HOME;' 'ls|wc' {} -- x = 'echo $HOME; ls|wc x'
}

@test "--quote leaves plain words bare and quotes the rest" {
	run -0 "$RT" --quote 'Az09_./,:+=@%^-'
	assert_output 'Az09_./,:+=@%^-'
	run -0 "$RT" --quote --opt=x
	assert_output '--opt=x'
	run -0 "$RT" --quote ''
	assert_output "''"
	run -0 "$RT" --quote "it's"
	assert_output "'it'\\''s'"
	run -0 "$RT" --quote 'a b'
	assert_output "'a b'"
	run -0 "$RT" --quote '~'
	assert_output "'~'"
	# In the first position these would be syntax or an assignment.
	run -0 "$RT" --quote if
	assert_output "'if'"
	run -0 "$RT" --quote A_1=b
	assert_output "'A_1=b'"
}

@test "a usage error exits 2" {
	run -2 "$RT" echo {}
	run -2 "$RT"
}

# The hostile inputs, one per element; the shell must pass each through.
hostile() {
	H=(
		"it's" "'" "''" '"' 'a"b' '$(touch pwned)' '`touch pwned`' '${x:-$(touch pwned)}'
		'; touch pwned' '| touch pwned' '& touch pwned' '&& touch pwned'
		$'\ntouch pwned' $'a\nb\n' $'\t' $'a\tb' '-n' '-e' '--' '' ' ' '  a  b  '
		'*' '?' '[a]' '~' '~root' '#x' '!' '\' '\n' 'a\' '$' '$HOME' '$1' '%s'
		'>pwned' '<x' '(x)' '{a,b}' '{}' 'if' 'done' 'A=b' $'\xff\xfe' $'\x80'
		$'\xc3' 'é' $'\x01\x1b[31m' 'x=$(touch pwned)'
	)
	local chunk
	chunk=$'\'$(touch pwned)`touch pwned`;|&\n\xff"\\ *~a'
	while [ "${#big}" -lt 100000 ]; do
		big+="$chunk"
	done
	H+=("$big")
}

@test "quoted strings reach the shell byte for byte" {
	hostile
	# Every string quoted in one script, each printed with a line after it.
	printf '%s\n--\n' "${H[@]}" > want
	{
		printf "printf '%%s\\n--\\n' "
		"$RT" --quote "${H[@]}"
	} > script
	sh ./script > got
	cmp want got
	[ ! -e pwned ]
}

# each_ctx TEMPLATE WANT-TEMPLATE: the driver expands TEMPLATE once per
# hostile input into one script; sh runs it. Each input must come out as
# bash prints it with WANT-TEMPLATE (where V holds the input), and nothing
# may run: the input is quoted for where {} stands.
each_ctx() {
	# One bash computes what every input should print: V is each in turn.
	# shellcheck disable=SC2016
	bash -c 'body=$1; shift; for V in "$@"; do eval "$body"; done' _ "$2" "${H[@]}" > want
	"$RT" --each "$1" -- "${H[@]}" > cmd
	sh ./cmd > got 2>&1
	cmp want got || { echo "template: $1" >&2; diff want got | head -n 20 >&2; return 1; }
	[ ! -e pwned ]
}

@test "{} inside the command's own quotes, \$(...), backquotes and here-documents: every input reaches the command whole, none runs" {
	hostile
	H+=($'x\nEOF\ntouch pwned' 'EOF' $'\tEOF')
	each_ctx 'printf "<%s>\n" {}' 'printf "<%s>\n" "$V"'
	each_ctx 'printf "<%s>\n" "{}"' 'printf "<%s>\n" "$V"'
	each_ctx "printf '<%s>\n' '{}'" 'printf "<%s>\n" "$V"'
	each_ctx "printf '<%s>\n' 'a'\"{}\"'b'" 'printf "<%s>\n" "a${V}b"'
	each_ctx 'printf "<%s>\n" "a $(printf %s {}) b"' 'printf "<%s>\n" "a $(printf %s "$V") b"'
	each_ctx 'printf "<%s>\n" "a$(printf %s "{}")b"' 'printf "<%s>\n" "a$(printf %s "$V")b"'
	each_ctx 'printf "<%s>\n" "x`printf %s {}`y"' 'printf "<%s>\n" "x$(printf %s "$V")y"'
	each_ctx 'printf "<%s>\n" "`printf %s "{}"`"' 'printf "<%s>\n" "$(printf %s "$V")"'
	# In a here-document nothing quotes a newline: an input with a line
	# that would end the document has its newlines turned into spaces.
	local flat='if printf "%s\n" "$V" | grep -qx EOF; then V=$(printf %s "$V" | tr "\n" " "); fi'
	each_ctx $'cat <<EOF\n<{}>\nEOF' "$flat"'; printf "<%s>\n" "$V"'
	each_ctx $'cat <<\'EOF\'\n<{}>\nEOF' "$flat"'; printf "<%s>\n" "$V"'
}

# The command goes to sh as a script file, not with -c: three copies of the
# 100 KB input pass the kernel's limit on one argv string (128 KiB).
@test "expanded commands pass every arg to the command byte for byte" {
	hostile
	local h
	for h in "${H[@]}"; do
		printf '%s\n' "$h" "$h" x "$h"
	done > want
	# One command per input, all in one script.
	"$RT" --each printf "'%s\n'" {} {1} x {-1} -- "${H[@]}" > cmd
	sh ./cmd > got
	cmp want got
	for h in "${H[@]}"; do
		"$RT" printf "'%s\n'" -- "$h" "$h" x "$h"
	done > cmd
	sh ./cmd > got
	cmp want got
	[ ! -e pwned ]
}

# same_as_parallel TEMPLATE-WORDS... ::: ARG...: the driver's command, run by
# sh, prints what GNU parallel prints for the same template and one input.
same_as_parallel() {
	local words=() args=()
	while [ "$1" != ":::" ]; do
		words+=("$1")
		shift
	done
	shift
	local a
	local sources=()
	for a in "$@"; do
		sources+=(::: "$a")
	done
	run -0 gnu_parallel --will-cite -k "${words[@]}" "${sources[@]}" < /dev/null
	local want=$output
	"$RT" "${words[@]}" -- "$@" > cmd
	run -0 sh -c "$(cat cmd)"
	assert_output "$want"
}

@test "every replacement string prints what GNU parallel prints" {
	command -v parallel > /dev/null || skip "GNU parallel is not installed"
	local show='printf [%s]\\n'
	local paths=(a/b.c b.c a/b.tar.gz .bashrc a/.bashrc a/b/ a/b.c/ / // //a /a.b
		a.b/c a//b x. . .. a/.. '' 'sp ace/f i.le' "q'u/o\"te.s" '$(x)/`y`.z')
	local words=($show {} {.} {/} {//} {/.} {1} {1.} {1/} {1//} {1/.} {-1} {-1.} {-1/} {-1//} {-1/.})
	# All fifteen strings in one command, every path one input of one
	# source: one run of parallel in all.
	run -0 gnu_parallel --will-cite -k "${words[@]}" ::: "${paths[@]}" < /dev/null
	[ "${#lines[@]}" -eq $((${#paths[@]} * 15)) ]
	local want=$output
	"$RT" --each "${words[@]}" -- "${paths[@]}" > cmd
	run -0 sh ./cmd
	assert_output "$want"
}

@test "positional strings and several args print what GNU parallel prints" {
	command -v parallel > /dev/null || skip "GNU parallel is not installed"
	local show='printf [%s]'
	same_as_parallel $show {} {1} {2} {-1} {-2} {2.} {2/} {2//} {2/.} {.} {/} {//} {/.} ::: a/b.c 'd e/f.g'
	same_as_parallel $show {3} {1} ::: a b
	same_as_parallel $show x{}y '{{}' '{}}' {foo} {1x} ::: a b
	same_as_parallel echo ::: a 'b c'
	same_as_parallel echo {#} {%} ::: a
	same_as_parallel echo {#} ::: a
	same_as_parallel echo {} {} ::: "it's" '$(touch pwned)'
	[ ! -e pwned ]
}
