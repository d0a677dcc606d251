/* libFuzzer target for the small value parsers: durations (timeout, --timeout), -j values and counts ("jobs").
 *
 * The input, up to its first NUL byte, is the string given to each parser.
 *
 * Properties checked besides "no crash, no UB":
 *   - duration_parse() accepts at most 2^52 ms (where doubles stay exact);
 *   - duration_format() of any ms up to 2^52 (the parsed value, and one
 *     taken from the input's bytes) parses back to a value at or below it
 *     and within what the format drops: nothing under 1s, tenths under
 *     1m, seconds under 1h, minutes above; and that value is kept
 *     exactly by a second format and parse (the text may differ: 1050
 *     formats as "1.0s", 1000 as "1s");
 *   - exec_parse_jobs() gives at least 1; a plain number N from 1 to
 *     100000 gives N;
 *   - parse_count() gives a number from 1 to 100000, and takes a plain
 *     number N from 1 to 100000 as N. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "exec.h"
#include "util.h"

#include "fuzz.h"

#define MAX_MS (UINT64_C(1) << 52)

/* What duration_format() drops of ms, at most (exclusive). */
static uint64_t format_step(uint64_t ms)
{
	if (ms < 1000)
		return 1;
	if (ms < 60000)
		return 100;
	if (ms < 3600000)
		return 1000;
	return 60000;
}

static void check_format(uint64_t ms)
{
	char text[64];
	uint64_t back = UINT64_MAX, again = UINT64_MAX;
	duration_format(ms, text, sizeof text);
	FUZZ_CHECK(duration_parse(text, &back) == 0);
	FUZZ_CHECK(back <= ms && ms - back < format_step(ms));
	duration_format(back, text, sizeof text);
	FUZZ_CHECK(duration_parse(text, &again) == 0 && again == back);
}

/* s is digits only, 1 to 100000 with no leading zero: returns it, else 0. */
static unsigned plain_count(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 6 || s[0] == '0' || strspn(s, "0123456789") != n)
		return 0;
	unsigned long v = strtoul(s, NULL, 10);
	return v <= 100000 ? (unsigned)v : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);

	uint64_t ms = 12345;
	if (duration_parse(s, &ms) == 0) {
		FUZZ_CHECK(ms <= MAX_MS);
		check_format(ms);
	} else {
		FUZZ_CHECK(ms == 12345);
	}
	if (size >= 8) {
		uint64_t raw;
		memcpy(&raw, data, sizeof raw);
		check_format(raw % (MAX_MS + 1));
	}

	unsigned plain = plain_count(s);
	unsigned jobs = 0;
	if (exec_parse_jobs(s, &jobs) == 0) {
		FUZZ_CHECK(jobs >= 1);
		FUZZ_CHECK(!plain || jobs == plain);
	} else {
		FUZZ_CHECK(!plain);
	}

	unsigned count = 0;
	if (parse_count(s, &count) == 0)
		FUZZ_CHECK(count >= 1 && count <= 100000);
	if (plain)
		FUZZ_CHECK(parse_count(s, &count) == 0 && count == plain);

	free(s);
	return 0;
}
