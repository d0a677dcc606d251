/* libFuzzer target for the job log: any bytes read as a log, its records written again and read back, and an append to it.
 *
 * Properties checked besides "no crash, no leak, no UB":
 *   - bad lines are reported in increasing line order, with a reason;
 *   - every record read can be appended (joblog_append() returns 0) to a
 *     new log, which reads back as the same records: the same numbers,
 *     host and command, the times within what %.3f and the cut to
 *     milliseconds lose, and no bad or torn line;
 *   - appending one record to the fuzzed log itself (as --resume does)
 *     gives the records it had, then the new one, with the same bad lines:
 *     a torn tail or a half-written header never swallows or spoils it. */
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "joblog.h"
#include "util.h"

#include "fuzz.h"

struct rec {
	struct joblog_rec r; /* host and command owned */
};

struct log {
	struct rec *v;
	size_t n, cap;
	unsigned long bad, last_bad;
};

static struct fuzz_file input;
static char dir[] = "/tmp/weft-fuzz-joblog-XXXXXX";
static char copy_path[64], append_path[64];

static void cleanup(void)
{
	unlink(copy_path);
	unlink(append_path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_file_open(&input, "joblog");
	/* joblog_open() refuses symbolic links, /proc/self/fd/N included. */
	FUZZ_CHECK(mkdtemp(dir) != NULL);
	snprintf(copy_path, sizeof copy_path, "%s/copy", dir);
	snprintf(append_path, sizeof append_path, "%s/append", dir);
	fuzz_on_exit(cleanup);
	return 0;
}

static void rec_cb(void *ud, const struct joblog_rec *r)
{
	struct log *l = ud;
	FUZZ_CHECK(r->host && *r->host && !strpbrk(r->host, "\t\n"));
	FUZZ_CHECK(r->command && isfinite(r->start) && isfinite(r->runtime) && r->signal >= 0);
	grow(&l->v, &l->cap, l->n + 1, sizeof *l->v);
	l->v[l->n].r = *r;
	l->v[l->n].r.host = xstrdup(r->host);
	l->v[l->n].r.command = xstrdup(r->command);
	l->n++;
}

static void bad_cb(void *ud, unsigned long line, const char *why)
{
	struct log *l = ud;
	FUZZ_CHECK(line > l->last_bad && why && *why);
	l->last_bad = line;
	l->bad++;
}

static void log_release(struct log *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free((char *)l->v[i].r.host);
		free((char *)l->v[i].r.command);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}

static void read_log(const char *path, struct log *l, unsigned *torn)
{
	memset(l, 0, sizeof *l);
	FUZZ_CHECK(joblog_read(path, rec_cb, bad_cb, l, torn) == 0);
}

/* What %.3f keeps of a time, and the cut of a runtime to milliseconds. */
static bool close_to(double a, double b)
{
	return fabs(a - b) <= 0.0011 + fabs(a) * 1e-12;
}

static bool same_rec(const struct joblog_rec *a, const struct joblog_rec *b)
{
	return a->seq == b->seq && strcmp(a->host, b->host) == 0 && close_to(a->start, b->start) &&
	       close_to(a->runtime, b->runtime) && a->send == b->send && a->receive == b->receive &&
	       a->exitval == b->exitval && a->signal == b->signal && strcmp(a->command, b->command) == 0;
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "we");
	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(fwrite(data, 1, size, f) == size || size == 0);
	FUZZ_CHECK(fclose(f) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_file_set(&input, data, size);
	struct log first, again;
	unsigned torn;
	read_log(input.path, &first, &torn);
	FUZZ_CHECK(first.n + first.bad + torn <= (size_t)size + 1);

	/* Write what was read into a new log and read that. */
	struct joblog *jl;
	FUZZ_CHECK(joblog_open(&jl, copy_path, true) == 0);
	for (size_t i = 0; i < first.n; i++)
		FUZZ_CHECK(joblog_append(jl, &first.v[i].r) == 0);
	joblog_close(jl);
	read_log(copy_path, &again, &torn);
	FUZZ_CHECK(torn == 0 && again.bad == 0 && again.n == first.n);
	for (size_t i = 0; i < first.n; i++)
		FUZZ_CHECK(same_rec(&first.v[i].r, &again.v[i].r));
	log_release(&again);

	/* Append to the fuzzed log, as a resumed run does. */
	write_file(append_path, data, size);
	FUZZ_CHECK(joblog_open(&jl, append_path, false) == 0);
	struct joblog_rec mine = {
		.seq = 4242, .host = ":", .start = 1700000000.125, .runtime = 0.5,
		.send = 1, .receive = 2, .exitval = -1, .signal = 9, .command = "echo 'a\tb'\n\\done",
	};
	FUZZ_CHECK(joblog_append(jl, &mine) == 0);
	joblog_close(jl);
	read_log(append_path, &again, NULL);
	FUZZ_CHECK(again.n == first.n + 1 && again.bad == first.bad);
	for (size_t i = 0; i < first.n; i++)
		FUZZ_CHECK(same_rec(&first.v[i].r, &again.v[i].r));
	FUZZ_CHECK(same_rec(&mine, &again.v[first.n].r));
	log_release(&again);

	log_release(&first);
	return 0;
}
