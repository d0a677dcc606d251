/* --memfree and --load: whether this machine has room for another job now, read from /proc. */
#ifndef WEFT_LIMITS_H
#define WEFT_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

struct limits {
	uint64_t memfree;  /* --memfree: bytes MemAvailable must be at least; 0: no limit */
	double load;       /* --load: processes running or waiting for the disk must be fewer; 0: no limit */
};

/* Parses --load's value as -j's (N, N% of the CPUs, +N, -N), which may
 * have decimals. Returns 0 and *out (above 0), or -1. */
int limits_parse_load(const char *s, double *out);

/* Whether another job may start: MemAvailable in /proc/meminfo and
 * procs_running + procs_blocked in /proc/stat (GNU parallel's load: the
 * processes at work this instant, weft included) within the limits. A
 * file that cannot be read counts as no room. */
bool limits_room(const struct limits *l);

#endif
