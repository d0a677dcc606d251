/* The job source of a recipe run: one job per selected task, released as its dependencies succeed. */
#ifndef WEFT_TASKSRC_H
#define WEFT_TASKSRC_H

#include <stdbool.h>

#include "jobsrc.h"
#include "sched.h"

struct graph;
struct env;
struct kv;

struct tasksrc {
	struct jobsrc src;
	struct graph *g;
	struct sched sched;
	struct job *jobs;          /* by task index */
	struct env *envs;          /* by task index: set up when the task has env.* */
	const struct env *base;
	const struct kv *overrides;/* command-line NAME=VALUE, over a task's env.* */
	size_t noverrides;
};

void tasksrc_init(struct tasksrc *ts, struct graph *g, bool keep_going, const struct env *base,
		  const struct kv *overrides, size_t noverrides);
void tasksrc_release(struct tasksrc *ts);

#endif
