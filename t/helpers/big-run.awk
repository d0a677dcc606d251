#!/usr/bin/awk -f
# The --events of a made-up run of 10,000 jobs, on stdout; the jobs' names,
# one a line, in the file "names". setup, then compile (9,995 items on 8
# slots, one of them long enough to end last), link and test after it; docs
# and a failing lint on their own. Its critical path is setup,
# compile[4242], link, test. Used by t/640-report.bats and
# t/bench/80-report.sh.
function job(name, task, deps, slot, s, e, res) {
	id++
	printf "{\"event\":\"queued\",\"t\":%d,\"id\":%d,\"name\":\"%s\",\"task\":\"%s\"%s,\"command\":\"make %s\"}\n", s, id, name, task, deps, name
	printf "{\"event\":\"started\",\"t\":%d,\"id\":%d,\"slot\":%d}\n", s, id, slot
	printf "{\"event\":\"finished\",\"t\":%d,\"id\":%d,\"result\":\"%s\"%s,\"duration\":%.6f}\n", e, id, res, res == "exit" ? ",\"exit\":2" : "", (e - s) / 1e6
	print name > "names"
}
BEGIN {
	print "{\"event\":\"run-start\",\"t\":0,\"schema\":1,\"version\":\"0.1.0\",\"argv\":[\"weft\",\"-j8\"],\"jobs\":8}"
	job("setup", "setup", "", 1, 0, 100000, "ok")
	job("docs", "docs", "", 8, 0, 300000, "ok")
	job("lint", "lint", "", 7, 0, 20000, "exit")
	end = 0
	for (i = 0; i < 9995; i++) {
		s = 100000 + int(i / 8) * 1000
		e = s + (i == 4242 ? 800000 : 900)
		job("compile[" i "]", "compile", ",\"deps\":[\"setup\"]", i % 8 + 1, s, e, "ok")
		if (e > end) end = e
	}
	job("link", "link", ",\"deps\":[\"compile\"]", 1, end, end + 10000, "ok")
	job("test", "test", ",\"deps\":[\"link\",\"lint\"]", 2, end + 10000, end + 30000, "ok")
}
