/* Recipe variables: ${NAME} references expanded when the recipe is read, NAME ?= defaults that the environment overrides, undefined names and cycles reported at file:line. */
#ifndef WEFT_VARS_H
#define WEFT_VARS_H

#include <stdbool.h>
#include <stddef.h>

struct diag;
struct kv;

/* One NAME = value (or NAME ?= value) line of [vars] or [env]. */
struct var_def {
	char *name;
	char *value;  /* as written: ${NAME} not expanded yet */
	int line;
	bool soft;    /* ?=: the environment's value, when it has one, wins */
};

struct var_defs {
	struct var_def *v;
	size_t n, cap;
};

/* Sets name (a later definition replaces an earlier one, as a later
 * [vars] section does). */
void var_defs_set(struct var_defs *d, const char *name, const char *value, int line, bool soft);
void var_defs_release(struct var_defs *d);

/*
 * Gives every definition of vars and env its value, into *out_vars and
 * *out_env (kv arrays in definition order, caller frees the strings):
 * a name set on the command line (cli) takes that value; a soft one
 * that weft's environment sets takes the environment's; any other has
 * each ${NAME} in its value replaced by NAME's value, looked up in cli,
 * then vars, then env, then weft's environment; $${ is a literal ${.
 * An undefined name, a cycle or a ${ that is no ${NAME} is an error on
 * d at the line of the definition.
 */
void vars_expand(const struct var_defs *vars, const struct var_defs *env, const struct kv *cli, size_t ncli,
		 struct diag *d, struct kv **out_vars, size_t *nout_vars, struct kv **out_env, size_t *nout_env);

#endif
