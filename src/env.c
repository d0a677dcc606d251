/* Environment blocks for jobs: weft's own environment with recipe and command-line variables laid over it. */
#include "env.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

void env_init(struct env *e, char *const *from)
{
	e->v = NULL;
	e->n = e->cap = 0;
	grow(&e->v, &e->cap, 1, sizeof *e->v);
	for (; from && *from; from++) {
		grow(&e->v, &e->cap, e->n + 2, sizeof *e->v);
		e->v[e->n++] = xstrdup(*from);
	}
	e->v[e->n] = NULL;
}

void env_release(struct env *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
	e->v = NULL;
	e->n = e->cap = 0;
}

void env_set(struct env *e, const char *name, const char *value)
{
	size_t len = strlen(name);
	char *entry = xasprintf("%s=%s", name, value);
	for (size_t i = 0; i < e->n; i++)
		if (strncmp(e->v[i], name, len) == 0 && e->v[i][len] == '=') {
			free(e->v[i]);
			e->v[i] = entry;
			return;
		}
	grow(&e->v, &e->cap, e->n + 2, sizeof *e->v);
	e->v[e->n++] = entry;
	e->v[e->n] = NULL;
}

bool env_is_true(const char *name)
{
	const char *v = getenv(name);
	return v && *v && strcmp(v, "0") != 0 && strcasecmp(v, "false") != 0 && strcasecmp(v, "no") != 0;
}
