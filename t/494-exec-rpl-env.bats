#!/usr/bin/env bats
# weft exec --rpl (replacement strings of the user's, for the expressions
# that need no Perl) and --env (accepted; local jobs get every variable);
# compared with GNU parallel.
load helpers/common
load helpers/exec

setup() { common_setup; }

@test "--rpl: s/REGEX/TEXT/ chains and GNU parallel's own expressions give what parallel gives" {
	command -v parallel > /dev/null || skip "GNU parallel is not installed"
	local a
	for a in "--rpl '{b} s:.*/::' --rpl '{ext} s:.*\\.::' echo {b} {ext} {1b} {-1ext}" \
		"--rpl '{up} s/a/A/g; s/n/N/' echo {up} {2up}" \
		"--rpl 'FOO s/(\\w+)\\.(\\w+)/\$2-\$1/' echo FOO" \
		"--rpl '{I} s/B/x/gi' echo {I}" \
		"--rpl '{..} s:\\.[^/.]+\\.[^/.]+\$::' echo {..} {1..}" \
		"--rpl '{s} 1 \$_=\$job->seq()' --rpl '{d} \$Global::use{\"File::Basename\"} ||= eval \"use File::Basename; 1;\"; \$_ = dirname(\$_);' echo {s} {d}"; do
		eval "gnu_parallel --will-cite -k $a ::: x/y.tar.gz a/b.c ::: banana" < /dev/null > want 2>&1 || fail "parallel $a: $(cat want)"
		eval "\"\$WEFT\" exec -k $a ::: x/y.tar.gz a/b.c ::: banana" > got 2>&1
		cmp want got || fail "weft exec $a: $(cat got), not $(cat want)"
	done
}

@test "--rpl with what needs Perl is an error that says so" {
	run -255 wx --rpl '{odd} $_ = seq() % 2 ? "odd" : "even"' echo {odd} ::: 1
	err_is "weft exec: --rpl '{odd} \$_ = seq() % 2 ? \"odd\" : \"even\"': weft runs no Perl: it can hold only s/REGEX/TEXT/ substitutions or GNU parallel's own strings' expressions"
	run -255 wx --rpl '{x} s/a/@b/' echo ::: 1
	err_is "weft exec: --rpl '{x} s/a/@b/': weft runs no Perl: s///'s TEXT can hold \$1, \$2... but no other Perl variable"
	run -255 wx --rpl '{x} s/a/b/e' echo ::: 1
	err_is "weft exec: --rpl '{x} s/a/b/e': weft runs no Perl: s/// can take only the flags g, i, s, m and x"
	run -255 wx --rpl '{:(\d+)} s/a//' echo ::: 1
	err_is "weft exec: --rpl '{:(\\d+)} s/a//': weft runs no Perl: a tag with (...) in it is a pattern"
	run -255 wx --rpl '{x} s/(/b/' echo ::: 1
	err_is "weft exec: --rpl '{x} s/(/b/': weft runs no Perl: PCRE2 cannot read an s/REGEX/TEXT/'s REGEX"
}

@test "--env NAME and --env _ are accepted: the jobs have every variable of weft's" {
	export WEFT_T_VAR=yes
	f() { echo "f $1"; }
	export -f f
	run -0 wx --env WEFT_T_VAR --env f --env _ 'echo $WEFT_T_VAR; f {}' ::: 1
	out_is $'yes\nf 1'
	run -255 wx --env '' true ::: 1
}
