/* A run's timeline, gathered from its event stream: every job's runs (lane, start, end, result), the task graph they came from, and the messages. */
#include "timeline.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "hashtab.h"
#include "util.h"

void timeline_init(struct timeline *tl)
{
	memset(tl, 0, sizeof *tl);
	tl->task_names = hashtab_new();
}

static void free_bar(struct tl_bar *b)
{
	free(b->outcome);
	for (size_t i = 0; i < b->ncaptures; i++) {
		free(b->captures[i].name);
		free(b->captures[i].value);
	}
	free(b->captures);
}

void timeline_release(struct timeline *tl)
{
	for (size_t i = 0; i < tl->ntasks; i++) {
		free(tl->tasks[i].name);
		for (size_t k = 0; k < tl->tasks[i].ndeps; k++)
			free(tl->tasks[i].deps[k]);
		free(tl->tasks[i].deps);
	}
	for (size_t i = 0; i < tl->njobs; i++) {
		free(tl->jobs[i].name);
		free(tl->jobs[i].cmd);
		free(tl->jobs[i].skipped);
	}
	for (size_t i = 0; i < tl->nbars; i++)
		free_bar(&tl->bars[i]);
	for (size_t i = 0; i < tl->nmsgs; i++)
		free(tl->msgs[i].text);
	free(tl->tasks);
	free(tl->jobs);
	free(tl->bars);
	free(tl->msgs);
	hashtab_free(tl->task_names);
	free(tl->version);
	if (tl->argv)
		free_words(tl->argv);
	memset(tl, 0, sizeof *tl);
}

/* The job with this id: ids are handed out in order, so it is nearly
 * always at id - 1. TL_NONE: not queued. */
static size_t find_job(const struct timeline *tl, unsigned long long id)
{
	if (id && id <= tl->njobs && tl->jobs[id - 1].id == id)
		return (size_t)(id - 1);
	for (size_t i = tl->njobs; i-- > 0;)
		if (tl->jobs[i].id == id)
			return i;
	return TL_NONE;
}

/* The task named t->name, added the first time with its deps. */
static size_t add_task(struct timeline *tl, const struct task *t)
{
	void *hit = hashtab_get(tl->task_names, t->name);
	if (hit)
		return (size_t)(uintptr_t)hit - 1;
	grow(&tl->tasks, &tl->tasks_cap, tl->ntasks + 1, sizeof *tl->tasks);
	struct tl_task *tt = &tl->tasks[tl->ntasks];
	tt->name = xstrdup(t->name);
	tt->deps = xcalloc(t->ndeps + 1, sizeof *tt->deps);
	tt->ndeps = 0;
	for (size_t i = 0; i < t->ndeps; i++)
		tt->deps[tt->ndeps++] = xstrdup(t->dep_names[i]);
	hashtab_put(tl->task_names, tt->name, (void *)(uintptr_t)(tl->ntasks + 1));
	return tl->ntasks++;
}

static char *command_of(const struct job *j)
{
	if (!j->step)
		return j->cmd && *j->cmd ? xstrdup(j->cmd) : NULL;
	struct buf b;
	buf_init(&b);
	for (int i = 0; i < j->step_argc; i++)
		buf_addf(&b, "%s%s", i ? " " : "", j->step_argv[i]);
	return buf_take(&b);
}

/* The job of a job event, queued now if the stream never said so (a
 * stream that starts mid-run). */
static size_t job_of(struct timeline *tl, const struct job *j)
{
	size_t k = find_job(tl, j->id);
	if (k != TL_NONE)
		return k;
	grow(&tl->jobs, &tl->jobs_cap, tl->njobs + 1, sizeof *tl->jobs);
	struct tl_job *tj = &tl->jobs[tl->njobs];
	memset(tj, 0, sizeof *tj);
	tj->id = j->id;
	tj->name = xstrdup(j->name ? j->name : "");
	tj->cmd = command_of(j);
	tj->task = j->task ? add_task(tl, j->task) : TL_NONE;
	tj->bar = TL_NONE;
	return tl->njobs++;
}

static void started(struct timeline *tl, const struct job *j, uint64_t t)
{
	size_t k = job_of(tl, j);
	grow(&tl->bars, &tl->bars_cap, tl->nbars + 1, sizeof *tl->bars);
	struct tl_bar *b = &tl->bars[tl->nbars];
	memset(b, 0, sizeof *b);
	b->job = k;
	b->runner = j->runner;
	b->slot = j->slot ? j->slot : 1;
	b->start_us = b->end_us = t;
	b->result = JOB_PENDING;
	tl->jobs[k].bar = tl->nbars++;
	if (!tl->jobs[k].cmd)
		tl->jobs[k].cmd = command_of(j);
}

static void finished(struct timeline *tl, const struct job *j, uint64_t t, bool retry)
{
	size_t k = job_of(tl, j);
	if (tl->jobs[k].bar == TL_NONE || tl->bars[tl->jobs[k].bar].finished)
		started(tl, j, t); /* its start was not in the stream */
	struct tl_bar *b = &tl->bars[tl->jobs[k].bar];
	b->end_us = t;
	b->finished = true;
	b->result = j->result;
	b->exit_code = j->exit_code;
	b->term_signal = j->term_signal;
	b->up_to_date = j->up_to_date;
	b->interrupted = j->interrupted;
	b->retried = retry;
	/* A stream read back does not say what a timeout was. */
	b->outcome = j->result == JOB_TIMEOUT && !j->timeout_ms ? xstrdup("timed out") : job_outcome(j);
	if (j->check && j->check->ncaptures) {
		b->ncaptures = j->check->ncaptures;
		b->captures = xcalloc(b->ncaptures, sizeof *b->captures);
		for (size_t i = 0; i < b->ncaptures; i++) {
			b->captures[i].name = xstrdup(j->check->captures[i].name);
			b->captures[i].value = xstrdup(j->check->captures[i].value);
		}
	}
}

static void run_info(struct timeline *tl, const struct run_info *r, bool end)
{
	if (end) {
		tl->ended = true;
		tl->exit_status = r->exit_status;
		tl->signal = r->signal;
		return;
	}
	free(tl->version);
	tl->version = xstrdup(r->version ? r->version : "");
	if (tl->argv)
		free_words(tl->argv);
	size_t n = 0;
	while (r->argv && r->argv[n])
		n++;
	tl->argv = xcalloc(n + 1, sizeof *tl->argv);
	for (size_t i = 0; i < n; i++)
		tl->argv[i] = xstrdup(r->argv[i]);
	tl->slots = r->jobs;
}

void timeline_event(struct timeline *tl, const struct event *e)
{
	const struct job *j = e->job;
	if (e->type == EV_TICK || e->type == EV_STOP || (j && !j->id && e->type != EV_MESSAGE))
		return; /* a hidden job's, or not the run's */
	if (!tl->started) {
		tl->started = true;
		tl->start_ns = e->at_ns;
	}
	uint64_t t = e->at_ns > tl->start_ns ? (e->at_ns - tl->start_ns) / 1000 : 0;
	if (t > tl->end_us)
		tl->end_us = t;
	switch (e->type) {
	case EV_RUN_START:
	case EV_RUN_END:
		run_info(tl, e->run, e->type == EV_RUN_END);
		break;
	case EV_QUEUED:
		job_of(tl, j);
		break;
	case EV_STARTED:
		started(tl, j, t);
		break;
	case EV_FINISHED:
	case EV_RETRY:
		finished(tl, j, t, e->type == EV_RETRY);
		break;
	case EV_SKIPPED: {
		size_t k = job_of(tl, j);
		free(tl->jobs[k].skipped);
		tl->jobs[k].skipped = e->len ? xstrndup(e->data, e->len) : xstrdup("not started");
		break;
	}
	case EV_MESSAGE:
		grow(&tl->msgs, &tl->msgs_cap, tl->nmsgs + 1, sizeof *tl->msgs);
		tl->msgs[tl->nmsgs++] = (struct tl_msg){
			.t_us = t,
			.level = e->level,
			.text = xstrndup(e->data, e->len),
			.job = j && j->id ? job_of(tl, j) : TL_NONE,
		};
		break;
	default:
		break;
	}
}

void timeline_close(struct timeline *tl)
{
	for (size_t i = 0; i < tl->nbars; i++)
		if (!tl->bars[i].finished) {
			tl->bars[i].end_us = tl->end_us;
			if (!tl->bars[i].outcome)
				tl->bars[i].outcome = xstrdup("not finished");
		}
}
