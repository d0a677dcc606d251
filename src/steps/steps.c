/* The table of built-in steps: a new step is one new file in src/steps/ and one line here. */
#include <string.h>

#include "../step.h"

extern const struct step_def step_grep;
extern const struct step_def step_hash;

const struct step_def *const step_table[] = {
	&step_grep,
	&step_hash,
	NULL,
};

const struct step_def *step_find(const char *name)
{
	for (const struct step_def *const *d = step_table; *d; d++)
		if (strcmp((*d)->name, name) == 0)
			return *d;
	return NULL;
}
