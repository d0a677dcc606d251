/* The runner: takes jobs from a job source when a slot is free, starts each through its executor, and reports their lives as events; handles signals. */
#ifndef WEFT_RUN_H
#define WEFT_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct events;
struct jobsrc;
struct job;
struct jobserver;
struct pool;
struct runner;

struct run_opts {
	unsigned jobs;
	uint64_t grace_ms;
	char **shell;            /* argv words of the shell, NULL-terminated */
	bool direct;             /* simple one-line commands may skip the shell */
	char *const *envp;       /* base environment of every job */
	unsigned cluster;        /* > 0: run the jobs on this many runner processes (--cluster) */
	unsigned requeue;        /* --cluster: times a job whose runner died runs again */
	struct jobserver *js;    /* borrowed: a token for each job beyond the first; NULL: none */
	bool dry;                /* -n: jobs succeed without running; only hidden ones (job->capture) run */
	/* A cluster's runners never hold jobs ahead: a job log halts the run
	 * when it cannot be written, and nothing may start after that. */
	bool no_ahead;
	bool no_implicit;        /* a cluster's runner other than the first: every job takes a token from js */
};

struct run_result {
	int signal;              /* the signal that stopped the run; 0: none */
};

/* The most jobs the open-file limit leaves room for (each running job
 * holds a few fds); UINT_MAX when there is no limit. */
unsigned run_max_jobs(void);

/* jobs, lowered to what run_max_jobs() allows. */
unsigned run_fit_jobs(unsigned jobs);

/* Runs every job src hands out, at most run_fit_jobs(o->jobs) at once (a
 * warning says so when that is fewer), on libuv's default loop (which the
 * source may use too), until src has no more and all have finished. Each
 * job's life goes to ev, which the caller has begun (events_begin) and ends
 * (events_end). */
void run_jobs(struct events *ev, struct jobsrc *src, const struct run_opts *o, struct run_result *res);

/* Stops the run in progress: no new jobs; running ones get SIGTERM (then
 * SIGKILL after the grace period), or SIGKILL at once when hard. */
void runner_stop(struct runner *r, bool hard);

/* Stops one running job: SIGTERM, then SIGKILL after the grace period,
 * or SIGKILL at once when hard. It counts as stopped by weft. */
void runner_stop_job(struct runner *r, struct job *j, bool hard);

/* Jobs handed out that a cluster's runner holds, not started (those
 * `which` picks; NULL: all), go back to the source, through unstart(). */
void runner_unqueue(struct runner *r, bool (*which)(const struct job *j));
/* Starts no more jobs; running ones go on. */
void runner_halt(struct runner *r);

/* Stops running job j as timed out (SIGTERM, SIGKILL after the grace). */
void runner_timeout(struct runner *r, struct job *j);

/* The source has jobs ready outside done() (input that arrived, a check
 * that came back): start what the free slots allow. */
void runner_kick(struct runner *r);

/* A job the source held in settle() is settled: report it finished. */
void runner_settled(struct runner *r, struct job *j);

/* The run's worker pool (-j threads), made on first use; NULL if no
 * thread can be started. */
struct pool *runner_pool(struct runner *r);

#endif
