/* Diagnostics about a recipe: collected with file:line, sorted, printed together. */
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "escape.h"
#include "util.h"

void diag_init(struct diag *d, const char *file)
{
	d->file = file;
	d->v = NULL;
	d->n = d->cap = d->errors = 0;
}

void diag_release(struct diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].msg);
	free(d->v);
	diag_init(d, d->file);
}

static void add(struct diag *d, int line, int warning, const char *fmt, va_list ap)
{
	va_list again;
	va_copy(again, ap);
	int len = vsnprintf(NULL, 0, fmt, ap);
	char *msg = xmalloc(len < 0 ? 1 : (size_t)len + 1);
	vsnprintf(msg, len < 0 ? 1 : (size_t)len + 1, fmt, again);
	va_end(again);
	grow(&d->v, &d->cap, d->n + 1, sizeof *d->v);
	d->v[d->n].line = line;
	d->v[d->n].warning = warning;
	d->v[d->n].msg = msg;
	d->n++;
	if (!warning)
		d->errors++;
}

void diag_error(struct diag *d, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add(d, line, 0, fmt, ap);
	va_end(ap);
}

void diag_warn(struct diag *d, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add(d, line, 1, fmt, ap);
	va_end(ap);
}

/* The message as shown: control bytes from a damaged recipe become \xHH
 * rather than reach the terminal as they are. Caller frees. */
static char *shown(const char *msg)
{
	struct buf b;
	buf_init(&b);
	escape_controls(&b, msg);
	return buf_take(&b);
}

void diag_flush(struct diag *d)
{
	/* Insertion sort: stable, so equal lines keep the order they were found in. */
	for (size_t i = 1; i < d->n; i++) {
		struct diag_entry e = d->v[i];
		size_t j = i;
		while (j > 0 && d->v[j - 1].line > e.line) {
			d->v[j] = d->v[j - 1];
			j--;
		}
		d->v[j] = e;
	}
	for (size_t i = 0; i < d->n; i++) {
		char *msg = shown(d->v[i].msg);
		if (d->v[i].line > 0)
			fprintf(stderr, "%s:%d: %s%s\n", d->file, d->v[i].line, d->v[i].warning ? "warning: " : "", msg);
		else
			fprintf(stderr, "%s: %s%s\n", d->file, d->v[i].warning ? "warning: " : "", msg);
		free(msg);
	}
	diag_release(d);
}
