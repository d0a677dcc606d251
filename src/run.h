/* The run: starts ready tasks as child processes on the libuv loop, feeds their events to the sinks, handles signals. */
#ifndef WEFT_RUN_H
#define WEFT_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct graph;
struct env;
struct kv;

struct run_opts {
	unsigned jobs;
	bool keep_going;
	uint64_t grace_ms;
	char **shell;            /* argv words of the shell, NULL-terminated */
	bool direct;             /* simple one-line commands may skip the shell */
	struct env *base_env;    /* for every task */
	const struct kv *overrides; /* command-line NAME=VALUE, laid over a task's own env */
	size_t noverrides;
};

/* Runs the selected tasks of g. Returns the exit status (0 all ok, 1 a
 * task failed), or -N when weft was stopped by signal N (the caller
 * re-raises it once everything is cleaned up). */
int run_tasks(struct graph *g, const struct run_opts *o);

#endif
