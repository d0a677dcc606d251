/* The job source of a recipe run: one job per selected task, released as its dependencies succeed. */
#include "tasksrc.h"

#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "events.h"
#include "graph.h"
#include "util.h"

static struct job *next(struct jobsrc *s, unsigned slot)
{
	(void)slot;
	struct tasksrc *ts = (struct tasksrc *)s;
	struct task *t = sched_next(&ts->sched);
	if (!t)
		return NULL;
	struct job *j = &ts->jobs[t->index];
	if (t->nenv) {
		struct env *e = &ts->envs[t->index];
		env_init(e, ts->base->v);
		for (size_t i = 0; i < t->nenv; i++)
			env_set(e, t->env[i].name, t->env[i].value);
		for (size_t i = 0; i < ts->noverrides; i++)
			env_set(e, ts->overrides[i].name, ts->overrides[i].value);
		j->envp = e->v;
	}
	return j;
}

static void done(struct jobsrc *s, struct job *j)
{
	struct tasksrc *ts = (struct tasksrc *)s;
	if (j->task->nenv)
		env_release(&ts->envs[j->task->index]);
	j->envp = NULL;
	sched_done(&ts->sched, j->task, j->result == JOB_OK);
}

static void stop(struct jobsrc *s)
{
	sched_stop(&((struct tasksrc *)s)->sched);
}

static void finish(struct jobsrc *s)
{
	struct tasksrc *ts = (struct tasksrc *)s;
	for (size_t i = 0; i < ts->g->ntasks; i++)
		if (ts->g->tasks[i]->selected && !ts->jobs[i].start_ns)
			events_emit_simple(EV_SKIPPED, &ts->jobs[i]);
}

void tasksrc_init(struct tasksrc *ts, struct graph *g, bool keep_going, const struct env *base,
		  const struct kv *overrides, size_t noverrides)
{
	memset(ts, 0, sizeof *ts);
	ts->src.next = next;
	ts->src.done = done;
	ts->src.stop = stop;
	ts->src.finish = finish;
	ts->g = g;
	ts->base = base;
	ts->overrides = overrides;
	ts->noverrides = noverrides;
	sched_init(&ts->sched, g, keep_going);
	ts->jobs = xcalloc(g->ntasks, sizeof *ts->jobs);
	ts->envs = xcalloc(g->ntasks, sizeof *ts->envs);
	for (size_t i = 0; i < g->ntasks; i++) {
		struct task *t = g->tasks[i];
		struct job *j = &ts->jobs[i];
		j->task = t;
		j->name = t->name;
		j->cmd = t->run;
		j->cmd_lines = t->run_lines;
		j->dir = t->dir;
		j->timeout_ms = t->timeout_ms;
	}
	for (size_t i = 0; i < g->ntasks; i++)
		if (g->tasks[i]->selected)
			events_emit_simple(EV_QUEUED, &ts->jobs[i]);
}

void tasksrc_release(struct tasksrc *ts)
{
	sched_release(&ts->sched);
	free(ts->jobs);
	free(ts->envs);
}
