/* Reads a recipe (INI, through inih) into a graph of tasks and settings; reports every mistake with file:line. */
#ifndef WEFT_RECIPE_H
#define WEFT_RECIPE_H

#include "graph.h"
#include "vars.h"

struct diag;

/* The longest line weft reads; longer ones are an error, never truncated. */
#define RECIPE_MAX_LINE 1048575

struct recipe {
	struct graph graph;
	char *default_task; /* NULL: the first task */
	int default_line;
	unsigned jobs;      /* 0: not set */
	char *shell;        /* NULL: /bin/sh */
	struct kv *vars;    /* [vars], their values expanded */
	size_t nvars;
	struct kv *env;     /* [env], their values expanded */
	size_t nenv;
	/* Set before recipe_load: NAME=VALUE from the command line, which win
	 * over the recipe's; NULL: none. */
	const struct kv *cli;
	size_t ncli;
	struct var_defs var_defs, env_defs; /* as written */
};

void recipe_init(struct recipe *r);
void recipe_release(struct recipe *r);

/* Loads path into r. Returns 0 when the file was read (mistakes, if any,
 * are in d: check d->errors), or a negative errno when it cannot be opened. */
int recipe_load(struct recipe *r, const char *path, struct diag *d);

/* Finds weft.ini in the current directory or the nearest parent. Returns
 * its path relative to the current directory (caller frees), or NULL. */
char *recipe_find(void);

#endif
