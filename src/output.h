/* The sink that prints jobs' output: prefixed lines, whole groups, or raw bytes. */
#ifndef WEFT_OUTPUT_H
#define WEFT_OUTPUT_H

#include <stddef.h>

struct sink;

enum output_mode { OUTPUT_DEFAULT, OUTPUT_LINE, OUTPUT_GROUP, OUTPUT_RAW };

/* A sink for mode; prefix_width pads task names in line mode. Uses slot 0
 * of each job's sink_state. */
struct sink *output_sink_new(enum output_mode mode, size_t prefix_width);

#endif
