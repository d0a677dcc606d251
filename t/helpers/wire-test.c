/* Drives the events' wire form from bats: `wire-test roundtrip` checks decode(encode(e)) == e field by field for events with hostile bytes; `wire-test reencode` decodes each line of stdin and writes it encoded again. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "step.h"
#include "wire.h"

static int failures;

#define CHECK(cond, what)                                                               \
	do {                                                                            \
		if (!(cond)) {                                                          \
			printf("event %d: %s differs\n", n, what);                       \
			failures++;                                                     \
		}                                                                       \
	} while (0)

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void roundtrip(int n, struct event *e, uint64_t t_us)
{
	struct buf b;
	buf_init(&b);
	wire_encode(e, t_us, &b);
	struct wire_event w;
	if (wire_decode(b.p, b.len - 1, &w) < 0) {
		printf("event %d: cannot decode its own encoding: %s", n, b.p);
		failures++;
		buf_release(&b);
		return;
	}
	CHECK(w.ev.type == e->type, "type");
	CHECK(w.t_us == t_us, "t");
	const struct job *x = e->job, *y = w.ev.job;
	CHECK(!x == !y, "job");
	if (x && y) {
		CHECK(x->id == y->id, "id");
		if (e->type == EV_QUEUED) {
			CHECK(same_str(x->name, y->name), "name");
			CHECK(same_str(x->item, y->item), "item");
			CHECK(same_str(x->task ? x->task->name : NULL, y->task ? y->task->name : NULL), "task");
			CHECK(x->seq == y->seq, "seq");
			CHECK(x->step == y->step, "step");
			CHECK(x->step_argc == y->step_argc, "step argc");
			for (int i = 0; i < x->step_argc && i < y->step_argc; i++)
				CHECK(strcmp(x->step_argv[i], y->step_argv[i]) == 0, "step argv");
			if (!x->step)
				CHECK(same_str(x->cmd, y->cmd), "command");
			/* Deps: each name once, in their order. */
			const struct task *xt = x->task, *yt = y->task;
			size_t k = 0;
			for (size_t i = 0; xt && i < xt->ndeps; i++) {
				bool again = false;
				for (size_t m = 0; m < i; m++)
					again |= strcmp(xt->dep_names[m], xt->dep_names[i]) == 0;
				if (again)
					continue;
				CHECK(yt && k < yt->ndeps && strcmp(xt->dep_names[i], yt->dep_names[k]) == 0, "deps");
				k++;
			}
			CHECK(k == (yt ? yt->ndeps : 0), "number of deps");
		}
		if (e->type == EV_STARTED) {
			CHECK(x->slot == y->slot && x->pid == y->pid, "slot, pid");
			CHECK(same_str(x->cmd, y->cmd), "command");
		}
		if (e->type == EV_FINISHED || e->type == EV_RETRY) {
			CHECK(x->result == y->result, "result");
			CHECK(x->exit_code == y->exit_code && x->term_signal == y->term_signal, "exit, signal");
			CHECK(x->spawn_error == y->spawn_error, "spawn error");
			CHECK((x->end_ns - x->start_ns) / 1000 == (y->end_ns - y->start_ns) / 1000, "duration");
			CHECK(x->up_to_date == y->up_to_date && x->interrupted == y->interrupted, "flags");
			CHECK(!x->check == !y->check, "check");
			if (x->check && y->check) {
				CHECK(same_str(x->check->why, y->check->why), "why");
				CHECK(x->check->ncaptures == y->check->ncaptures, "captures");
				for (size_t i = 0; i < x->check->ncaptures && i < y->check->ncaptures; i++)
					CHECK(same_str(x->check->captures[i].name, y->check->captures[i].name) &&
						      same_str(x->check->captures[i].value, y->check->captures[i].value),
					      "capture");
			}
		}
	}
	if (e->type == EV_OUTPUT || e->type == EV_MESSAGE || e->type == EV_SKIPPED) {
		CHECK(e->len == w.ev.len && memcmp(e->data, w.ev.data, e->len) == 0, "data");
		CHECK(e->stream == w.ev.stream && e->level == w.ev.level, "stream, level");
	}
	if (e->run) {
		const struct run_info *r = e->run, *s = w.ev.run;
		CHECK(s != NULL, "run");
		if (s && e->type == EV_RUN_START) {
			CHECK(same_str(r->version, s->version) && r->jobs == s->jobs, "version, jobs");
			for (size_t i = 0; r->argv[i] || s->argv[i]; i++)
				CHECK(r->argv[i] && s->argv[i] && strcmp(r->argv[i], s->argv[i]) == 0, "argv");
		}
		if (s && e->type == EV_RUN_END)
			CHECK(r->queued == s->queued && r->ok == s->ok && r->failed == s->failed &&
				      r->stopped == s->stopped && r->skipped == s->skipped &&
				      r->up_to_date == s->up_to_date && r->exit_status == s->exit_status &&
				      r->signal == s->signal,
			      "counts");
	}
	wire_event_release(&w);
	buf_release(&b);
}

static int test_roundtrip(void)
{
	static const char binary[] = "bin\0\x01\x7f\xff\xfe \xc3\xa9 \xe2\x82 \xf0\x9f\x98\x80 \"q\" \\ \n\t\r end";
	char *argv[] = {"weft", "-j", "2", "caf\xc3\xa9", "\xff\xfe", "a\"b\\c\nd", NULL};
	char *step_argv[] = {"grep", "--count", "a\tb", "\x80", NULL};
	char *deps[] = {"lib \xff", "gen \"x\"", "lib \xff"};
	struct task t = {.name = "thumbs", .dep_names = deps, .ndeps = 3};
	struct job j = {.id = 7, .task = &t, .name = "thumbs[a \xff.jpg]", .item = "a \xff.jpg", .seq = 3,
			.cmd = "convert 'a \xff.jpg' \"x\"\n", .slot = 2, .pid = 4242};
	struct job s = {.id = 8, .name = "scan", .step = step_find("grep"), .step_argv = step_argv, .step_argc = 4,
			.cmd = NULL};
	struct run_info run = {.version = "0.1.0", .argv = argv, .jobs = 16, .queued = 10, .ok = 5, .failed = 2,
			       .stopped = 1, .skipped = 2, .up_to_date = 3, .exit_status = 130, .signal = 2};
	struct event ev[] = {
		{.type = EV_RUN_START, .run = &run},
		{.type = EV_QUEUED, .job = &j},
		{.type = EV_QUEUED, .job = &s},
		{.type = EV_STARTED, .job = &j},
		{.type = EV_OUTPUT, .job = &j, .stream = 1, .data = binary, .len = sizeof binary - 1},
		{.type = EV_OUTPUT, .job = &j, .stream = 2, .data = "", .len = 0},
		{.type = EV_MESSAGE, .job = &j, .level = MSG_WARNING, .data = binary, .len = sizeof binary - 1},
		{.type = EV_MESSAGE, .level = MSG_ERROR, .data = "plain", .len = 5},
		{.type = EV_SKIPPED, .job = &s, .data = "dependency failed", .len = 17},
		{.type = EV_RUN_END, .run = &run},
	};
	int n = 0;
	for (size_t i = 0; i < sizeof ev / sizeof *ev; i++)
		roundtrip(++n, &ev[i], 1000 * i + 17);
	/* Every way a job can end. */
	struct { enum job_result r; int code, sig, err; bool fresh, stopped; } ends[] = {
		{JOB_OK, 0, 0, 0, true, false},   {JOB_EXIT, 3, 0, 0, false, false},
		{JOB_SIGNAL, 0, SIGKILL, 0, false, true}, {JOB_TIMEOUT, 0, 0, 0, false, false},
		{JOB_SPAWN_ERROR, 0, 0, -2, false, false},
	};
	/* Output rules' captures and reason, the second time round. */
	struct capture caps[] = {{"ver", "1.\xff"}, {"a \"b\"", ""}};
	struct outcheck check = {.captures = caps, .ncaptures = 2, .why = "no line matched 'ok\\n'"};
	size_t nends = sizeof ends / sizeof *ends;
	for (size_t round = 0; round < 2 * nends; round++) {
		size_t i = round % nends;
		j.check = round >= nends ? &check : NULL;
		j.result = ends[i].r;
		j.exit_code = ends[i].code;
		j.term_signal = ends[i].sig;
		j.spawn_error = ends[i].err;
		j.up_to_date = ends[i].fresh;
		j.interrupted = ends[i].stopped;
		j.start_ns = 1000000000ull;
		j.end_ns = j.start_ns + 1234567891ull * (i + 1);
		struct event f = {.type = i == 1 ? EV_RETRY : EV_FINISHED, .job = &j};
		roundtrip(++n, &f, 99);
	}
	printf("%d events, %d differences\n", n, failures);
	return failures ? 1 : 0;
}

static int reencode(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long lineno = 0;
	struct buf b;
	buf_init(&b);
	while ((len = getline(&line, &cap, stdin)) > 0) {
		lineno++;
		if (line[len - 1] == '\n')
			len--;
		struct wire_event w;
		if (wire_decode(line, (size_t)len, &w) < 0) {
			fprintf(stderr, "line %lu: not an event\n", lineno);
			free(line);
			buf_release(&b);
			return 1;
		}
		buf_reset(&b);
		wire_encode(&w.ev, w.t_us, &b);
		fwrite(b.p, 1, b.len, stdout);
		wire_event_release(&w);
	}
	free(line);
	buf_release(&b);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "roundtrip") == 0)
		return test_roundtrip();
	if (argc == 2 && strcmp(argv[1], "reencode") == 0)
		return reencode();
	fprintf(stderr, "usage: wire-test roundtrip | reencode < EVENTS\n");
	return 2;
}
