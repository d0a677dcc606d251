#!/usr/bin/env bats
# weft exec --results: each job's output kept in a tree of files per input,
# in files named by the input, or in one CSV, TSV or JSON file, as GNU
# parallel keeps it; compared with parallel byte for byte (start times and
# runtimes aside).
load helpers/common
load helpers/exec

setup() { common_setup; }

need_parallel() { command -v parallel > /dev/null || skip "GNU parallel is not installed"; }

# both DIR ARGS: runs `parallel ARGS` in p/ and `weft exec ARGS` in w/, DIR
# the name of both (relative), and fails when their exit statuses differ.
both() {
	mkdir -p p w
	local ps ws
	(cd p && eval "parallel --will-cite $1" > stdout 2> stderr) && ps=0 || ps=$?
	(cd w && eval "\"\$WEFT\" exec $1" > stdout 2> stderr) && ws=0 || ws=$?
	[ "$ps" = "$ws" ] || fail "exit $ws, not $ps: $1 ($(cat w/stderr))"
}

# The times of a CSV, TSV or JSON file, which cannot be the same, as T.
untimed() { sed -E -e 's/^([0-9]+[,	]:[,	])[0-9.]+[,	][0-9.]+/\1T/' -e 's/"Starttime": [0-9.]+, "JobRuntime": [0-9.]+/T/' "$1"; }

@test "--results DIR: DIR/1/ARG/2/ARG/stdout, stderr and seq, as GNU parallel writes them" {
	need_parallel
	both "--results out 'printf \"%s %s\\n\" {1} {2}; printf \"e%s\" {1} >&2; exit {#}' ::: a 'b c' 'x/y' 'q\\z' ::: x y"
	diff -r p w
	[ "$(cat w/out/1/x\\_y/2/y/stdout)" = "x/y y" ]
	[ "$(cat w/out/1/q\\\\z/2/x/stderr)" = 'eq\z' ]
	[ -s w/out/1/a/2/x/seq ]
	# Nothing else is printed: the output is in the files.
	[ ! -s w/stdout ]
}

@test "--results with --header names the directories; -N puts each input's in turn" {
	need_parallel
	both "--header : --results hd echo {b} {a} ::: b 1 2 ::: a 3"
	both "-N2 --results n echo ::: 1 2 3"
	both "--colsep , --results c echo ::: 1,2 3,4"
	diff -r p w
	[ -e w/hd/a/3/b/2/stdout ]
	[ -e w/n/1/1/1/2/stdout ]
}

@test "--results NAME{}: NAME, NAME.err and NAME.seq per input; NAME{}/ a directory each" {
	need_parallel
	both "--results 'm_{}' 'echo {}; echo err >&2; exit 2' ::: foo bar"
	both "--results 'd_{}/' echo ::: foo"
	both "--results 'x/{#}' echo ::: foo"
	diff -r p w
	[ "$(cat w/m_foo)" = foo ]
	[ "$(cat w/m_bar.err)" = err ]
	[ -e w/d_foo/stdout ]
	[ -e w/x/1.seq ]
}

@test "--results FILE.csv, FILE.tsv and FILE.json hold what GNU parallel's hold" {
	need_parallel
	local f
	both "-k --results o.csv 'printf \"%s,\\n\" {}; printf \"e\\t%s\" {} >&2' ::: a 'd\"e' 'f g'"
	both "-k --results o.tsv 'printf \"%s\\n\" {}; exit {#}' ::: a 'b c' \"\$(printf 'x\\ty')\""
	both "-k --results o.json 'printf \"%s\\n\" {}; printf \"e\\t%s\" {} >&2' ::: a 'd\"e' 'f\\g'"
	both "--header : -k --results h.csv echo {x} {y} ::: x 1 2 ::: y 3"
	both "-k -N2 --results n.json echo ::: 1 2 3"
	for f in o.csv o.tsv o.json h.csv n.json; do
		untimed "p/$f" > want
		untimed "w/$f" > got
		cmp want got || fail "$f: $(cat got), not $(cat want)"
	done
	[ ! -s w/stdout ]
	grep -q '^Seq,Host,Starttime,JobRuntime,Send,Receive,Exitval,Signal,Command,x,y,Stdout,Stderr$' w/h.csv
}

@test "--results -.csv and -.json write the records on standard output, and nothing else" {
	need_parallel
	both "-k --results -.csv 'echo {}; echo e >&2' ::: 1 2"
	untimed p/stdout > want
	untimed w/stdout > got
	cmp want got
	both "-k --results -.json echo ::: 1"
	untimed p/stdout > want
	untimed w/stdout > got
	cmp want got
}

@test "--results: a job run again keeps only its last run's output; a file that cannot be written is an error" {
	run -1 wx --retries 2 --results r 'echo run; [ -e again ] || { touch again; exit 1; }; exit 3' ::: a
	[ "$(cat r/1/a/stdout)" = run ]
	run -255 wx --results nodir/sub/o.csv echo ::: 1
	[[ $(cat err) == "weft exec: cannot open the results file 'nodir/sub/o.csv': No such file or directory" ]]
	touch file
	run -255 wx --results file echo ::: 1
	grep -q "cannot write the results 'file/1/1/seq'" err
}
