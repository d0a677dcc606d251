/* The sink that draws --bar and --eta for a fan-out: done/total, a bar, and the time left. */
#ifndef WEFT_PROGRESS_H
#define WEFT_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sink;

struct sink *progress_sink_new(unsigned long long total, bool bar, bool eta, uint64_t start_ns);
void progress_sink_free(struct sink *s);

/* The text shown, for tests of the layout: done of total after elapsed_ms. */
void progress_render(char *out, size_t size, unsigned long long done, unsigned long long total, bool bar,
		     bool eta, uint64_t elapsed_ms, int width);

#endif
