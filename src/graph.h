/* Tasks and their dependencies: lookup, selection, cycle check, order. Plain data, no I/O. */
#ifndef WEFT_GRAPH_H
#define WEFT_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct diag;

struct kv {
	char *name;
	char *value;
};

struct task {
	char *name;
	int line;           /* line of the [name] header */
	char *desc;         /* NULL: none */
	char *run;          /* NULL: no command; the task only groups its deps */
	int run_lines;      /* lines in run; more than one runs with SHELL -e */
	char **dep_names;
	int *dep_lines;
	size_t ndeps, deps_cap;
	struct task **deps; /* resolved by graph_resolve(), ndeps long */
	struct task **rdeps;/* tasks that depend on this one */
	size_t nrdeps, rdeps_cap;
	char *dir;          /* NULL: the recipe's directory */
	struct kv *env;
	size_t nenv, env_cap;
	uint64_t timeout_ms;/* 0: none */
	char *foreach;      /* NULL: one job; else the items spec (glob, lines:FILE, cmd:COMMAND, words) */
	enum { FOREACH_EMPTY_WARN, FOREACH_EMPTY_ERROR, FOREACH_EMPTY_OK } foreach_empty; /* no item at all */
	int foreach_empty_line; /* where foreach-empty was set; 0: not set */
	unsigned jobs;      /* 0: no cap of its own; else at most this many of its jobs at once */
	bool console;       /* its jobs get the terminal, one console job at a time */
	struct tmpl *tmpl;  /* foreach: run as a template for each item */
	const struct step_def *step; /* NULL: run is a shell command; else a built-in step */
	char **step_argv;   /* the step's words, argv[0] its name; NULL-terminated */
	int step_argc;
	int step_line;      /* where step was set, for its errors */
	char **sources;     /* glob patterns whose content decides if the task is up to date; NULL: none */
	size_t nsources;
	char **outputs;     /* glob patterns that must match for the task to be up to date */
	size_t noutputs;
	int sources_line, outputs_line; /* where they were set, for their errors */
	char *depfile;      /* make-format dependency file the command writes; NULL: none */
	int depfile_line;
	/* A foreach task whose sources, outputs or depfile use the item: each
	 * item is checked and recorded on its own. */
	bool per_item;
	struct outrules *rules; /* expect, fail-on, capture, error-format; NULL: none */
	int rules_line;     /* where the first of them was set */
	size_t index;       /* position in the recipe, from 0 */
	bool selected;      /* part of this run (graph_select) */
	int mark;           /* scratch for graph walks */
	const struct task *named_by; /* scratch for graph_resolve: the last task whose deps named it */
};

struct graph {
	struct task **tasks; /* in recipe order; owned */
	size_t ntasks, cap;
	struct hashtab *byname;
};

void graph_init(struct graph *g);
void graph_release(struct graph *g);
/* Adds a task named `name` (copied); returns NULL if the name exists. */
struct task *graph_add_task(struct graph *g, const char *name, int line);
struct task *graph_find(const struct graph *g, const char *name);
void task_add_dep(struct task *t, const char *name, int line);
void task_set_env(struct task *t, const char *name, const char *value);

/* Resolves dep names to tasks and checks for cycles; every problem goes
 * to d. Returns the number of errors added. */
size_t graph_resolve(struct graph *g, struct diag *d);

/* Marks t and everything it depends on as selected. */
void graph_select(struct graph *g, struct task *t);
size_t graph_count_selected(const struct graph *g);

/* The selected tasks in an order where deps come first; caller frees. */
struct task **graph_order(const struct graph *g, size_t *n);

/* The task name closest to `name`, when close enough for a hint (see
 * suggest_word()), or NULL; owned by g. */
const char *graph_suggest(const struct graph *g, const char *name);

#endif
