/* --memfree and --load: whether this machine has room for another job now, read from /proc. */
#include "limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opt.h"

int limits_parse_load(const char *s, double *out)
{
	bool bare;
	double v;
	if (opt_cpus(s, true, &v, &bare) < 0 || !(v > 0))
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
		/* weft itself is running as it reads this: not counted. */
		if (run < 1 || blocked < 0 || (double)(run - 1 + blocked) >= l->load)
			return false;
	}
	return true;
}
