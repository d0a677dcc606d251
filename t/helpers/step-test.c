/* Test driver for built-in steps: runs one step as pool work on a libuv loop and prints its output as it arrives.
 *
 *   step-test [OPTIONS] NAME ARGS...   run the step; exit with its status
 *   step-test --check NAME ARGS...     only check the arguments: the error
 *                                      on stderr and status 2, or status 0
 * Options:
 *   --repeat=N      start N copies of the job at once (default 1); their
 *                   chunks interleave; the exit status is the highest
 *   --threads=N     pool size (default 2)
 *   --cancel-after-first   cancel every job when its first stdout chunk
 *                   arrives; says "step-test: cancelled" on stderr
 *   --cancel-after-ms=N    cancel every job N ms after the start (same)
 *   --delay-ms=N    sleep N ms in every output callback (a slow consumer)
 *   --stats         at the end, "step-test: chunks N maxrss KIB" on stderr
 * A check error or an unknown step exits 2 before anything runs.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "pool.h"
#include "step.h"
#include "util.h"

static struct pool *pool;
static int running;
static int worst;
static bool cancel_after_first;
static long delay_ms;
static unsigned long chunks;
static struct tjob *tjobs;
static int njobs;
static uv_timer_t cancel_timer;
static bool timer_on;

struct tjob {
	struct step_job *job;
	bool cancelled;
};

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			perror("step-test: write");
			exit(3);
		}
		p += w;
		n -= (size_t)w;
	}
}

static void on_output(struct step_job *j, int stream, const char *data, size_t len)
{
	struct tjob *t = step_job_data(j);
	chunks++;
	write_all(stream == 2 ? 2 : 1, data, len);
	if (delay_ms) {
		struct timespec ts = { delay_ms / 1000, (delay_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
	if (cancel_after_first && stream == 1 && !t->cancelled) {
		t->cancelled = true;
		step_job_cancel(j);
	}
}

static void on_done(struct step_job *j, int status)
{
	struct tjob *t = step_job_data(j);
	if (t->cancelled)
		fprintf(stderr, "step-test: cancelled\n");
	if (status > worst)
		worst = status;
	t->job = NULL;
	if (--running == 0) {
		pool_close(pool, NULL);
		if (timer_on)
			uv_close((uv_handle_t *)&cancel_timer, NULL);
	}
}

static void cancel_cb(uv_timer_t *h)
{
	for (int k = 0; k < njobs; k++) {
		if (tjobs[k].job && !tjobs[k].cancelled) {
			tjobs[k].cancelled = true;
			step_job_cancel(tjobs[k].job);
		}
	}
}

static const struct step_job_ops ops = { on_output, on_done };

int main(int argc, char **argv)
{
	bool check_only = false, stats = false;
	int repeat = 1;
	unsigned threads = 2;
	long cancel_ms = -1;
	int i = 1;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--check") == 0)
			check_only = true;
		else if (strcmp(argv[i], "--cancel-after-first") == 0)
			cancel_after_first = true;
		else if (strcmp(argv[i], "--stats") == 0)
			stats = true;
		else if (strncmp(argv[i], "--repeat=", 9) == 0)
			repeat = atoi(argv[i] + 9);
		else if (strncmp(argv[i], "--threads=", 10) == 0)
			threads = (unsigned)atoi(argv[i] + 10);
		else if (strncmp(argv[i], "--cancel-after-ms=", 18) == 0)
			cancel_ms = atol(argv[i] + 18);
		else if (strncmp(argv[i], "--delay-ms=", 11) == 0)
			delay_ms = atol(argv[i] + 11);
		else {
			fprintf(stderr, "step-test: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "usage: step-test [--check] [OPTIONS] NAME ARGS...\n");
		return 2;
	}
	int sargc = argc - i;
	char **sargv = argv + i;
	const struct step_def *def = step_find(sargv[0]);
	if (!def) {
		fprintf(stderr, "step-test: unknown step '%s'\n", sargv[0]);
		return 2;
	}
	char *err = NULL;
	if (def->check(sargc, sargv, &err) < 0) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return 2;
	}
	if (check_only)
		return 0;

	uv_loop_t loop;
	if (uv_loop_init(&loop) < 0)
		return 3;
	int r = pool_new(&loop, threads, &pool);
	if (r < 0) {
		fprintf(stderr, "step-test: pool: %s\n", uv_strerror(r));
		return 3;
	}
	struct tjob *t = tjobs = xcalloc((size_t)repeat, sizeof *t);
	njobs = repeat;
	for (int k = 0; k < repeat; k++) {
		r = step_job_start(pool, def, sargc, sargv, NULL, &ops, &t[k], &t[k].job);
		if (r < 0) {
			fprintf(stderr, "step-test: cannot start: %s\n", uv_strerror(r));
			return 3;
		}
		running++;
	}
	if (cancel_ms >= 0) {
		uv_timer_init(&loop, &cancel_timer);
		uv_timer_start(&cancel_timer, cancel_cb, (uint64_t)cancel_ms, 0);
		timer_on = true;
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&loop) != 0) {
		fprintf(stderr, "step-test: handles left open on the loop\n");
		return 3;
	}
	free(t);
	if (stats) {
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		fprintf(stderr, "step-test: chunks %lu maxrss %ld\n", chunks, ru.ru_maxrss);
	}
	return worst;
}
