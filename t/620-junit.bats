#!/usr/bin/env bats
# --junit=FILE: a JUnit XML report, read back by a real consumer (Debian's
# python3-junitparser) and checked well-formed by xmllint.
load helpers/common

setup() { common_setup; }

# junit FILE: one line per testcase, "name|classname|result|message|type|time>=0|props|out|err",
# then a line with the suite's counts, as junitparser reads them.
junit() {
	/usr/bin/python3 - "$1" <<'PY'
import sys
from junitparser import JUnitXml, Failure, Error, Skipped, Properties
xml = JUnitXml.fromfile(sys.argv[1])
for suite in xml:
    for case in suite:
        kind, msg, typ = "passed", "", ""
        for r in case.result:
            kind = {Failure: "failure", Error: "error", Skipped: "skipped"}[type(r)]
            msg, typ = r.message or "", r.type or ""
        props = ",".join(f"{p.name}={p.value}" for ps in case.iterchildren(Properties) for p in ps)
        print("|".join([case.name, case.classname, kind, msg, typ, str(case.time >= 0), props,
                        (case.system_out or "").replace("\n", "/"), (case.system_err or "").replace("\n", "/")]))
    print(f"suite {suite.name} tests={suite.tests} failures={suite.failures} errors={suite.errors} skipped={suite.skipped}")
PY
}

@test "a recipe run: passed, failed, timed out, skipped, rule-failed and up-to-date tasks, each a testcase" {
	recipe '[all]
deps = ok fails slow after test fresh
[ok]
run = echo hello; echo warn >&2
[fails]
run = echo first; echo "last words"; exit 3
[slow]
run = sleep 30
timeout = 100ms
[after]
deps = fails
run = true
[test]
run = echo "5 passed"
capture = (?<passed>\d+) passed
fail-on = nothing-matches-this
[fresh]
sources = src.txt
run = cat src.txt'
	echo x > src.txt
	run -0 "$WEFT" fresh
	run -1 "$WEFT" -k -j 4 --junit=report.xml
	run -0 xmllint --noout report.xml
	run -0 junit report.xml
	assert_line "ok|weft.ini|passed|||True||hello/|warn/"
	assert_line "fails|weft.ini|failure|exit 3|exit|True||first/last words/|"
	assert_line "slow|weft.ini|failure|timed out after 100ms|timeout|True|||"
	assert_line "after|weft.ini|skipped|dependency failed||True|||"
	assert_line "test|weft.ini|passed|||True|passed=5|5 passed/|"
	assert_line "fresh|weft.ini|passed|||True|up-to-date=true||"
	assert_line "all|weft.ini|skipped|dependency failed||True|||"
	assert_line "suite weft.ini tests=7 failures=2 errors=0 skipped=2"
	[ "${#lines[@]}" -eq 8 ]
	# The failure's text is the tail of the output.
	run -0 /usr/bin/python3 -c 'import sys; from junitparser import JUnitXml
for c in JUnitXml.fromfile("report.xml").testsuites if False else next(iter(JUnitXml.fromfile("report.xml"))):
    if c.name == "fails": print(c.result[0].text)' 
	assert_output "first
last words"
}

@test "a rule-failed task is a failure with the rule's reason, and a task that cannot start an error" {
	recipe '[r]
run = echo nope
expect = ^yes$
[d]
dir = missing-dir
run = true'
	run -1 "$WEFT" -k r d --junit=out.xml
	run -0 junit out.xml
	assert_line 'r|weft.ini|failure|no line of its output matched expect: ^yes$|rule|True||nope/|'
	assert_line --regexp '^d\|weft.ini\|error\|cannot start: .*\|spawn-error\|True\|\|\|$'
	assert_line "suite weft.ini tests=2 failures=1 errors=1 skipped=0"
}

@test "weft exec: a testcase per job, classname 'weft exec'" {
	run -1 "$WEFT" exec -j2 --junit=x.xml 'echo {}; exit {}' ::: 0 1 0
	run -0 junit x.xml
	assert_line "echo 0; exit 0|weft exec|passed|||True||0/|"
	assert_line "echo 1; exit 1|weft exec|failure|exit 1|exit|True||1/|"
	assert_line "suite weft exec tests=3 failures=1 errors=0 skipped=0"
}

@test "hostile output stays well-formed: control bytes, ]]>, invalid UTF-8, markup" {
	recipe '[evil]
run = printf "a\001b\033[31mred ]]> <tag> & \"q\" \377\376 caf\303\251 \355\240\200\n"; exit 1'
	run -1 "$WEFT" --junit=evil.xml
	run -0 xmllint --noout evil.xml
	run -0 junit evil.xml
	assert_line "evil|weft.ini|failure|exit 1|exit|True||a�b�[31mred ]]> <tag> & \"q\" �� café ���/|"
}

@test "the report is written whole at the end: no file when the run cannot start, none half-written" {
	recipe '[a]
run = true'
	run -2 "$WEFT" --junit=
	assert_output --partial "invalid value '' for --junit"
	run -2 "$WEFT" --junit=no/such/dir/r.xml
	assert_output --regexp "cannot write the JUnit report '.*no/such/dir/r.xml': No such file or directory"
	run -0 "$WEFT" --junit=r.xml
	run -0 ls
	assert_output "r.xml
weft.ini"
}

@test "--junit is relative to where weft starts, as -f is" {
	mkdir sub
	printf '[a]\nrun = true\n' > sub/weft.ini
	run -0 "$WEFT" -f sub/weft.ini --junit=rep.xml
	[ -s rep.xml ]
	[ ! -e sub/rep.xml ]
}
