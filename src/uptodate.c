/* Whether a task with sources runs, decided during the run: its fingerprint taken on the pool, the skip-or-run decision, and its success recorded in .weft/. */
#include "uptodate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "events.h"
#include "graph.h"
#include "pool.h"
#include "util.h"

struct uptodate {
	int lock_fd;                 /* .weft/lock, held for the run; -1: none */
	struct graph *g;
	struct cache *cache;
	struct uptodate_opts o;
	struct cache_check **checks; /* by task index: the check of a task running now */
	char **fps;                  /* by task index: what its dependents see of it */
	unsigned long long runs;     /* for tokens of tasks without a fingerprint */
	uint64_t started;
};

struct pending {
	struct pool_work work;
	struct uptodate *u;
	struct task *t;
	struct cache_check *k;
	void (*done)(void *ud, struct task *t, enum verdict v);
	void *ud;
};

/* Two runs in one directory would each write the state they loaded and
 * lose the other's records (a withdrawn success among them): the second
 * waits for the first. Returns the locked fd, or -1 (then runs unlocked). */
static int lock_state(struct events *ev)
{
	if (mkdir(".weft", 0700) < 0 && errno != EEXIST)
		return -1;
	int dir = open(".weft", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0)
		return -1;
	int fd = openat(dir, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	close(dir);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		events_say(ev, MSG_INFO, NULL, "waiting for another weft that uses .weft/ here");
		while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
			;
	}
	return fd;
}

struct uptodate *uptodate_new(struct graph *g, const struct uptodate_opts *o)
{
	struct uptodate *u = xcalloc(1, sizeof *u);
	u->lock_fd = lock_state(o->ev);
	u->g = g;
	u->o = *o;
	/* The caller's arrays may be gone after this call: keep copies. */
	const struct kv **envs = xcalloc(o->nenv_lists + 1, sizeof *envs);
	size_t *nenvs = xcalloc(o->nenv_lists + 1, sizeof *nenvs);
	memcpy(envs, o->envs, o->nenv_lists * sizeof *envs);
	memcpy(nenvs, o->nenvs, o->nenv_lists * sizeof *nenvs);
	u->o.envs = envs;
	u->o.nenvs = nenvs;
	char *warning = NULL;
	u->cache = cache_load(".", &warning);
	if (warning) {
		events_say(o->ev, MSG_WARNING, NULL, "%s", warning);
		free(warning);
	}
	if (o->always)
		cache_ignore_state(u->cache);
	u->checks = xcalloc(g->ntasks, sizeof *u->checks);
	u->fps = xcalloc(g->ntasks, sizeof *u->fps);
	u->started = now_ns();
	return u;
}

void uptodate_free(struct uptodate *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->g->ntasks; i++) {
		if (u->checks[i])
			cache_check_free(u->checks[i]);
		free(u->fps[i]);
	}
	free(u->checks);
	free(u->fps);
	free((void *)u->o.envs);
	free((void *)u->o.nenvs);
	cache_free(u->cache);
	if (u->lock_fd >= 0)
		close(u->lock_fd);
	free(u);
}

bool uptodate_manages(const struct task *t)
{
	return t->nsources || t->noutputs;
}

/* What the fingerprint covers of the command: the text as it runs, and
 * what else changes the work (where, over which items). */
static char *command_text(const struct task *t)
{
	struct buf b;
	buf_init(&b);
	if (t->step) {
		buf_adds(&b, "step:");
		for (int i = 0; i < t->step_argc; i++)
			buf_addf(&b, " %s", t->step_argv[i]);
	} else if (t->run) {
		buf_adds(&b, t->run);
	}
	if (t->foreach)
		buf_addf(&b, "\nforeach: %s", t->foreach);
	if (t->dir)
		buf_addf(&b, "\ndir: %s", t->dir);
	return buf_take(&b);
}

static void work_cb(struct pool_work *w)
{
	cache_check_run(((struct pending *)w)->k);
}

static void after_cb(struct pool_work *w)
{
	struct pending *pc = (struct pending *)w;
	struct uptodate *u = pc->u;
	struct task *t = pc->t;
	struct cache_check *k = pc->k;
	enum verdict v;
	const char *err = cache_check_error(k);
	bool fresh = false;
	const char *why = err ? NULL : cache_fresh(u->cache, k, &fresh);
	if (err) {
		events_say(u->o.ev, MSG_ERROR, NULL, "cannot check whether task '%s' is up to date: %s", t->name, err);
		cache_check_free(k);
		v = VERDICT_ERROR;
	} else if (fresh) {
		if (u->o.explain)
			events_say(u->o.ev, MSG_INFO, NULL, "task '%s' is up to date", t->name);
		cache_record(u->cache, k);
		u->fps[t->index] = xstrdup(cache_check_fingerprint(k));
		cache_check_free(k);
		v = VERDICT_FRESH;
	} else {
		if (u->o.explain)
			events_say(u->o.ev, MSG_INFO, NULL, "task '%s' runs: %s", t->name, why);
		/* Withdraw the recorded success before the command starts, so a
		 * run killed half-way is never taken for done. */
		if (cache_forget(u->cache, k) < 0)
			events_say(u->o.ev, MSG_WARNING, NULL, "cannot update .weft/ before task '%s' runs", t->name);
		u->checks[t->index] = k;
		v = VERDICT_RUN;
	}
	void (*done)(void *, struct task *, enum verdict) = pc->done;
	void *ud = pc->ud;
	free(pc);
	done(ud, t, v);
}

void uptodate_check(struct uptodate *u, struct pool *pool, struct task *t,
		    void (*done)(void *ud, struct task *t, enum verdict v), void *ud)
{
	/* The recipe's own variables, then the task's, as "NAME=VALUE". */
	size_t nenv = t->nenv;
	for (size_t l = 0; l < u->o.nenv_lists; l++)
		nenv += u->o.nenvs[l];
	char **env = xcalloc(nenv + 1, sizeof *env);
	size_t k = 0;
	for (size_t l = 0; l < u->o.nenv_lists; l++)
		for (size_t i = 0; i < u->o.nenvs[l]; i++)
			env[k++] = xasprintf("%s=%s", u->o.envs[l][i].name, u->o.envs[l][i].value);
	for (size_t i = 0; i < t->nenv; i++)
		env[k++] = xasprintf("%s=%s", t->env[i].name, t->env[i].value);
	const char **deps = xcalloc(t->ndeps + 1, sizeof *deps);
	size_t nd = 0;
	for (size_t i = 0; i < t->ndeps; i++)
		if (t->deps[i])
			deps[nd++] = u->fps[t->deps[i]->index] ? u->fps[t->deps[i]->index] : "none";
	char *cmd = command_text(t);
	struct cache_task ct = {
		.name = t->name,
		.dir = t->dir,
		.sources = (const char *const *)t->sources,
		.nsources = t->nsources,
		.outputs = (const char *const *)t->outputs,
		.noutputs = t->noutputs,
		.command = cmd,
		.env = (const char *const *)env,
		.nenv = k,
		.deps = deps,
		.ndeps = nd,
	};
	struct pending *pc = xcalloc(1, sizeof *pc);
	pc->u = u;
	pc->t = t;
	pc->k = cache_check_new(u->cache, &ct);
	pc->done = done;
	pc->ud = ud;
	pc->work.work = work_cb;
	pc->work.after = after_cb;
	free(cmd);
	free(deps);
	free_words(env);
	if (!pool || pool_submit(pool, &pc->work) < 0) {
		/* No thread could start: check here, on the loop, rather than fail. */
		work_cb(&pc->work);
		after_cb(&pc->work);
	}
}

void uptodate_ran(struct uptodate *u, struct task *t, bool ok)
{
	struct cache_check *k = u->checks[t->index];
	u->checks[t->index] = NULL;
	if (k && ok && cache_check_sources_changed(k)) {
		events_say(u->o.ev, MSG_WARNING, NULL,
			   "a source of task '%s' changed while it ran: it runs again next time", t->name);
		cache_check_free(k);
		k = NULL;
	}
	if (k && ok) {
		cache_record(u->cache, k);
		free(u->fps[t->index]);
		u->fps[t->index] = xstrdup(cache_check_fingerprint(k));
	} else if (!k) {
		/* Ran without a fingerprint: new every time, so dependents that
		 * are decided by content run too. */
		free(u->fps[t->index]);
		u->fps[t->index] = xasprintf("ran:%llu:%llu", (unsigned long long)u->started, ++u->runs);
	}
	if (k)
		cache_check_free(k);
}

int uptodate_save(struct uptodate *u)
{
	int err = cache_save(u->cache);
	if (err < 0)
		events_say(u->o.ev, MSG_WARNING, NULL, "cannot save .weft/state: %s", strerror(-err));
	return err;
}
