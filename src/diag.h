/* Diagnostics about a recipe: collected with file:line, sorted, printed together. */
#ifndef WEFT_DIAG_H
#define WEFT_DIAG_H

#include <stddef.h>

struct diag_entry {
	int line;       /* 0: not tied to a line */
	int warning;    /* 1: printed but does not stop the run */
	char *msg;
};

struct diag {
	const char *file;  /* borrowed; shown before every line number */
	struct diag_entry *v;
	size_t n, cap;
	size_t errors;     /* entries that are not warnings */
};

/* Past this many errors a recipe is no recipe (a file of junk, a
 * generated one gone wrong): what reads or checks it stops, saying so. */
#define DIAG_MAX_ERRORS 100

void diag_init(struct diag *d, const char *file);
void diag_release(struct diag *d);
void diag_error(struct diag *d, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void diag_warn(struct diag *d, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prints every entry, in line order, to stderr and empties the list. */
void diag_flush(struct diag *d);

#endif
