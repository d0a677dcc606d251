/* A run's timeline as a Chrome trace (--trace=FILE): a complete event per job on its lane, a counter of running jobs, instant events for failures and messages. */
#include "sinks.h"

#include <stdlib.h>
#include <string.h>

#include "../events.h"
#include "../exitcode.h"
#include "../timeline.h"
#include "../util.h"
#include "../wire.h"

/*
 * The trace-event format of chrome://tracing and Perfetto: weft is
 * process 1 and a cluster's runner N is process N + 1; a slot is a thread
 * of the process that ran its jobs. Times are microseconds from the start
 * of the run.
 */
static void str(struct buf *b, const char *s)
{
	wire_add_str(b, s, strlen(s));
}

/* A counter change: +1 at a start, -1 at an end. */
struct step {
	uint64_t t;
	int d;
};

static int step_cmp(const void *a, const void *b)
{
	const struct step *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->d - y->d; /* ends first: a lane handed on is not two jobs */
}

static void add_names(struct buf *b, const struct timeline *tl)
{
	/* A lane is named once: bars on it are many. */
	unsigned max_runner = 0;
	for (size_t i = 0; i < tl->nbars; i++)
		if (tl->bars[i].runner > max_runner)
			max_runner = tl->bars[i].runner;
	for (unsigned r = 0; r <= max_runner; r++) {
		unsigned max_slot = 0;
		for (size_t i = 0; i < tl->nbars; i++)
			if (tl->bars[i].runner == r && tl->bars[i].slot > max_slot)
				max_slot = tl->bars[i].slot;
		if (r && !max_slot)
			continue;
		if (r)
			buf_addf(b, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%u,\"args\":{\"name\":\"runner %u\"}},\n",
				 r + 1, r);
		else
			buf_adds(b, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":{\"name\":\"weft\"}},\n");
		for (unsigned s = 1; s <= max_slot; s++)
			buf_addf(b, "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%u,\"tid\":%u,\"args\":{\"name\":\"slot %u\"}},\n",
				 r + 1, s, s);
	}
}

static void add_args(struct buf *b, const struct timeline *tl, const struct tl_bar *bar)
{
	const struct tl_job *j = &tl->jobs[bar->job];
	buf_addf(b, "\"args\":{\"id\":%llu", j->id);
	if (j->task != TL_NONE) {
		buf_adds(b, ",\"task\":");
		str(b, tl->tasks[j->task].name);
	}
	if (j->cmd) {
		buf_adds(b, ",\"command\":");
		str(b, j->cmd);
	}
	buf_adds(b, ",\"result\":");
	str(b, bar->outcome);
	if (bar->result == JOB_EXIT)
		buf_addf(b, ",\"exit status\":%d", bar->exit_code);
	if (bar->result == JOB_SIGNAL)
		buf_addf(b, ",\"signal\":%d", bar->term_signal);
	if (bar->retried)
		buf_adds(b, ",\"retried\":true");
	if (bar->ncaptures) {
		buf_adds(b, ",\"captures\":");
		wire_add_captures(b, bar->captures, bar->ncaptures);
	}
	buf_adds(b, "}");
}

static void add_jobs(struct buf *b, const struct timeline *tl)
{
	for (size_t i = 0; i < tl->nbars; i++) {
		const struct tl_bar *bar = &tl->bars[i];
		buf_adds(b, "{\"name\":");
		str(b, tl->jobs[bar->job].name);
		buf_addf(b, ",\"cat\":\"job\",\"ph\":\"X\",\"ts\":%llu,\"dur\":%llu,\"pid\":%u,\"tid\":%u,",
			 (unsigned long long)bar->start_us, (unsigned long long)(bar->end_us - bar->start_us),
			 bar->runner + 1, bar->slot);
		add_args(b, tl, bar);
		buf_adds(b, "},\n");
		if (bar->finished && bar->result != JOB_OK) {
			buf_adds(b, "{\"name\":");
			char *what = xasprintf("%s: %s", tl->jobs[bar->job].name, bar->outcome);
			str(b, what);
			free(what);
			buf_addf(b, ",\"cat\":\"failure\",\"ph\":\"i\",\"s\":\"t\",\"ts\":%llu,\"pid\":%u,\"tid\":%u,",
				 (unsigned long long)bar->end_us, bar->runner + 1, bar->slot);
			add_args(b, tl, bar);
			buf_adds(b, "},\n");
		}
	}
}

static void add_counter(struct buf *b, const struct timeline *tl)
{
	struct step *steps = xcalloc(2 * tl->nbars + 1, sizeof *steps);
	size_t n = 0;
	for (size_t i = 0; i < tl->nbars; i++) {
		steps[n++] = (struct step){tl->bars[i].start_us, 1};
		steps[n++] = (struct step){tl->bars[i].end_us, -1};
	}
	qsort(steps, n, sizeof *steps, step_cmp);
	buf_adds(b, "{\"name\":\"running jobs\",\"ph\":\"C\",\"ts\":0,\"pid\":1,\"args\":{\"running\":0}},\n");
	long running = 0;
	for (size_t i = 0; i < n; i++) {
		running += steps[i].d;
		if (i + 1 < n && steps[i + 1].t == steps[i].t)
			continue; /* one sample per moment */
		buf_addf(b, "{\"name\":\"running jobs\",\"ph\":\"C\",\"ts\":%llu,\"pid\":1,\"args\":{\"running\":%ld}},\n",
			 (unsigned long long)steps[i].t, running);
	}
	free(steps);
}

static void add_messages(struct buf *b, const struct timeline *tl)
{
	static const char *const levels[] = {"info", "warning", "error"};
	for (size_t i = 0; i < tl->nmsgs; i++) {
		const struct tl_msg *m = &tl->msgs[i];
		buf_adds(b, "{\"name\":");
		str(b, m->text);
		buf_addf(b, ",\"cat\":\"message\",\"ph\":\"i\",\"s\":\"g\",\"ts\":%llu,\"pid\":1,\"tid\":0,\"args\":{\"level\":\"%s\"",
			 (unsigned long long)m->t_us, levels[m->level]);
		if (m->job != TL_NONE) {
			buf_adds(b, ",\"job\":");
			str(b, tl->jobs[m->job].name);
		}
		buf_adds(b, "}},\n");
	}
}

void trace_write(struct buf *b, const struct timeline *tl)
{
	buf_adds(b, "{\"traceEvents\":[\n");
	add_names(b, tl);
	add_jobs(b, tl);
	add_counter(b, tl);
	add_messages(b, tl);
	/* The run's end, so that no event list ends in a comma. */
	buf_addf(b, "{\"name\":\"run\",\"cat\":\"run\",\"ph\":\"X\",\"ts\":0,\"dur\":%llu,\"pid\":1,\"tid\":0,\"args\":{",
		 (unsigned long long)tl->end_us);
	if (tl->ended)
		buf_addf(b, "\"exit status\":%d,\"signal\":%d", tl->exit_status, tl->signal);
	buf_adds(b, "}}\n],\n\"displayTimeUnit\":\"ms\",\"otherData\":{\"version\":");
	str(b, tl->version ? tl->version : WEFT_VERSION);
	buf_adds(b, ",\"argv\":");
	for (size_t i = 0; tl->argv && tl->argv[i]; i++) {
		buf_adds(b, i ? "," : "[");
		str(b, tl->argv[i]);
	}
	buf_adds(b, tl->argv && tl->argv[0] ? "]" : "[]");
	buf_adds(b, "}}\n");
}
