/* The run: starts jobs from a job source as child processes on the libuv loop, feeds their events to the sinks, handles signals. */
#ifndef WEFT_RUN_H
#define WEFT_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jobsrc;
struct job;

struct run_opts {
	unsigned jobs;
	uint64_t grace_ms;
	char **shell;            /* argv words of the shell, NULL-terminated */
	bool direct;             /* simple one-line commands may skip the shell */
	char *const *envp;       /* base environment of every job */
};

struct run_result {
	size_t ok, failed;       /* finished jobs */
	int signal;              /* the signal that stopped the run; 0: none */
};

/* Runs every job src hands out, at most o->jobs at once, on libuv's
 * default loop (which the source may use too), until src has no more and
 * all have finished. Fills res. */
void run_jobs(struct jobsrc *src, const struct run_opts *o, struct run_result *res);

/* Stops the run in progress: no new jobs; running ones get SIGTERM (then
 * SIGKILL after the grace period), or SIGKILL at once when hard. */
void run_stop(void *runner, bool hard);

/* The run's worker pool (-j threads), made on first use; NULL if no
 * thread can be started. */
struct pool *run_pool(void *runner);

/* Starts no more jobs; running ones go on. */
void run_halt(void *runner);

/* Stops running job j as timed out (SIGTERM, SIGKILL after the grace). */
void run_timeout(void *runner, struct job *j);

#endif
