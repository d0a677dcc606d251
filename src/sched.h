/* Which selected task may start next: ready queue, failure policy (stop or keep going). No I/O, no libuv. */
#ifndef WEFT_SCHED_H
#define WEFT_SCHED_H

#include <stdbool.h>
#include <stddef.h>

struct graph;
struct task;

enum task_state {
	TS_WAITING,  /* deps not done yet */
	TS_READY,    /* in the ready queue */
	TS_RUNNING,
	TS_OK,
	TS_FAILED,
	TS_BLOCKED,  /* a dep failed, or the run was stopped: never started */
};

struct sched {
	struct graph *g;
	enum task_state *state; /* by task index */
	size_t *pending;        /* deps not yet OK, by task index */
	struct task **ready;    /* FIFO ring of ready tasks */
	size_t head, nready, cap;
	bool keep_going;
	bool stopped;           /* no new starts */
	size_t total, running, ok, failed;
};

/* Sets up the selected tasks of g; every task with no pending dep is ready. */
void sched_init(struct sched *s, struct graph *g, bool keep_going);
void sched_release(struct sched *s);

/* The next task to start (now RUNNING), or NULL if none may start now. */
struct task *sched_next(struct sched *s);

/* Records the end of a RUNNING task; dependents become ready, or blocked
 * when it failed (and, unless keep_going, everything stops). */
void sched_done(struct sched *s, struct task *t, bool ok);

/* No task starts after this. */
void sched_stop(struct sched *s);

/* True when nothing runs and nothing more can start. */
bool sched_finished(const struct sched *s);

/* Selected tasks that never started (blocked or still waiting). */
size_t sched_not_started(const struct sched *s);

#endif
