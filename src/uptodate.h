/* Whether a task, or an item of a foreach task, runs, decided during the run: its fingerprint taken on the pool, the skip-or-run decision, and its success, outputs and depfile recorded in .weft/. */
#ifndef WEFT_UPTODATE_H
#define WEFT_UPTODATE_H

#include <stdbool.h>
#include <stddef.h>

struct events;
struct graph;
struct kv;
struct pool;
struct task;

enum verdict {
	VERDICT_RUN,    /* stale: run it (the state no longer says it succeeded) */
	VERDICT_FRESH,  /* up to date: skip it */
	VERDICT_ERROR,  /* its sources could not be read: it fails */
};

struct uptodate_opts {
	bool always;          /* -B: run everything, but still record successes */
	bool explain;         /* --explain: say why each task runs or is skipped */
	const struct kv *const *envs; /* what the recipe sets: [env], [vars], the command line */
	const size_t *nenvs;
	size_t nenv_lists;
	struct events *ev;    /* the run's: where warnings and --explain reasons go */
	bool dry;             /* -n: decide, but write nothing to .weft/ and settle nothing */
};

struct uptodate;

/* One thing checked and recorded on its own: a task, or one item of a
 * task whose sources, outputs or depfile use the item (task->per_item). */
struct utd_unit;

/* Loads .weft/state in the current directory (a damaged state is a
 * warning, never an error), shared with other weft runs there. */
struct uptodate *uptodate_new(struct graph *g, const struct uptodate_opts *o);
/* At the end of the run, before weft ends: its memory may be kept (see
 * exit_keep()). */
void uptodate_free(struct uptodate *u);

/* Whether t is decided by content: it has sources, outputs or a depfile. */
bool uptodate_manages(const struct task *t);

/* Checks t (item NULL), or its item number seq (from 1) for a per_item
 * task, once t's deps have finished: the fingerprint is taken on pool
 * (without the unit's lock, which is taken, waiting while another run
 * holds it, when the unit is found to run or .weft/ changed meanwhile;
 * see uptodate.c), then done(ud, verdict) runs on the loop thread (at
 * once, before this returns and under the lock, when pool is NULL or
 * full). A task without sources, outputs
 * or depfile only takes its lock, and its verdict is VERDICT_RUN. label names it in messages (the
 * job's name; copied). Returns the unit, which the caller frees with
 * uptodate_unit_free() once it is over (after settled, or when it will
 * not run). */
struct utd_unit *uptodate_check(struct uptodate *u, struct pool *pool, struct task *t, const char *item,
				unsigned long long seq, const char *label, void (*done)(void *ud, enum verdict v),
				void *ud);
void uptodate_unit_free(struct utd_unit *x);

/* A unit found to run is about to start (a slot is free): it takes its
 * lock again, which it let go of after its check. Returns true: it may
 * start. false: another run holds it; the unit is checked again once
 * that run lets go, and comes back through its done callback. x may be
 * NULL (true). */
bool uptodate_claim(struct utd_unit *x);

/* The unit's command succeeded: on pool, reads its depfile (and deletes
 * it), measures its sources again and hashes its outputs; then, on the
 * loop thread, records the success and calls done(ud, NULL), or calls
 * done(ud, why) when the depfile could not be read or parsed: the job
 * must then count as failed (nothing is recorded). Returns false, and
 * calls nothing, when the unit has nothing to settle (its check said
 * fresh or failed). */
bool uptodate_settle(struct uptodate *u, struct pool *pool, struct utd_unit *x,
		     void (*done)(void *ud, const char *error), void *ud);

/* t has finished (ok or not), after its units were settled: what its
 * dependents see of it. A task that ran without a recorded fingerprint
 * changes for them. */
void uptodate_task_done(struct uptodate *u, struct task *t, bool ok);

/* A job of the run is about to start (not one found up to date, which
 * runs nothing): files may change from now on, so checks no longer share
 * what stat() said (cache_stats_begin). u may be NULL. */
void uptodate_job_starts(struct uptodate *u);

/* The run stops: units waiting for another run's lock are never checked. */
void uptodate_stop(struct uptodate *u);

/* Writes the state. whole: the run covered every task of the recipe and
 * succeeded, so records of its tasks and items that it did not use (items
 * no longer listed) go. Records no run has named for a month (tasks
 * renamed or deleted) go after any run.
 * Returns 0 or -errno (after saying so on the run's events). */
int uptodate_save(struct uptodate *u, bool whole);

#endif
