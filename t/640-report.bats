#!/usr/bin/env bats
# --trace=FILE (a Chrome trace), --report=FILE and weft report (the HTML
# report): read back with jq, and opened in a real browser, headless
# chromium (three calls in all: ~5 s each).
load helpers/common

setup() { common_setup; }

# model FILE.html: the run's JSON inside a report.
model() {
	sed -n 's/^<script id="weft-model" type="application\/json">\(.*\)<\/script>$/\1/p' "$1"
}

# browser ARG...: headless chromium with its own empty profile, scripts run.
browser() {
	local profile
	profile=$(mktemp -d "$BATS_TEST_TMPDIR/chromium.XXXXXX")
	chromium --headless --no-sandbox --disable-gpu --disable-background-networking --no-first-run \
		--user-data-dir="$profile" --virtual-time-budget=3000 "$@" 2>/dev/null
}

# A run with lanes of every kind: two jobs that wait for each other (two
# at once), a chain a -> b -> c, a failure and a job killed by a signal
# (both lasting, to be seen in the screenshot), a capture, a foreach, and a
# warning (a foreach with no items).
run_recipe() {
	recipe '[all]
deps = c fail killed items none
[p]
run = touch p-up; while [ ! -e q-up ]; do sleep 0.01; done
[q]
run = touch q-up; while [ ! -e p-up ]; do sleep 0.01; done
[a]
deps = p q
run = true
[b]
deps = a
run = true
[c]
deps = b
run = echo "version 1.2"
capture = version (?<ver>[0-9.]+)
[fail]
deps = p q
run = sleep 0.3; exit 3
[killed]
deps = p q
run = sleep 0.2; kill -9 $$
[items]
deps = p q
foreach = one two
run = echo {}
[none]
foreach = nothing-*.none
run = echo {}'
	run -1 "$WEFT" -k -j2 -q "$@"
}

@test "--trace: a complete event per job on its slot, a counter of running jobs, failures and messages" {
	run_recipe --trace=trace.json --events=ev.jsonl
	[ -s trace.json ]
	run -0 jq -r '[.traceEvents[] | select(.ph == "X" and .cat == "job") | .name] | sort | join(" ")' trace.json
	assert_output "a b c fail items[one] items[two] killed p q"
	# Each on the slot its started event names, with its command and result.
	run -0 jq -r '[.traceEvents[] | select(.ph == "X" and .cat == "job") | "\(.name) \(.tid) \(.pid)"] | sort | join(",")' trace.json
	local want
	want=$(jq -rs '[(map(select(.event == "queued")) | map({key: (.id | tostring), value: .name}) | from_entries) as $n
		| .[] | select(.event == "started") | "\($n[.id | tostring]) \(.slot) 1"] | sort | join(",")' ev.jsonl)
	assert_output "$want"
	run -0 jq -c '.traceEvents[] | select(.ph == "X" and .name == "fail") | .args' trace.json
	assert_output --partial '"command":"sleep 0.3; exit 3","result":"exit 3","exit status":3'
	run -0 jq -c '.traceEvents[] | select(.ph == "X" and .name == "killed") | .args | [.result, .signal]' trace.json
	assert_output '["killed by SIGKILL",9]'
	run -0 jq -c '.traceEvents[] | select(.ph == "X" and .name == "c") | .args.captures' trace.json
	assert_output '{"ver":"1.2"}'
	# The lanes are named; the counter reaches 2 (p and q wait for each other) and never passes it.
	run -0 jq -r '[.traceEvents[] | select(.ph == "M" and .name == "thread_name") | .args.name] | join(",")' trace.json
	assert_output "slot 1,slot 2"
	run -0 jq '[.traceEvents[] | select(.ph == "C") | .args.running] | max' trace.json
	assert_output 2
	run -0 jq '[.traceEvents[] | select(.ph == "C") | .args.running] | last' trace.json
	assert_output 0
	# Instant events: a failure each for fail and killed, and the warning.
	run -0 jq -r '[.traceEvents[] | select(.ph == "i" and .cat == "failure") | .name] | sort | join(",")' trace.json
	assert_output "fail: exit 3,killed: killed by SIGKILL"
	run -0 jq -r '.traceEvents[] | select(.ph == "i" and .cat == "message") | "\(.args.level) \(.name)"' trace.json
	assert_output --partial "warning "
	assert_output --partial "nothing-*.none"
}

@test "--report from a run and weft report from its --events make the same page; deps travel in the queued events" {
	run_recipe --report=live.html --events=ev.jsonl
	run -0 jq -c 'select(.event == "queued" and .name == "all") | .deps' ev.jsonl
	assert_output '["c","fail","killed","items","none"]'
	run -0 jq -c 'select(.event == "queued" and .name == "p") | has("deps")' ev.jsonl
	assert_output false
	run -0 "$WEFT" report ev.jsonl -o after.html
	# No network, no other file: every src and href is inside the page.
	run -1 grep -E '(src|href)=' live.html
	local strip='del(.end, .exit, .signal) | .bars |= map(del(.start, .end))'
	[ "$(model live.html | jq -c "$strip")" = "$(model after.html | jq -c "$strip")" ]
	run -0 jq -r '[.jobs[] | "\(.name)=\(.skipped // "ran")"] | join(" ")' <(model live.html)
	assert_output "all=dependency failed p=ran q=ran a=ran b=ran c=ran fail=ran killed=ran items[one]=ran items[two]=ran"
	run -0 jq -c '[.tasks[] | {(.name): [.deps[]]}] | add' <(model after.html)
	# none had no items: no job, nothing to wait for.
	assert_output '{"all":[5,6,7,8],"p":[],"q":[],"a":[1,2],"b":[3],"c":[4],"fail":[1,2],"killed":[1,2],"items":[1,2]}'
	run -0 jq -r '[.bars[] | .result] | sort | unique | join(",")' <(model after.html)
	assert_output "failed,ok,signal"
	run -0 jq -c '.bars[] | select(.captures) | .captures' <(model after.html)
	assert_output '{"ver":"1.2"}'
}

@test "weft exec --trace and --report; --cluster lanes are a runner's slots" {
	run -0 "$WEFT" exec -j2 --trace=t.json --report=r.html echo ::: x y z
	run -0 jq -r '[.traceEvents[] | select(.ph == "X" and .cat == "job") | .args.command] | sort | join(",")' t.json
	assert_output "echo x,echo y,echo z"
	run -0 jq -r '[.jobs[] | .name] | sort | join(",")' <(model r.html)
	assert_output "echo x,echo y,echo z"
	run -0 "$WEFT" exec -j2 --cluster=2 --trace=c.json --report=c.html 'echo {}' ::: 1 2 3 4
	run -0 jq -r '[.traceEvents[] | select(.ph == "M" and .name == "process_name") | .args.name] | sort | .[]' c.json
	assert_line --regexp '^runner [12]$'
	run -0 jq -r '[.traceEvents[] | select(.ph == "X" and .cat == "job") | .pid] | map(. > 1) | all' c.json
	assert_output true
	run -0 jq -r '[.lanes[] | .runner > 0] | all' <(model c.html)
	assert_output true
}

@test "weft report reads weft's job log and GNU parallel's" {
	run -1 "$WEFT" exec -j1 --joblog=weft.log 'exit {}' ::: 0 4
	run -0 "$WEFT" report weft.log -o w.html
	run -0 jq -c '[.bars[] | [.lane, .result, .outcome]]' <(model w.html)
	assert_output '[[0,"ok","ok"],[0,"failed","exit 4"]]'
	run -0 jq -r '[.jobs[] | .cmd] | join(",")' <(model w.html)
	assert_output "exit 0,exit 4"
	# Two at once in parallel's log: two lanes.
	run -2 parallel -j2 --joblog par.log 'touch {}-up; while [ ! -e {=$_ = $_ eq "a" ? "b" : "a"=}-up ]; do sleep 0.01; done; exit {#}' ::: a b
	run -0 "$WEFT" report par.log -o p.html
	run -0 jq -c '[.bars[] | .lane] | sort' <(model p.html)
	assert_output '[0,1]'
	run -0 jq -c '[.bars[] | .outcome] | sort' <(model p.html)
	assert_output '["exit 1","exit 2"]'
}

@test "weft report and --report: errors say what is wrong, and nothing is written or run" {
	run -2 "$WEFT" report
	assert_output --partial "weft report: missing FILE: the run's --events file or job log"
	run -2 "$WEFT" report nothing.jsonl -o out.html
	assert_output "weft report: cannot read 'nothing.jsonl': No such file or directory"
	printf 'hello\n' > text
	run -2 "$WEFT" report text -o out.html
	assert_output "weft report: 'text' is neither an --events file nor a job log"
	printf '{"event":"run-start","t":0,"schema":1,"version":"0.1.0","argv":[],"jobs":1}\n{"event":"queued"}\n' > bad.jsonl
	run -2 "$WEFT" report bad.jsonl -o out.html
	assert_output "weft report: bad.jsonl:2: not an event of weft's --events"
	run -2 "$WEFT" report bad.jsonl
	assert_output --partial "weft report: missing -o OUT.html"
	[ ! -e out.html ]
	# A field a later weft may add, of any JSON, is read past.
	printf '{"event":"run-start","t":0,"schema":1,"version":"0.1.0","argv":[],"jobs":1}\n{"event":"message","t":5,"level":"info","text":"hi","later":{"a":[1,-2.5e3,{"b":null}],"c":true}}\n' > later.jsonl
	run -0 "$WEFT" report later.jsonl -o later.html
	run -0 jq -r '.messages[0].text' <(model later.html)
	assert_output hi
	# A torn last line (a run that was killed) is left out, no more.
	printf '{"event":"run-start","t":0,"schema":1,"version":"0.1.0","argv":[],"jobs":1}\n{"event":"que' > torn.jsonl
	run -0 "$WEFT" report torn.jsonl -o out.html
	run -1 "$WEFT" report torn.jsonl -o no-dir/out.html
	assert_output "weft report: cannot write the report 'no-dir/out.html': No such file or directory"
	recipe '[t]
run = touch ran'
	run -2 "$WEFT" --report=no-dir/r.html
	assert_output "weft: cannot write the report '$PWD/no-dir/r.html': No such file or directory"
	run -255 "$WEFT" exec --trace=no-dir/t.json true
	assert_output "weft exec: cannot write the trace 'no-dir/t.json': No such file or directory"
	[ ! -e ran ]
	run -2 "$WEFT" --trace= t
	assert_output --partial "invalid value '' for --trace (a file)"
	# Nothing left behind next to the files.
	run -0 "$WEFT" --trace=t.json --report=r.html
	run -0 ls
	refute_output --partial ".tmp."
}

# The report a run of run_recipe makes, as a screenshot: not blank, and it
# holds the colours of its lanes (ok and failed). With WEFT_SCREENSHOT set,
# a small copy goes there (the README's picture).
@test "in chromium: the report's screenshot shows the lanes in their colours" {
	run_recipe --report=r.html
	browser --window-size=900,560 --screenshot="$PWD/shot.png" "file://$PWD/r.html"
	[ -s shot.png ]
	run -0 /usr/bin/python3 - shot.png "${WEFT_SCREENSHOT:-}" <<'PY'
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
px = im.getdata()
def near(c, want):
    return all(abs(a - b) <= 6 for a, b in zip(c, want))
colours = {"ok": (0x3a, 0x9d, 0x5d), "failed": (0xd6, 0x45, 0x41), "killed": (0x8e, 0x44, 0xad)}
counts = {k: sum(1 for c in px if near(c, v)) for k, v in colours.items()}
print(im.size, len(set(px)) > 50, " ".join(f"{k}={n > 200}" for k, n in sorted(counts.items())))
if sys.argv[2]:
    im.quantize(128, method=Image.Quantize.FASTOCTREE).save(sys.argv[2], optimize=True)
PY
	assert_output "(900, 560) True failed=True killed=True ok=True"
}

# The made-up run of t/helpers/big-run.awk. How fast the page is drawn is
# t/bench/80-report.sh's to say (target: under 2 s); here it must only be
# drawn, and not absurdly slowly.
@test "in chromium: with 10,000 jobs every job and the critical path are in the page" {
	awk -f "$BATS_TEST_DIRNAME/helpers/big-run.awk" > big.jsonl
	run -0 wc -l < names
	assert_output 10000
	run -0 "$WEFT" report big.jsonl -o big.html
	browser --dump-dom "file://$PWD/big.html" > dom.html
	# Every job has its row in the table of jobs (the page's script is not the page).
	sed '/^<script>$/,/^<\/script>$/d' dom.html > page.html
	run -0 grep -o '<body [^>]*data-rows="10000"' page.html
	grep -o '<tr data-job="[^"]*"' page.html | sed 's/^<tr data-job="//; s/"$//' | sort > shown
	sort names > want
	run -0 diff want shown
	run -0 sed -n 's/.*<ol id="critical-path">\(.*\)<\/ol>.*/\1/p' page.html
	run -0 grep -o 'data-job="[^"]*"' <<< "$output"
	assert_output 'data-job="setup"
data-job="compile[4242]"
data-job="link"
data-job="test"'
	run -0 grep -o '<dd data-total="jobs">[0-9]*<' page.html
	assert_output '<dd data-total="jobs">10000<'
	run -0 grep -o '<dd data-total="failed">[0-9]*<' page.html
	assert_output '<dd data-total="failed">1<'
	local ms
	ms=$(sed -n 's/.*<body [^>]*data-render-ms="\([0-9]*\)".*/\1/p' page.html)
	[ -n "$ms" ]
	[ "$ms" -lt 20000 ]
}

@test "in chromium: the trace is JSON that the browser's JSON.parse takes, events and all" {
	run_recipe --trace=trace.json
	local n
	n=$(jq '.traceEvents | length' trace.json)
	{
		printf '<!DOCTYPE html><html><body><textarea id="t">'
		sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' trace.json
		printf '</textarea><script>\n'
		printf 'var o = JSON.parse(document.getElementById("t").value);\n'
		printf 'var x = o.traceEvents.filter(function (e) { return e.ph === "X" && e.cat === "job"; });\n'
		printf 'document.body.setAttribute("data-parsed", o.traceEvents.length + " " + x.length);\n'
		printf '</script></body></html>\n'
	} > check.html
	run -0 browser --dump-dom "file://$PWD/check.html"
	assert_output --partial "data-parsed=\"$n 9\""
}
