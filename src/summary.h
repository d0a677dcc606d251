/* The sink that reports failures as they happen and the totals at the end. */
#ifndef WEFT_SUMMARY_H
#define WEFT_SUMMARY_H

#include <stdint.h>

struct sink;

struct sink *summary_sink_new(uint64_t start_ns);

#endif
