/* Environment blocks for jobs: weft's own environment with recipe and command-line variables laid over it. */
#ifndef WEFT_ENV_H
#define WEFT_ENV_H

#include <stdbool.h>
#include <stddef.h>

struct env {
	char **v;       /* "NAME=value" strings, NULL-terminated; owned */
	size_t n, cap;
};

/* A copy of `from` (NULL-terminated "NAME=value" array, e.g. environ). */
void env_init(struct env *e, char *const *from);
void env_release(struct env *e);
/* Sets or replaces NAME. */
void env_set(struct env *e, const char *name, const char *value);

/* Whether weft's own environment sets NAME to a yes: set, not empty, and
 * not 0, false or no (in any case), as CI systems set CI=true. */
bool env_is_true(const char *name);

#endif
