/* The job source of a recipe run: one job per selected task (or one per item of a foreach), released as dependencies succeed. */
#ifndef WEFT_TASKSRC_H
#define WEFT_TASKSRC_H

#include <stdbool.h>

#include "jobsrc.h"
#include "sched.h"

struct graph;
struct env;
struct kv;
struct fe;
struct uptodate;
struct tstate;

struct tasksrc {
	struct jobsrc src;
	struct graph *g;
	struct sched sched;
	bool keep_going;
	struct job *jobs;          /* by task index: the task's job (for foreach, its listing job) */
	struct env *envs;          /* by task index: set up when the task has env.* */
	struct fe **fe;            /* by task index: a foreach task's items, once listed */
	struct fe *active;         /* foreach tasks with items left to start, in start order */
	const struct env *base;
	const struct kv *overrides;/* command-line NAME=VALUE, over a task's env.* */
	size_t noverrides;
	struct uptodate *utd;      /* NULL: no task has sources or outputs */
	struct tstate *tstates;    /* by task index: its up-to-date check */
	struct task **cleared;     /* checked and found stale: to start */
	size_t ncleared, cleared_head, cleared_cap;
	struct job **decided;      /* jobs whose outcome is known without running: to report */
	size_t ndecided, decided_head, decided_cap;
	size_t unlisted;           /* selected foreach tasks that may still queue items */
	bool *listed;              /* by task index: no longer counted in unlisted */
	bool console_busy;         /* a console job runs: the others wait */
	struct job **console_wait; /* console tasks' jobs ready to start, in order */
	size_t nconsole_wait, console_wait_head, console_wait_cap;
};

/* utd (may be NULL) decides tasks with sources; tasksrc does not own it. */
void tasksrc_init(struct tasksrc *ts, struct graph *g, bool keep_going, const struct env *base,
		  const struct kv *overrides, size_t noverrides, struct uptodate *utd);
void tasksrc_release(struct tasksrc *ts);

#endif
