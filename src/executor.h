/* How a job runs: the one interface between the runner and a child process, a built-in step, or a runner elsewhere. */
#ifndef WEFT_EXECUTOR_H
#define WEFT_EXECUTOR_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

struct events;
struct job;
struct jobserver;
struct pool;

/* What the runner hears of a started job, on the loop thread. */
struct executor_cb {
	/* stream 1 stdout, 2 stderr; data is valid only during the call. */
	void (*output)(void *ud, int stream, const char *data, size_t len);
	/* The job is over: its result, exit_code, term_signal are set, and
	 * no more output comes. Called exactly once per started job. */
	void (*exited)(void *ud);
	/* A process of the job stopped (SIGTTIN, SIGTTOU, SIGSTOP): why, for
	 * a message. The job still runs, as far as the runner knows. */
	void (*stopped)(void *ud, const char *why);
	/* An executor that holds jobs before they start (env->ahead): the
	 * job has started, in -j slot `slot` (0: the one it was given). */
	void (*started)(void *ud, unsigned slot);
	/* Such a job was handed back before it started: nothing more comes. */
	void (*unstarted)(void *ud);
};

enum executor_stop {
	STOP_GRACEFUL, /* SIGTERM (or cancel), SIGKILL after the grace period */
	STOP_HARD,     /* at once */
	STOP_TIMEOUT,  /* as STOP_GRACEFUL, and the result is JOB_TIMEOUT */
	STOP_UNQUEUE,  /* only if it has not started yet: hand it back (env->ahead) */
};

/* With env->ahead, how many jobs per -j slot an executor may hold that
 * wait to start, so that a runner starts the next one without waiting for
 * its master. */
#define EXECUTOR_AHEAD 8

struct executor {
	/* Whether this executor is the one that runs j. */
	bool (*runs)(const struct executor *x, const struct job *j);
	/* Starts j. Returns 0 and sets *handle, or a negative UV_E* code when
	 * nothing was started (no callback comes then). */
	int (*start)(struct executor *x, struct job *j, const struct executor_cb *cb, void *ud, void **handle);
	/* Asks a started job to stop; exited() still comes. */
	void (*stop)(struct executor *x, void *handle, enum executor_stop how);
	/* Ctrl-Z: stops a started job where it is (pause true), or lets it go
	 * on (false), its timeout not counting the time in between. NULL:
	 * the executor's jobs need nothing (they stop with weft). */
	void (*pause)(struct executor *x, void *handle, bool pause);
	/* At the end of the run, once no job is left: frees x. */
	void (*free)(struct executor *x);
};

/* What executors share of the run. Borrowed for the run's life. */
struct executor_env {
	uv_loop_t *loop;
	uint64_t grace_ms;
	char **shell;            /* argv words of the shell, NULL-terminated */
	bool direct;             /* simple one-line commands may skip the shell */
	char *const *envp;       /* base environment of every job */
	/* The run's worker pool, made on first use; NULL if no thread can start. */
	struct pool *(*pool)(void *ud);
	void *pool_ud;
	struct events *ev;       /* the run's: for what an executor has to say */
	unsigned runners;        /* cluster: runner processes */
	unsigned requeue;        /* cluster: times a job whose runner died runs again */
	unsigned slots;          /* the run's -j, split across the runners */
	/* cluster: jobs may be handed out before a slot is free for them (up
	 * to EXECUTOR_AHEAD per slot); each reports started() or unstarted(),
	 * and each runner takes its jobserver tokens itself. */
	bool ahead;
	/* cluster with ahead: the jobserver the runners take their tokens
	 * from, to give back those a runner that died took with it. */
	struct jobserver *js;
};

/* Child processes, each in its own process group (src/executors/process.c). */
struct executor *executor_process_new(const struct executor_env *env);
/* Built-in steps on the worker pool (src/executors/step.c). */
struct executor *executor_step_new(const struct executor_env *env);
/* weft -n: every job but a hidden one succeeds without running (src/executors/dry.c). */
struct executor *executor_dry_new(const struct executor_env *env);
/* Every job on one of env->runners `weft --runner` processes, over a
 * socketpair each (src/executors/cluster.c). */
struct executor *executor_cluster_new(const struct executor_env *env);

#endif
