/* Drives src/joblog.c from t/410-joblog.bats: append records, read them back, and flood a log until killed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "joblog.h"
#include "util.h"

static const char usage[] =
	"usage: joblog-test append FILE SEQ EXITVAL SIGNAL COMMAND\n"
	"       joblog-test read FILE            (SEQ EXITVAL SIGNAL COMMAND per record, then torn=N bad=M)\n"
	"       joblog-test command FILE SEQ     (record SEQ's command, unescaped)\n"
	"       joblog-test flood FILE FIRST LEN MAX (appends records FIRST, FIRST+1, ..., MAX of them, as fast as it can)\n"
	"       joblog-test verify FILE LEN      (checks a flooded log: records=N last=SEQ torn=T bad=B)\n";

static double now_epoch(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_escaped(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			fputs("\\n", stdout);
		else if (*s == '\t')
			fputs("\\t", stdout);
		else if (*s == '\\')
			fputs("\\\\", stdout);
		else
			putchar(*s);
	}
}

struct reader {
	unsigned bad;
	unsigned long long want_seq; /* command: the record to print */
	int found;
	/* verify: */
	size_t len;
	unsigned long long records, last;
	int failed;
};

static void bad_cb(void *ud, unsigned long line, const char *why)
{
	struct reader *rd = ud;
	rd->bad++;
	fprintf(stderr, "joblog-test: line %lu: %s\n", line, why);
}

static void print_cb(void *ud, const struct joblog_rec *r)
{
	printf("%llu %d %d ", r->seq, r->exitval, r->signal);
	print_escaped(r->command);
	putchar('\n');
}

static void command_cb(void *ud, const struct joblog_rec *r)
{
	struct reader *rd = ud;
	if (r->seq == rd->want_seq && !rd->found) {
		rd->found = 1;
		printf("%s\n", r->command);
	}
}

/* "job SEQ " then len x's: big, so that a kill often lands inside write(). */
static char *flood_command(unsigned long long seq, size_t len)
{
	char *prefix = xasprintf("job %llu ", seq);
	size_t n = strlen(prefix);
	char *cmd = xmalloc(n + len + 1);
	memcpy(cmd, prefix, n);
	memset(cmd + n, 'x', len);
	cmd[n + len] = '\0';
	free(prefix);
	return cmd;
}

/* Records must be 1, 2, 3, ... each whole: a resumed flood starts after
 * the last complete record, and a torn one is not complete. */
static void verify_cb(void *ud, const struct joblog_rec *r)
{
	struct reader *rd = ud;
	char *want = flood_command(r->seq, rd->len);
	const char *wrong = NULL;
	if (r->seq != rd->last + 1)
		wrong = "out of sequence";
	else if (strcmp(r->host, ":") != 0)
		wrong = "host is not ':'";
	else if (r->exitval != (int)(r->seq % 256) || r->signal != 0)
		wrong = "wrong exit value or signal";
	else if (strcmp(r->command, want) != 0)
		wrong = "wrong command";
	free(want);
	if (wrong && !rd->failed)
		fprintf(stderr, "joblog-test: record %llu (after %llu): %s\n", r->seq, rd->last, wrong);
	rd->failed |= wrong != NULL;
	rd->records++;
	rd->last = r->seq;
}

static int fail(const char *file, int err)
{
	fprintf(stderr, "joblog-test: %s: %s\n", file, strerror(-err));
	return 1;
}

static int append(const char *file, unsigned long long seq, int exitval, int sig, const char *command)
{
	struct joblog *jl;
	int err = joblog_open(&jl, file, false);
	if (err)
		return fail(file, err);
	struct joblog_rec r = {
		.seq = seq, .host = ":", .start = now_epoch(), .runtime = 0.001,
		.exitval = exitval, .signal = sig, .command = command,
	};
	err = joblog_append(jl, &r);
	joblog_close(jl);
	return err ? fail(file, err) : 0;
}

static int flood(const char *file, unsigned long long seq, size_t len, unsigned long long max)
{
	struct joblog *jl;
	int err = joblog_open(&jl, file, false);
	if (err)
		return fail(file, err);
	for (unsigned long long i = 0; i < max; i++, seq++) {
		char *cmd = flood_command(seq, len);
		struct joblog_rec r = {
			.seq = seq, .host = ":", .start = now_epoch(), .runtime = 0.001,
			.exitval = (int)(seq % 256), .command = cmd,
		};
		err = joblog_append(jl, &r);
		free(cmd);
		if (err)
			break;
	}
	joblog_close(jl);
	return err ? fail(file, err) : 0;
}

int main(int argc, char **argv)
{
	const char *verb = argc > 2 ? argv[1] : "";
	const char *file = argc > 2 ? argv[2] : "";
	struct reader rd = {0};
	unsigned torn;
	int err;
	if (strcmp(verb, "append") == 0 && argc == 7)
		return append(file, strtoull(argv[3], NULL, 10), atoi(argv[4]), atoi(argv[5]), argv[6]);
	if (strcmp(verb, "flood") == 0 && argc == 6)
		return flood(file, strtoull(argv[3], NULL, 10), strtoul(argv[4], NULL, 10), strtoull(argv[5], NULL, 10));
	if (strcmp(verb, "read") == 0 && argc == 3) {
		if ((err = joblog_read(file, print_cb, bad_cb, &rd, &torn)))
			return fail(file, err);
		printf("torn=%u bad=%u\n", torn, rd.bad);
		return 0;
	}
	if (strcmp(verb, "command") == 0 && argc == 4) {
		rd.want_seq = strtoull(argv[3], NULL, 10);
		if ((err = joblog_read(file, command_cb, bad_cb, &rd, &torn)))
			return fail(file, err);
		return rd.found ? 0 : 1;
	}
	if (strcmp(verb, "verify") == 0 && argc == 4) {
		rd.len = strtoul(argv[3], NULL, 10);
		if ((err = joblog_read(file, verify_cb, bad_cb, &rd, &torn)))
			return fail(file, err);
		printf("records=%llu last=%llu torn=%u bad=%u\n", rd.records, rd.last, torn, rd.bad);
		return rd.failed || rd.bad;
	}
	fputs(usage, stderr);
	return 2;
}
