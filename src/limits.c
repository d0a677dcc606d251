/* --memfree and --load: whether this machine has room for another job now, read from /proc. */
#include "limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>


int limits_parse_load(const char *s, double *out)
{
	unsigned cpus = uv_available_parallelism();
	int sign = *s == '+' ? 1 : *s == '-' ? -1 : 0;
	char *end;
	double v = strtod(s + (sign != 0), &end);
	if (end == s + (sign != 0) || v < 0 || !(v < 1e9))
		return -1;
	if (*end == '%' && !end[1] && !sign)
		v = cpus * v / 100;
	else if (*end)
		return -1;
	else if (sign)
		v = cpus + sign * v;
	if (!(v > 0))
		return -1;
	*out = v;
	return 0;
}

/* The number after "key" at the start of a line of path, or -1. */
static long long proc_field(const char *path, const char *key)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	char line[512];
	long long v = -1;
	size_t kl = strlen(key);
	while (v < 0 && fgets(line, sizeof line, f))
		if (strncmp(line, key, kl) == 0)
			v = strtoll(line + kl, NULL, 10);
	fclose(f);
	return v;
}

bool limits_room(const struct limits *l)
{
	if (l->memfree) {
		long long kib = proc_field("/proc/meminfo", "MemAvailable:");
		if (kib < 0 || (uint64_t)kib * 1024 < l->memfree)
			return false;
	}
	if (l->load > 0) {
		long long run = proc_field("/proc/stat", "procs_running "), blocked = proc_field("/proc/stat", "procs_blocked ");
		if (run < 0 || blocked < 0 || (double)(run + blocked) >= l->load)
			return false;
	}
	return true;
}
