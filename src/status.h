/* The sink that draws the status line: [finished/total] running: a, b  0:12. */
#ifndef WEFT_STATUS_H
#define WEFT_STATUS_H

#include <stddef.h>
#include <stdint.h>

struct sink;

/* start_ns: when the run began. The total counts EV_QUEUED jobs. */
struct sink *status_sink_new(uint64_t start_ns);

/* Renders the status text (without control codes) into out; width is the
 * room on the line. Exposed for tests of the layout. */
void status_render(char *out, size_t size, size_t finished, size_t total, const char *const *running,
		   size_t nrunning, uint64_t elapsed_ms, int width);

#endif
