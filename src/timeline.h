/* A run's timeline, gathered from its event stream: every job's runs (lane, start, end, result), the task graph they came from, and the messages; what --trace and --report draw. */
#ifndef WEFT_TIMELINE_H
#define WEFT_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events.h"
#include "outrules.h"

/* "None" for the size_t indexes below. */
#define TL_NONE ((size_t)-1)

/* A task of the recipe, as the queued events named it. */
struct tl_task {
	char *name;
	char **deps;              /* the names of the tasks it depends on */
	size_t ndeps;
};

struct tl_job {
	unsigned long long id;
	char *name;
	char *cmd;                /* the command, or a step's words; NULL: nothing to run */
	size_t task;              /* index in tasks; TL_NONE: not a recipe task's */
	char *skipped;            /* why it never started; NULL: it did, or it is still queued */
	size_t bar;               /* its latest run in bars; TL_NONE: none yet */
};

/* One run of a job on a lane: a retried job has one bar per attempt. */
struct tl_bar {
	size_t job;               /* index in jobs */
	unsigned runner;          /* --cluster: from 1; 0: weft itself */
	unsigned slot;            /* from 1 */
	uint64_t start_us, end_us;/* since the run started */
	bool finished;            /* false: still running when the timeline was closed */
	enum job_result result;
	int exit_code, term_signal;
	bool up_to_date, retried, interrupted;
	char *outcome;            /* job_outcome()'s words */
	struct capture *captures; /* owned copies */
	size_t ncaptures;
};

struct tl_msg {
	uint64_t t_us;
	enum msg_level level;
	char *text;
	size_t job;               /* index in jobs; TL_NONE: about the run */
};

struct timeline {
	struct tl_task *tasks;
	size_t ntasks, tasks_cap;
	struct tl_job *jobs;
	size_t njobs, jobs_cap;
	struct tl_bar *bars;
	size_t nbars, bars_cap;
	struct tl_msg *msgs;
	size_t nmsgs, msgs_cap;
	struct hashtab *task_names;
	/* The run: from run-start and run-end. */
	char *version;            /* NULL: no run-start seen */
	char **argv;              /* NULL-terminated */
	unsigned slots;           /* -j */
	uint64_t start_ns;        /* the first event's at_ns */
	bool started;             /* an event was seen */
	uint64_t end_us;          /* the latest event's time */
	bool ended;               /* run-end seen: exit_status and signal hold */
	int exit_status, signal;
};

void timeline_init(struct timeline *tl);
void timeline_release(struct timeline *tl);
/* Takes one event of the run (in order; a job event needs its job's id). */
void timeline_event(struct timeline *tl, const struct event *e);
/* Ends every bar still running at the latest event's time, as not finished. */
void timeline_close(struct timeline *tl);

#endif
