/* Test driver for cache.c: checks one task against DIR/.weft/state and says whether it is fresh, as weft would.
 *
 *   cache-test [OPTIONS] DIR TASK
 *   cache-test --dump DIR
 *
 * Loads the state of DIR, runs the task's check on this thread and prints
 * "fresh" or "stale: REASON", then "fingerprint HEX" ("fingerprint none"
 * when the check failed). On stderr: "cache-test: warning: ..." when the
 * state was bad, then "hashed=N sources=M".
 * Options (each may be given as --opt VALUE or --opt=VALUE):
 *   --source PAT, --output PAT   patterns (repeatable; --sources, --outputs too)
 *   --cmd TEXT                   the command text
 *   --env NAME=VALUE             repeatable
 *   --dep FP                     a dep's fingerprint; repeatable
 *   --read PATH                  a file the command read, as its depfile
 *                                would name it (for --record and --run);
 *                                repeatable
 *   --dir D                      the patterns are relative to D
 *   --always                     -B: ignore the state
 *   --racy-ms N                  the racy window (default: the cache's)
 *   --time                       "load_us=N check_us=N" on stderr
 *   --record                     then record the task as succeeded (its
 *                                outputs hashed) and save
 *   --run CMD                    when stale, forget the task, run `sh -c CMD`
 *                                and record it (settled) if that succeeds; when fresh,
 *                                record (fresh stat data). Saves either way;
 *                                exits with CMD's status
 *   --save-loop N                record, then save N times (0: until killed),
 *                                each time with another command for a task
 *                                named "round", so every save writes anew
 *   --parallel N                 also run N more checks of the task at once,
 *                                on N threads, as the pool would; prints
 *                                "parallel N: same" when they all agree with
 *                                the first, else exits 1
 * --dump prints DIR/.weft/state as format 3 (text) would hold it, header
 * line and all (cachefile_text()), for the tests to read and edit.
 * Exits 2 on a usage error, 3 when the state cannot be saved.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cache.h"
#include "cachefile.h"
#include "glob.h"
#include "util.h"

struct list {
	const char **v;
	size_t n, cap;
};

static void add(struct list *l, const char *s)
{
	grow(&l->v, &l->cap, l->n + 1, sizeof *l->v);
	l->v[l->n++] = s;
}

static int usage(void)
{
	fputs("usage: cache-test [--source PAT] [--output PAT] [--cmd TEXT] [--env N=V] [--dep FP] [--dir D] [--read PATH]\n"
	      "                  [--always] [--racy-ms N] [--time] [--record | --run CMD | --save-loop N] DIR TASK\n"
	      "       cache-test --dump DIR\n",
	      stderr);
	return 2;
}

static int save(struct cache *c)
{
	int err = cache_save(c);
	if (err) {
		fprintf(stderr, "cache-test: cannot save: %s\n", strerror(-err));
		return 3;
	}
	return 0;
}

static int save_loop(struct cache *c, long rounds)
{
	for (long i = 0; rounds == 0 || i < rounds; i++) {
		char cmd[32];
		snprintf(cmd, sizeof cmd, "round %ld", i);
		struct cache_task t = { .name = "round", .command = cmd };
		struct cache_check *k = cache_check_new(c, &t);
		cache_check_run(k);
		cache_record(c, k);
		cache_check_free(k);
		int r = save(c);
		if (r)
			return r;
	}
	return 0;
}

static int run_command(const char *cmd)
{
	fflush(NULL);
	int st = system(cmd);
	if (st < 0) {
		fprintf(stderr, "cache-test: cannot run: %s\n", strerror(errno));
		return 127;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void *check_thread(void *k)
{
	cache_check_run(k);
	return NULL;
}

/* Checks that n concurrent checks find what k found. */
static int parallel(struct cache *c, const struct cache_task *t, long n, const struct cache_check *k)
{
	struct cache_check **ks = xcalloc((size_t)n, sizeof *ks);
	pthread_t *th = xcalloc((size_t)n, sizeof *th);
	for (long i = 0; i < n; i++) {
		ks[i] = cache_check_new(c, t);
		if (pthread_create(&th[i], NULL, check_thread, ks[i]) != 0) {
			fprintf(stderr, "cache-test: cannot start a thread\n");
			exit(3);
		}
	}
	int bad = 0;
	for (long i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		const char *a = cache_check_fingerprint(k), *b = cache_check_fingerprint(ks[i]);
		if (!a || !b || strcmp(a, b) != 0 || cache_check_nsources(ks[i]) != cache_check_nsources(k))
			bad = 1;
		cache_check_free(ks[i]);
	}
	free(ks);
	free(th);
	if (bad)
		printf("parallel %ld: different\n", n);
	else
		printf("parallel %ld: same\n", n);
	return bad;
}

int main(int argc, char **argv)
{
	struct list sources = { 0 }, outputs = { 0 }, env = { 0 }, deps = { 0 };
	struct cache_task t = { 0 };
	bool always = false, timing = false, record = false;
	struct strlist read = {0};
	const char *run = NULL, *dir = NULL, *name = NULL;
	long racy_ms = -1, loop = -1, nparallel = 0;
	if (argc == 3 && strcmp(argv[1], "--dump") == 0) {
		char *warning;
		struct cache *c = cache_load(argv[2], &warning);
		if (warning) {
			fprintf(stderr, "cache-test: warning: %s\n", warning);
			free(warning);
		}
		char *text = cachefile_text(c);
		fputs(text, stdout);
		free(text);
		cache_free(c);
		return 0;
	}
	int i = 1;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *opt = argv[i] + 2;
		if (strcmp(opt, "always") == 0) {
			always = true;
			continue;
		}
		if (strcmp(opt, "time") == 0) {
			timing = true;
			continue;
		}
		if (strcmp(opt, "record") == 0) {
			record = true;
			continue;
		}
		const char *eq = strchr(opt, '=');
		size_t len = eq ? (size_t)(eq - opt) : strlen(opt);
		const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
		if (!val)
			return usage();
#define IS(s) (len == strlen(s) && strncmp(opt, s, len) == 0)
		if (IS("source") || IS("sources"))
			add(&sources, val);
		else if (IS("output") || IS("outputs"))
			add(&outputs, val);
		else if (IS("env"))
			add(&env, val);
		else if (IS("dep"))
			add(&deps, val);
		else if (IS("read"))
			strlist_add(&read, val);
		else if (IS("cmd"))
			t.command = val;
		else if (IS("dir"))
			t.dir = val;
		else if (IS("run"))
			run = val;
		else if (IS("racy-ms"))
			racy_ms = strtol(val, NULL, 10);
		else if (IS("parallel"))
			nparallel = strtol(val, NULL, 10);
		else if (IS("save-loop"))
			loop = strtol(val, NULL, 10);
		else
			return usage();
#undef IS
	}
	if (argc - i != 2)
		return usage();
	dir = argv[i];
	name = argv[i + 1];
	t.name = name;
	t.sources = sources.v;
	t.nsources = sources.n;
	t.outputs = outputs.v;
	t.noutputs = outputs.n;
	t.env = env.v;
	t.nenv = env.n;
	t.deps = deps.v;
	t.ndeps = deps.n;

	char *warning;
	uint64_t t0 = now_ns();
	struct cache *c = cache_load(dir, &warning);
	uint64_t t1 = now_ns();
	if (warning) {
		fprintf(stderr, "cache-test: warning: %s\n", warning);
		free(warning);
	}
	if (always)
		cache_ignore_state(c);
	if (racy_ms >= 0)
		cache_set_racy_window(c, (int64_t)racy_ms * 1000000);
	struct cache_check *k = cache_check_new(c, &t);
	uint64_t t2 = now_ns();
	cache_check_run(k);
	uint64_t t3 = now_ns();
	bool fresh;
	const char *why = cache_fresh(c, k, &fresh);
	const char *fp = cache_check_fingerprint(k);
	printf(fresh ? "fresh\n" : "stale: %s\n", why);
	printf("fingerprint %s\n", fp ? fp : "none");
	fflush(stdout);
	fprintf(stderr, "hashed=%zu sources=%zu\n", cache_check_hashed(k), cache_check_nsources(k));
	if (timing)
		fprintf(stderr, "load_us=%llu check_us=%llu\n", (unsigned long long)(t1 - t0) / 1000,
		        (unsigned long long)(t3 - t2) / 1000);

	int status = nparallel > 0 ? parallel(c, &t, nparallel, k) : 0;
	if (run) {
		if (fresh) {
			cache_record(c, k);
		} else {
			int err = cache_forget(c, k);
			if (err) {
				fprintf(stderr, "cache-test: cannot forget: %s\n", strerror(-err));
				status = 3;
			} else {
				status = run_command(run);
				if (status == 0)
					cache_check_settle(k, &read);
				if (status == 0 && !cache_check_changed(k))
					cache_record(c, k);
			}
		}
		int r = save(c);
		if (r && !status)
			status = r;
	} else if (record || loop >= 0) {
		cache_check_settle(k, &read);
		cache_record(c, k);
		status = save(c);
		if (!status && loop >= 0)
			status = save_loop(c, loop);
	}
	cache_check_free(k);
	cache_free(c);
	free(sources.v);
	free(outputs.v);
	free(env.v);
	free(deps.v);
	strlist_release(&read);
	return status;
}
