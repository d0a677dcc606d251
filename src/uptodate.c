/* Whether a task, or an item of a foreach task, runs, decided during the run: its fingerprint taken on the pool, the skip-or-run decision, and its success, outputs and depfile recorded in .weft/. */
#include "uptodate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>
#include <xxhash.h>

#include "cache.h"
#include "dirlist.h"
#include "cancel.h"
#include "depfile.h"
#include "glob.h"
#include "tmpl.h"
#include "events.h"
#include "graph.h"
#include "pool.h"
#include "util.h"

struct uptodate {
	int lock_fd;                 /* .weft/lock: see lock_open(); -1: none (a dry run, or it cannot be made) */
	struct pool *pool;           /* the run's, for checks that waited for their lock */
	uv_timer_t timer;            /* tries the locks of waiting units again */
	bool timer_made;
	struct utd_unit *waiting;    /* units waiting for their lock, in order */
	uv_idle_t confirm;           /* confirms fresh verdicts, once a few are there */
	bool confirm_made;
	struct utd_unit *unconfirmed;/* checked without their lock, found fresh, in order */
	size_t nunconfirmed;
	uint64_t epoch;              /* of the next look at .weft/ (see confirm_cb) */
	size_t in_flight;            /* checks without their lock, batched or on the pool */
	struct check_batch *batch;   /* checks without their lock not yet on the pool; NULL: none */
	uv_prepare_t flush;          /* puts a batch begun in a loop turn on the pool before the loop waits */
	bool flush_made;
	bool said_waiting;
	struct graph *g;
	struct cache *cache;
	struct uptodate_opts o;
	char **fps;                  /* by task index: what its dependents see of it; NULL: not yet */
	struct strlist *item_fps;    /* by task index, per_item tasks: "KEY\tFP" of each item recorded */
	struct tmpl ***words;        /* by task index, per_item tasks: its sources, outputs and depfile
	                              * as templates, made on first use (NULL: not yet) */
	bool *item_gaps;             /* by task index: an item ran without being recorded */
	unsigned long long runs;     /* for tokens of tasks without a fingerprint */
	uint64_t started;
};

struct utd_unit {
	struct pool_work work;
	struct uptodate *u;
	struct task *t;
	char *key;                   /* the record's name: the task's, or "TASK[ITEM]" */
	char *label;                 /* for messages */
	char *item;                  /* NULL: a task checked whole */
	unsigned long long seq;
	bool locked;                 /* holds its lock: while checked, and from its start until settled or over */
	bool claim;                  /* to run: its lock is to be taken again when it starts */
	bool busy;                   /* its check found the lock held by another run */
	bool optimistic;             /* checked on the pool without its lock */
	bool waits;                  /* in u->waiting */
	bool unconfirmed;            /* in u->unconfirmed */
	bool batched;                /* in u->batch */
	bool prepared;               /* prepare() has run */
	uint64_t epoch;              /* unconfirmed: u->epoch when it was found fresh */
	struct utd_unit *wnext;      /* in u->waiting or u->unconfirmed */
	char *depfile;               /* as the command writes it, relative to the task's dir; NULL: none */
	struct cache_check *k;       /* while checking, and from a stale verdict until settled */
	struct strlist deps;         /* settling: what the depfile names */
	char *error;                 /* settling: why the depfile cannot be used */
	void (*checked)(void *ud, enum verdict v);
	void (*settled)(void *ud, const char *error);
	void *ud;
};

/* Checks of units that have no lock yet go to the pool this many at a
 * time: one hand-over to a worker and back for them all, where one each
 * cost more than a no-op's checks themselves on a busy machine. */
#define CHECK_BATCH 8

/* A check of a record of at most this many files, whose patterns read
 * one directory at most, is tried on the loop first (cache_check_try):
 * stat() of that many files, most of them answered by the shared stat
 * data, costs less than a hand-over to a worker and back, the more so
 * on a busy machine, where the worker waits for a CPU. Once the stat
 * data is no longer shared (something ran), only of this many: each file
 * is a stat() of its own then, and a file that changed (a link step's
 * new object) sends the check to the pool after all. */
#define INLINE_FILES 1024
#define INLINE_FILES_UNSHARED 64

struct check_batch {
	struct pool_work work;
	struct uptodate *u;
	size_t n;
	struct utd_unit *v[CHECK_BATCH]; /* NULL: taken out (its unit was freed first) */
};

/*
 * Runs in one directory share .weft/ (weft.ini(5), SHARED STATE): the
 * state is read and written under flock() of .weft/lock, only for a
 * moment, and a task or item holds a lock of its own, a byte of
 * .weft/lock (an open file description lock at an offset taken from
 * its name's hash), from before its check until it is recorded or over.
 * A run that finds it held waits, then reads the task's record again:
 * the other run may have just built it. A unit only holds its lock while
 * it is checked, waits for a slot, runs or is recorded, none of which
 * waits for another lock, so two runs cannot wait for each other.
 *
 * A check on the pool goes without the lock (a no-op run would otherwise
 * lock and unlock once per item): found fresh, it holds once
 * cache_unmoved() says, after the check, that no other run has written
 * .weft/ since this one loaded it, since a run withdraws a success in
 * the journal before it runs the task. One such look confirms every
 * fresh verdict that came back in a turn of the loop. Found to run, or
 * not confirmed, the unit takes its lock as it would have for its check,
 * and is checked again under it unless .weft/ is as it was.
 */

static void start_check(struct utd_unit *x);
static void verdict(struct utd_unit *x);

/* Opens .weft/lock, making .weft/ (with a .gitignore that keeps it out
 * of git status) as needed. Returns the fd, or -1 (then runs unlocked). */
static int lock_open(void)
{
	if (mkdir(".weft", 0700) < 0 && errno != EEXIST)
		return -1;
	int dir = open(".weft", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0)
		return -1;
	int gi = openat(dir, ".gitignore", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (gi >= 0) {
		write_full(gi, "*\n", 2);
		close(gi);
	}
	int fd = openat(dir, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	close(dir);
	return fd;
}

static bool unit_lockop(struct utd_unit *x, short type)
{
	uint64_t h = XXH3_64bits(x->key, strlen(x->key));
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = (off_t)(1 + (h >> 2)), .l_len = 1};
	return fcntl(x->u->lock_fd, F_OFD_SETLK, &fl) == 0;
}

/* Whether x holds its lock now (always, when there are no locks). */
static bool unit_lock(struct utd_unit *x)
{
	if (x->u->lock_fd < 0 || x->locked)
		return true;
	return x->locked = unit_lockop(x, F_WRLCK);
}

static void unit_unlock(struct utd_unit *x)
{
	if (x->locked)
		unit_lockop(x, F_UNLCK);
	x->locked = false;
}

/* Appends x to the list at *p (u->waiting or u->unconfirmed). */
static void enlist(struct utd_unit **p, struct utd_unit *x)
{
	while (*p)
		p = &(*p)->wnext;
	*p = x;
	x->wnext = NULL;
}

/* Takes x out of the list at *p. */
static void unlist(struct utd_unit **p, struct utd_unit *x)
{
	for (; *p; p = &(*p)->wnext)
		if (*p == x) {
			*p = x->wnext;
			break;
		}
}

static void unwait(struct utd_unit *x)
{
	unlist(&x->u->waiting, x);
	x->waits = false;
	if (!x->u->waiting && x->u->timer_made)
		uv_timer_stop(&x->u->timer);
}

static void unconfirm(struct utd_unit *x)
{
	unlist(&x->u->unconfirmed, x);
	x->unconfirmed = false;
	x->u->nunconfirmed--;
}

static void retry_cb(uv_timer_t *t)
{
	struct uptodate *u = t->data;
	for (struct utd_unit *x = u->waiting, *next; x; x = next) {
		next = x->wnext;
		if (!unit_lock(x))
			continue;
		unwait(x);
		/* The other run may have recorded it while this one waited. */
		cache_refresh(u->cache, x->key);
		start_check(x);
	}
}

/* Polled, not blocked on: a blocked thread would hold back this run's
 * own units, and the loop must stay free for Ctrl-C. */
static void wait_for_lock(struct utd_unit *x)
{
	struct uptodate *u = x->u;
	if (!u->said_waiting)
		events_say(u->o.ev, MSG_INFO, NULL, "waiting for another weft that runs task '%s' here", x->label);
	u->said_waiting = true;
	if (!u->timer_made) {
		uv_timer_init(uv_default_loop(), &u->timer);
		u->timer.data = u;
		u->timer_made = true;
	}
	enlist(&u->waiting, x);
	x->waits = true;
	if (!uv_is_active((uv_handle_t *)&u->timer))
		uv_timer_start(&u->timer, retry_cb, 20, 20);
}

/* A unit found to run lets go of its lock until it starts: while it
 * waits for a slot, a job of this run may be a weft of its own that
 * wants that lock (a task that runs `weft other`), and must not wait on
 * its parent. Another run may then run it meanwhile; this one runs it
 * again after, as make would, and both records stay whole. */
static void release_until_start(struct utd_unit *x)
{
	if (!x->locked)
		return;
	unit_unlock(x);
	x->claim = true;
}

bool uptodate_claim(struct utd_unit *x)
{
	if (!x || !x->claim)
		return true;
	x->claim = false;
	if (unit_lock(x))
		return true;
	/* Another run has it now and may record it: checked again once it
	 * lets go. */
	cache_check_free(x->k);
	x->k = NULL;
	wait_for_lock(x);
	return false;
}

void uptodate_stop(struct uptodate *u)
{
	while (u->waiting)
		unwait(u->waiting);
	while (u->unconfirmed)
		unconfirm(u->unconfirmed);
}

struct uptodate *uptodate_new(struct graph *g, const struct uptodate_opts *o)
{
	struct uptodate *u = xcalloc(1, sizeof *u);
	u->lock_fd = o->dry ? -1 : lock_open();
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
	if (u->lock_fd >= 0)
		while (flock(u->lock_fd, LOCK_EX) < 0 && errno == EINTR)
			;
	u->cache = cache_load(".", &warning);
	if (u->lock_fd >= 0)
		flock(u->lock_fd, LOCK_UN);
	/* Before the first pattern is expanded. */
	dirlist_load(".weft/dirs");
	if (warning) {
		events_say(o->ev, MSG_WARNING, NULL, "%s", warning);
		free(warning);
	}
	if (o->always)
		cache_ignore_state(u->cache);
	if (u->lock_fd >= 0)
		cache_share(u->cache, u->lock_fd);
	/* Until something is to run (see to_run()). */
	cache_stats_begin(u->cache);
	u->fps = xcalloc(g->ntasks, sizeof *u->fps);
	u->item_fps = xcalloc(g->ntasks, sizeof *u->item_fps);
	u->words = xcalloc(g->ntasks, sizeof *u->words);
	u->item_gaps = xcalloc(g->ntasks, sizeof *u->item_gaps);
	u->started = now_ns();
	return u;
}

void uptodate_free(struct uptodate *u)
{
	if (!u)
		return;
	if (u->timer_made)
		uv_close((uv_handle_t *)&u->timer, NULL);
	if (u->confirm_made)
		uv_close((uv_handle_t *)&u->confirm, NULL);
	if (u->flush_made)
		uv_close((uv_handle_t *)&u->flush, NULL);
	if (u->timer_made || u->confirm_made || u->flush_made)
		uv_run(uv_default_loop(), UV_RUN_NOWAIT);
	if (u->lock_fd >= 0)
		close(u->lock_fd);
	u->lock_fd = -1;
	/* The run is over and weft ends next: its records need not be freed. */
	if (exit_keep(u))
		return;
	dirlist_release();
	for (size_t i = 0; i < u->g->ntasks; i++) {
		free(u->fps[i]);
		strlist_release(&u->item_fps[i]);
		for (struct tmpl **w = u->words[i]; w && *w; w++)
			tmpl_free(*w);
		free(u->words[i]);
	}
	free(u->words);
	free(u->fps);
	free(u->item_fps);
	free(u->item_gaps);
	free((void *)u->o.envs);
	free((void *)u->o.nenvs);
	cache_free(u->cache);
	free(u->batch);
	free(u);
}

bool uptodate_manages(const struct task *t)
{
	return t->nsources || t->noutputs || t->depfile;
}

void uptodate_unit_free(struct utd_unit *x)
{
	if (!x)
		return;
	if (x->waits)
		unwait(x);
	if (x->unconfirmed)
		unconfirm(x);
	if (x->batched) {
		/* Only an open batch, not yet on the pool: the pool's are
		 * borrowed until their verdicts are back. */
		struct check_batch *b = x->u->batch;
		for (size_t i = 0; b && i < b->n; i++)
			if (b->v[i] == x) {
				b->v[i] = NULL;
				x->u->in_flight--;
			}
	}
	unit_unlock(x);
	cache_check_free(x->k);
	strlist_release(&x->deps);
	free(x->item);
	if (x->label != x->key)
		free(x->label);
	free(x->key);
	free(x->depfile);
	free(x->error);
	free(x);
}

/* The strings of v, up to a NULL, in one: not xasprintf, which costs
 * more than the rest of an up-to-date item's bookkeeping. */
static char *concat(const char *const *v)
{
	size_t n = 0;
	for (size_t i = 0; v[i]; i++)
		n += strlen(v[i]);
	char *r = xmalloc(n + 1), *p = r;
	for (size_t i = 0; v[i]; i++) {
		size_t l = strlen(v[i]);
		memcpy(p, v[i], l);
		p += l;
	}
	*p = '\0';
	return r;
}

/* The template t with the item's replacement strings replaced, plainly. */
static char *expand_tmpl(const struct tmpl *t, const struct tmpl_input *in)
{
	struct buf b;
	buf_init(&b);
	buf_add(&b, "", 0);
	tmpl_expand_plain(t, in, &b);
	return buf_take(&b);
}

/* word with the item's replacement strings replaced, plainly. */
static char *expand_word(const char *word, const struct tmpl_input *in, bool *used)
{
	char *w[] = {(char *)word};
	struct tmpl *t = tmpl_new(w, 1);
	if (used)
		*used = tmpl_has_inputs(t);
	char *r = expand_tmpl(t, in);
	tmpl_free(t);
	return r;
}

/* t's sources, outputs and depfile (when it has one) as templates, in
 * that order: parsed once per task, not once per item. */
static struct tmpl **task_words(struct uptodate *u, const struct task *t)
{
	struct tmpl ***w = &u->words[t->index];
	if (*w)
		return *w;
	size_t n = t->nsources + t->noutputs + (t->depfile != NULL);
	*w = xcalloc(n + 1, sizeof **w);
	for (size_t i = 0; i < n; i++) {
		char *word = i < t->nsources ? t->sources[i]
			   : i < t->nsources + t->noutputs ? t->outputs[i - t->nsources]
			   : t->depfile;
		(*w)[i] = tmpl_new(&word, 1);
	}
	return *w;
}

/* What the fingerprint covers of the command: the text as it runs (for an
 * item, with its replacement strings replaced, {%} as 0), and what else
 * changes the work: where, and over which items for a task checked whole. */
static char *command_text(const struct task *t, const struct tmpl_input *in)
{
	struct buf b;
	buf_init(&b);
	if (t->step) {
		buf_adds(&b, "step:");
		bool used = false;
		for (int i = 0; i < t->step_argc; i++) {
			bool u = false;
			char *w = in ? expand_word(t->step_argv[i], in, &u) : NULL;
			used |= u;
			buf_addf(&b, " %s", w ? w : t->step_argv[i]);
			free(w);
		}
		if (in && !used)
			buf_addf(&b, " %s", in->args[0]);
	} else if (t->run && in && t->tmpl) {
		tmpl_expand(t->tmpl, in, &b);
	} else if (t->run) {
		buf_adds(&b, t->run);
	}
	if (t->foreach && !in)
		buf_addf(&b, "\nforeach: %s", t->foreach);
	if (t->dir)
		buf_addf(&b, "\ndir: %s", t->dir);
	return buf_take(&b);
}

/* An item as a literal part of a glob pattern: '*', '?', '[' and '\'
 * in brackets, so "a[1].c" matches only itself. */
static char *glob_literal(const char *s)
{
	struct buf b;
	buf_init(&b);
	buf_add(&b, "", 0);
	for (; *s; s++) {
		if (strchr("*?[\\", *s))
			buf_addf(&b, "[%c]", *s);
		else
			buf_add(&b, s, 1);
	}
	return buf_take(&b);
}

/* The patterns of a task, with the item's replacement strings replaced
 * when there is an item (tmpls: the patterns as templates); a
 * NULL-terminated array the caller frees. */
static char **item_patterns(char **v, struct tmpl *const *tmpls, size_t n, const struct tmpl_input *in)
{
	char **out = xcalloc(n + 1, sizeof *out);
	for (size_t i = 0; i < n; i++)
		out[i] = in ? expand_tmpl(tmpls[i], in) : xstrdup(v[i]);
	return out;
}

/* What x's check covers of its task, made on the worker (an item's
 * command text and patterns are most of what a check that finds it up
 * to date costs): the command as it runs, its sources and outputs, and
 * the depfile's name. Touches only x, its task and the task's templates,
 * made before. */
static void prepare(struct utd_unit *x)
{
	if (x->prepared)
		return;
	x->prepared = true;
	const struct task *t = x->t;
	const char *item = x->item;
	size_t len = item ? strlen(item) : 0;
	struct tmpl_input raw = {&item, &len, 1, x->seq, 0};
	/* Most items have no byte a glob reads: they stand for themselves. */
	char *lit = item && strpbrk(item, "*?[\\") ? glob_literal(item) : NULL;
	size_t lit_len = lit ? strlen(lit) : len;
	const char *litp = lit ? lit : item;
	struct tmpl_input as_glob = {&litp, &lit_len, 1, x->seq, 0};
	const struct tmpl_input *in = item ? &raw : NULL, *gin = item ? &as_glob : NULL;
	struct tmpl **words = item ? x->u->words[t->index] : NULL;
	char **sources = item_patterns(t->sources, words, t->nsources, gin);
	char **outputs = item_patterns(t->outputs, words ? words + t->nsources : NULL, t->noutputs, gin);
	free(x->depfile);
	x->depfile = NULL;
	if (t->depfile)
		x->depfile = item ? expand_tmpl(words[t->nsources + t->noutputs], in) : xstrdup(t->depfile);
	cache_check_take(x->k, command_text(t, in), sources, t->nsources, outputs, t->noutputs);
	free(lit);
}

/* The lock is taken here, on the worker, just before the check, and not
 * when the check is queued: a no-op run then holds a handful of locks at
 * a time instead of one per item, and the kernel walks the list of a
 * file's locks on every lock and unlock. */
static void check_work_cb(struct pool_work *w)
{
	struct utd_unit *x = (struct utd_unit *)w;
	if (!x->optimistic && !unit_lock(x)) {
		x->busy = true;
		return;
	}
	prepare(x);
	cache_check_run(x->k);
}

/* For the dependents of a per_item task: its items' records, whole. */
static void add_item_fp(struct uptodate *u, struct utd_unit *x)
{
	if (!x->t->per_item)
		return;
	struct strlist *l = &u->item_fps[x->t->index];
	grow(&l->v, &l->cap, l->n + 1, sizeof *l->v);
	l->v[l->n++] = concat((const char *[]){x->key, "\t", cache_check_fingerprint(x->k), NULL});
}

void uptodate_job_starts(struct uptodate *u)
{
	if (u)
		cache_stats_end(u->cache);
}

/* x is to run: from now on files may change under the checks, which
 * then stat() for themselves (a dry run changes nothing). Before its job
 * starts, and before any other job, uptodate_job_starts() is called. */
static void to_run(struct utd_unit *x)
{
	if (!x->u->o.dry)
		cache_stats_end(x->u->cache);
}

/* x, checked without its lock, is to run, or its fresh verdict was not
 * confirmed: it takes its lock, and unless .weft/ is as this run loaded
 * it, is checked again under it (another run's record may be newer).
 * Returns true when x holds its lock and its check stands. */
static bool lock_and_confirm(struct utd_unit *x)
{
	struct uptodate *u = x->u;
	if (unit_lock(x) && cache_unmoved(u->cache))
		return true;
	cache_check_free(x->k);
	x->k = NULL;
	if (!x->locked) {
		wait_for_lock(x);
		return false;
	}
	cache_refresh(u->cache, x->key);
	start_check(x);
	return false;
}

/* Fresh verdicts confirmed by one look at .weft/: they are gathered up
 * to this many, or until no other check is on the pool. */
#define CONFIRM_BATCH 16

/* One look at .weft/ confirms the fresh verdicts of the checks made
 * before it. An idle handle: checks made on the loop find nothing else
 * to wait for. */
static void confirm_cb(uv_idle_t *h)
{
	struct uptodate *u = h->data;
	if (u->in_flight && u->nunconfirmed < CONFIRM_BATCH) {
		/* The pool's next verdict starts it again. */
		uv_idle_stop(h);
		return;
	}
	uint64_t e = u->epoch++;
	bool unmoved = cache_unmoved(u->cache);
	/* Verdicts may free other units of the list, or add checks made
	 * after the look: one at a time, up to those. */
	struct utd_unit *x;
	while ((x = u->unconfirmed) && x->epoch <= e) {
		unconfirm(x);
		if (unmoved || lock_and_confirm(x))
			verdict(x);
	}
	if (!u->unconfirmed)
		uv_idle_stop(h);
}

static void confirm_soon(struct uptodate *u)
{
	if (!u->confirm_made) {
		uv_idle_init(uv_default_loop(), &u->confirm);
		u->confirm.data = u;
		u->confirm_made = true;
	}
	if (!uv_is_active((uv_handle_t *)&u->confirm))
		uv_idle_start(&u->confirm, confirm_cb);
}

static void await_confirmation(struct utd_unit *x)
{
	struct uptodate *u = x->u;
	enlist(&u->unconfirmed, x);
	x->unconfirmed = true;
	x->epoch = u->epoch;
	u->nunconfirmed++;
	confirm_soon(u);
}

/* x was checked without its lock: found fresh, it waits for the next
 * look at .weft/; else it takes its lock first. */
static void unlocked_verdict(struct utd_unit *x)
{
	x->optimistic = false;
	bool fresh = false;
	if (!cache_check_error(x->k))
		cache_fresh(x->u->cache, x->k, &fresh);
	if (fresh)
		await_confirmation(x);
	else if (lock_and_confirm(x))
		verdict(x);
}

static void check_after_cb(struct pool_work *w);

static void batch_work_cb(struct pool_work *w)
{
	struct check_batch *b = (struct check_batch *)w;
	for (size_t i = 0; i < b->n; i++)
		if (b->v[i])
			b->v[i]->work.work(&b->v[i]->work);
}

static void batch_after_cb(struct pool_work *w)
{
	struct check_batch *b = (struct check_batch *)w;
	for (size_t i = 0; i < b->n; i++)
		if (b->v[i]) {
			b->v[i]->batched = false;
			b->v[i]->work.after(&b->v[i]->work);
		}
	free(b);
}

/* u's open batch goes to the pool (or, should no worker take it, is
 * checked here and now, each unit under its lock). */
static void flush_batch(struct uptodate *u)
{
	struct check_batch *b = u->batch;
	if (!b)
		return;
	u->batch = NULL;
	b->work.work = batch_work_cb;
	b->work.after = batch_after_cb;
	if (pool_submit(u->pool, &b->work) == 0)
		return;
	for (size_t i = 0; i < b->n; i++)
		if (b->v[i]) {
			b->v[i]->optimistic = false;
			u->in_flight--;
		}
	batch_work_cb(&b->work);
	batch_after_cb(&b->work);
}

static void flush_cb(uv_prepare_t *h)
{
	struct uptodate *u = h->data;
	uv_prepare_stop(h);
	flush_batch(u);
}

/* x, to be checked without its lock, joins u's open batch. */
static void batch_add(struct utd_unit *x)
{
	struct uptodate *u = x->u;
	if (!u->batch) {
		u->batch = xcalloc(1, sizeof *u->batch);
		u->batch->u = u;
	}
	u->batch->v[u->batch->n++] = x;
	x->batched = true;
	u->in_flight++;
	if (u->batch->n == CHECK_BATCH) {
		flush_batch(u);
		return;
	}
	if (!u->flush_made) {
		uv_prepare_init(uv_default_loop(), &u->flush);
		u->flush.data = u;
		u->flush_made = true;
	}
	if (!uv_is_active((uv_handle_t *)&u->flush))
		uv_prepare_start(&u->flush, flush_cb);
}

static void check_after_cb(struct pool_work *w)
{
	struct utd_unit *x = (struct utd_unit *)w;
	if (x->busy) {
		x->busy = false;
		cache_check_free(x->k);
		x->k = NULL;
		wait_for_lock(x);
		return;
	}
	if (x->optimistic) {
		struct uptodate *u = x->u;
		u->in_flight--;
		unlocked_verdict(x);
		/* The last one back: what waited for it is confirmed now. */
		if (!u->in_flight && u->unconfirmed)
			confirm_soon(u);
		return;
	}
	verdict(x);
}

/* The verdict of x's check, which stands: said, recorded, and passed on. */
static void verdict(struct utd_unit *x)
{
	struct uptodate *u = x->u;
	enum verdict v;
	const char *err = cache_check_error(x->k);
	bool fresh = false;
	const char *why = err ? NULL : cache_fresh(u->cache, x->k, &fresh);
	if (err && cancel_raised()) {
		/* The run is being stopped: nothing to say, nothing runs. */
		cache_check_free(x->k);
		x->k = NULL;
		v = VERDICT_ERROR;
	} else if (err) {
		events_say(u->o.ev, MSG_ERROR, NULL, "cannot check whether task '%s' is up to date: %s", x->label, err);
		cache_check_free(x->k);
		x->k = NULL;
		unit_unlock(x);
		v = VERDICT_ERROR;
	} else if (fresh) {
		if (u->o.explain)
			events_say(u->o.ev, MSG_INFO, NULL, "task '%s' is up to date", x->label);
		cache_record(u->cache, x->k);
		if (x->t->per_item)
			add_item_fp(u, x);
		else
			u->fps[x->t->index] = xstrdup(cache_check_fingerprint(x->k));
		cache_check_free(x->k);
		x->k = NULL;
		unit_unlock(x);
		v = VERDICT_FRESH;
	} else {
		if (u->o.explain)
			events_say(u->o.ev, MSG_INFO, NULL, "task '%s' runs: %s", x->label, why);
		/* Withdraw the recorded success before the command starts, so a
		 * run killed half-way is never taken for done. When that cannot
		 * be written (a full disk), the task must not run: a run that
		 * failed there would be called up to date once the old sources
		 * came back. A dry run writes nothing. */
		to_run(x);
		int ferr = u->o.dry ? 0 : cache_forget(u->cache, x->k);
		if (ferr < 0) {
			events_say(u->o.ev, MSG_ERROR, NULL,
				   "task '%s' does not run: cannot withdraw its recorded success in .weft/: %s", x->label,
				   strerror(-ferr));
			v = VERDICT_ERROR;
		} else {
			v = VERDICT_RUN;
		}
	}
	if (v == VERDICT_RUN)
		release_until_start(x);
	x->checked(x->ud, v);
}

/* Runs w on pool, or here and now when there is no pool to take it. */
static void submit(struct pool *pool, struct pool_work *w)
{
	if (!pool || pool_submit(pool, w) < 0) {
		w->work(w);
		w->after(w);
	}
}

struct utd_unit *uptodate_check(struct uptodate *u, struct pool *pool, struct task *t, const char *item,
				unsigned long long seq, const char *label, void (*done)(void *ud, enum verdict v),
				void *ud)
{
	struct utd_unit *x = xcalloc(1, sizeof *x);
	x->u = u;
	x->t = t;
	x->item = item ? xstrdup(item) : NULL;
	x->seq = seq;
	x->key = item ? concat((const char *[]){t->name, "[", item, "]", NULL}) : xstrdup(t->name);
	/* Mostly the same text (an item without control bytes). */
	x->label = strcmp(label, x->key) == 0 ? x->key : xstrdup(label);
	x->checked = done;
	x->ud = ud;
	u->pool = pool;
	/* A task without sources has nothing to check: only its lock, here. */
	if (!uptodate_manages(t) && !unit_lock(x))
		wait_for_lock(x);
	else
		start_check(x);
	return x;
}

/* Takes x's lock and then its fingerprint on the pool; a task without
 * sources, whose lock is held, runs. */
static void start_check(struct utd_unit *x)
{
	struct uptodate *u = x->u;
	struct task *t = x->t;
	if (!uptodate_manages(t)) {
		/* It always runs, holding its lock: another run that would
		 * run it waits, then runs it again (nothing tells it that
		 * this run's work is still good). */
		to_run(x);
		release_until_start(x);
		x->checked(x->ud, VERDICT_RUN);
		return;
	}
	/* The recipe's own variables, then the task's, as "NAME=VALUE". */
	size_t nenv = t->nenv;
	for (size_t l = 0; l < u->o.nenv_lists; l++)
		nenv += u->o.nenvs[l];
	char *none[1] = {NULL};
	char **env = nenv ? xcalloc(nenv + 1, sizeof *env) : none;
	size_t k = 0;
	for (size_t l = 0; l < u->o.nenv_lists; l++)
		for (size_t i = 0; i < u->o.nenvs[l]; i++)
			env[k++] = xasprintf("%s=%s", u->o.envs[l][i].name, u->o.envs[l][i].value);
	for (size_t i = 0; i < t->nenv; i++)
		env[k++] = xasprintf("%s=%s", t->env[i].name, t->env[i].value);
	const char *no_deps[1] = {NULL};
	const char **deps = t->ndeps ? xcalloc(t->ndeps + 1, sizeof *deps) : no_deps;
	size_t nd = 0;
	for (size_t i = 0; i < t->ndeps; i++)
		if (t->deps[i])
			deps[nd++] = u->fps[t->deps[i]->index] ? u->fps[t->deps[i]->index] : "none";
	/* The command and patterns are made on the worker (prepare()), from
	 * templates made here, once per task. */
	if (x->item)
		task_words(u, t);
	struct cache_task ct = {
		.name = x->key,
		.dir = t->dir,
		.env = (const char *const *)env,
		.nenv = k,
		.deps = deps,
		.ndeps = nd,
	};
	cache_name(u->cache, x->key);
	x->k = cache_check_new(u->cache, &ct);
	x->prepared = false;
	x->work.work = check_work_cb;
	x->work.after = check_after_cb;
	if (deps != no_deps)
		free(deps);
	if (env != none)
		free_words(env);
	/* On the pool, in a batch without its lock when it has none yet (see
	 * the top); here and now, its verdict must come back at once: under
	 * the lock. */
	x->optimistic = u->pool && u->lock_fd >= 0 && !x->locked;
	if (x->optimistic) {
		/* A check that needs no hashing costs less here than the
		 * hand-over to a worker and back (INLINE_FILES). */
		prepare(x);
		if (cache_check_try(x->k, cache_stats_on(u->cache) ? INLINE_FILES : INLINE_FILES_UNSHARED))
			unlocked_verdict(x);
		else
			batch_add(x);
		return;
	}
	if (u->pool && pool_submit(u->pool, &x->work) == 0)
		return;
	x->work.work(&x->work);
	x->work.after(&x->work);
}

static void settle_work_cb(struct pool_work *w)
{
	struct utd_unit *x = (struct utd_unit *)w;
	if (x->depfile && depfile_read(x->t->dir, x->depfile, &x->deps, &x->error) < 0)
		return;
	cache_check_settle(x->k, &x->deps);
}

static void settle_after_cb(struct pool_work *w)
{
	struct utd_unit *x = (struct utd_unit *)w;
	struct uptodate *u = x->u;
	strlist_release(&x->deps);
	if (x->error || cancel_raised()) {
		/* Nothing recorded: it runs again next time (a settling cut
		 * short by a signal measured only part of the files). */
	} else if (cache_check_changed(x->k)) {
		events_say(u->o.ev, MSG_WARNING, NULL,
			   "a source of task '%s' changed while it ran: it runs again next time", x->label);
	} else {
		cache_record(u->cache, x->k);
		if (x->t->per_item)
			add_item_fp(u, x);
		else
			u->fps[x->t->index] = xstrdup(cache_check_fingerprint(x->k));
	}
	if (x->error || cancel_raised() || cache_check_changed(x->k))
		u->item_gaps[x->t->index] = true;
	cache_check_free(x->k);
	x->k = NULL;
	unit_unlock(x);
	x->settled(x->ud, x->error);
}

bool uptodate_settle(struct uptodate *u, struct pool *pool, struct utd_unit *x,
		     void (*done)(void *ud, const char *error), void *ud)
{
	if (!x || !x->k || u->o.dry)
		return false;
	x->settled = done;
	x->ud = ud;
	x->work.work = settle_work_cb;
	x->work.after = settle_after_cb;
	submit(pool, &x->work);
	return true;
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void uptodate_task_done(struct uptodate *u, struct task *t, bool ok)
{
	size_t i = t->index;
	if (t->per_item && ok && !u->item_gaps[i]) {
		/* Its items, whatever order they finished in (mostly the
		 * order they were listed in, sorted already). */
		struct strlist *l = &u->item_fps[i];
		size_t in_order = 1;
		while (in_order < l->n && strcmp(l->v[in_order - 1], l->v[in_order]) <= 0)
			in_order++;
		if (in_order < l->n)
			qsort(l->v, l->n, sizeof *l->v, by_str);
		XXH3_state_t *s = XXH3_createState();
		if (!s)
			abort();
		XXH3_128bits_reset(s);
		for (size_t k = 0; k < l->n; k++)
			XXH3_128bits_update(s, l->v[k], strlen(l->v[k]) + 1);
		XXH128_hash_t h = XXH3_128bits_digest(s);
		XXH3_freeState(s);
		free(u->fps[i]);
		u->fps[i] = xasprintf("items:%016llx%016llx", (unsigned long long)h.high64, (unsigned long long)h.low64);
		return;
	}
	if (!u->fps[i] || t->per_item) {
		/* Ran without a fingerprint: new every time, so dependents that
		 * are decided by content run too. */
		free(u->fps[i]);
		u->fps[i] = xasprintf("ran:%llu:%llu", (unsigned long long)u->started, ++u->runs);
	}
}

/* After a successful run of the whole recipe, a record it did not use
 * that names one of its tasks, or an item of one, is of the past: the
 * task no longer has sources, or the item is no longer listed. Records
 * of other names may be another recipe's in this directory. */
static bool gone_from_recipe(const char *name, void *ud)
{
	struct uptodate *u = ud;
	size_t len = strcspn(name, "[");
	for (size_t i = 0; i < u->g->ntasks; i++) {
		const char *t = u->g->tasks[i]->name;
		if (strlen(t) == len && strncmp(t, name, len) == 0)
			return true;
	}
	return false;
}

int uptodate_save(struct uptodate *u, bool whole)
{
	if (u->o.dry)
		return 0;
	cache_prune(u->cache, whole ? gone_from_recipe : NULL, u);
	int err = cache_save(u->cache);
	if (err < 0)
		events_say(u->o.ev, MSG_WARNING, NULL, "cannot save .weft/state: %s", strerror(-err));
	/* A cache: when it cannot be written, the next run lists again. */
	dirlist_save(".weft/dirs");
	return err;
}
