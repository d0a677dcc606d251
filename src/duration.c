/* Durations as users write them (500ms, 90s, 5m, 1h, 1m30s) to and from milliseconds. */
#include "duration.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int duration_parse(const char *s, uint64_t *ms)
{
	const uint64_t max = UINT64_C(1) << 52;
	uint64_t total = 0;
	const char *p = s;
	int parts = 0;

	if (!*s)
		return -EINVAL;
	while (*p) {
		uint64_t whole = 0, frac = 0, scale = 1;
		int digits = 0;
		while (*p >= '0' && *p <= '9') {
			whole = whole * 10 + (uint64_t)(*p++ - '0');
			if (whole > max)
				return -EINVAL;
			digits++;
		}
		if (*p == '.') {
			p++;
			while (*p >= '0' && *p <= '9') {
				if (scale < 1000000) {
					frac = frac * 10 + (uint64_t)(*p - '0');
					scale *= 10;
				}
				p++;
				digits++;
			}
		}
		if (!digits)
			return -EINVAL;
		uint64_t unit;
		if (strncmp(p, "ms", 2) == 0) {
			unit = 1;
			p += 2;
		} else if (*p == 's') {
			unit = 1000;
			p++;
		} else if (*p == 'm') {
			unit = 60000;
			p++;
		} else if (*p == 'h') {
			unit = 3600000;
			p++;
		} else if (*p == '\0' && parts == 0) {
			unit = 1000;
		} else {
			return -EINVAL;
		}
		if (whole > max / unit)
			return -EINVAL;
		total += whole * unit + frac * unit / scale;
		if (total > max)
			return -EINVAL;
		parts++;
	}
	*ms = total;
	return 0;
}

void duration_format(uint64_t ms, char *out, size_t size)
{
	if (ms < 1000 && ms % 1000)
		snprintf(out, size, "%llums", (unsigned long long)ms);
	else if (ms < 60000 && ms % 1000)
		snprintf(out, size, "%llu.%llus", (unsigned long long)(ms / 1000),
			 (unsigned long long)(ms % 1000 / 100));
	else if (ms < 60000)
		snprintf(out, size, "%llus", (unsigned long long)(ms / 1000));
	else if (ms < 3600000)
		snprintf(out, size, "%llum%02llus", (unsigned long long)(ms / 60000),
			 (unsigned long long)(ms % 60000 / 1000));
	else
		snprintf(out, size, "%lluh%02llum", (unsigned long long)(ms / 3600000),
			 (unsigned long long)(ms % 3600000 / 60000));
}

void duration_clock(uint64_t s, char *out, size_t size)
{
	if (s >= 3600)
		snprintf(out, size, "%llu:%02llu:%02llu", (unsigned long long)(s / 3600),
			 (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60));
	else
		snprintf(out, size, "%llu:%02llu", (unsigned long long)(s / 60), (unsigned long long)(s % 60));
}
