/* Whether a task with sources runs, decided during the run: its fingerprint taken on the pool, the skip-or-run decision, and its success recorded in .weft/. */
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
};

struct uptodate;

/* Loads .weft/state in the current directory (a damaged state is a
 * warning, never an error), waiting for another weft that holds it. */
struct uptodate *uptodate_new(struct graph *g, const struct uptodate_opts *o);
void uptodate_free(struct uptodate *u);

/* Whether t is decided by content: it has sources or outputs. */
bool uptodate_manages(const struct task *t);

/* Takes t's fingerprint on pool (its deps have finished), then calls
 * done(ud, t, verdict) on the loop thread. Tasks without sources or
 * outputs must not come here. */
void uptodate_check(struct uptodate *u, struct pool *pool, struct task *t,
		    void (*done)(void *ud, struct task *t, enum verdict v), void *ud);

/* t has finished (ok or not): a success is recorded; any task's run
 * changes what its dependents see. */
void uptodate_ran(struct uptodate *u, struct task *t, bool ok);

/* Writes the state. Returns 0 or -errno (after saying so on the run's events). */
int uptodate_save(struct uptodate *u);

#endif
