/* The sink that prints jobs' output: prefixed lines, whole groups (optionally in input order), or raw bytes. */
#ifndef WEFT_OUTPUT_H
#define WEFT_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

struct sink;

enum output_mode { OUTPUT_DEFAULT, OUTPUT_LINE, OUTPUT_GROUP, OUTPUT_RAW };

enum output_prefix {
	PREFIX_NONE,
	PREFIX_NAME,  /* "name | ", the name padded to `width` and coloured */
	PREFIX_TAB,   /* "name\t", as GNU parallel's --tag */
};

struct output_opts {
	enum output_mode mode;
	enum output_prefix prefix;
	size_t width;
	bool keep_order;  /* group mode: print whole jobs in the order of job->order */
};

/* "line", "group" or "raw": 0 and *out, or -1. */
int output_mode_parse(const char *s, enum output_mode *out);

/* A sink printing as o says. Uses slot 0 of each job's sink_state. */
struct sink *output_sink_new(const struct output_opts *o);
void output_sink_free(struct sink *s);

#endif
