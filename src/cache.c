/* The fingerprint store's checks: fingerprints of a task's sources (hashing only files whose stat data changed), command, environment and deps, and why the task is fresh or stale. */
#include "cache.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "cachefile.h"
#include "cancel.h"
#include "glob.h"
#include "hashtab.h"
#include "statcache.h"
#include "util.h"

/*
 * XXH3-128, not SHA-256: the fingerprint guards against accidents, not an
 * attacker (whoever can write the sources can change the command too), and
 * XXH3 hashes at memory speed, ten times SHA-256 or more; 128 bits make an
 * accidental collision as unlikely as with any cryptographic hash.
 *
 * The records that checks are compared with live in struct cache
 * (cachefile.h); cachefile.c keeps them, loads them from .weft/ and saves
 * them, and includes nothing of this side.
 */
#define READ_SIZE (256 * 1024)
#define DEFAULT_RACY_NS (2 * 1000000000LL)

struct cache_check {
	/* Inputs, all owned. */
	char *name;
	char *dir; /* the patterns' directory; NULL: the current one */
	char *command; /* NULL: none */
	struct strlist sources, outputs, env, deps; /* env and deps sorted */
	bool plain_sources, plain_outputs; /* every pattern is a plain name (glob_is_plain) */
	bool shallow; /* every pattern reads one directory at most (glob_is_shallow) */
	struct files *old; /* the record's sources, at cache_check_new() */
	struct files *old_outs; /* the record's outputs, when it says ok */
	/* The record's hashes, as it was when old was taken: a check that
	 * finds old's files as they were takes its fingerprint from them. */
	bool old_ok;
	char old_fp[HEX_LEN + 1], old_cmd[HEX_LEN + 1], old_env[HEX_LEN + 1], old_deps[HEX_LEN + 1];
	size_t kept_files, kept_outs; /* entries of files and outs that are old's and old_outs', unchanged */
	struct statcache *stats; /* shared stat data; NULL: none */
	int64_t racy_ns;
	/* Outputs. */
	bool done;
	int64_t checked_ns; /* CLOCK_REALTIME when cache_check_run() began */
	char fp[HEX_LEN + 1], cmd[HEX_LEN + 1], envh[HEX_LEN + 1], depsh[HEX_LEN + 1];
	struct files *files; /* built by cache_check_run(), rebuilt by cache_check_settle() */
	struct files *outs;  /* the recorded outputs as now; after cache_check_settle(), what the patterns match */
	bool changed;  /* cache_check_settle(): a source changed while the task ran */
	bool settling; /* cache_check_settle() has begun: no shared stat data */
	bool stat_only; /* cache_check_try(): a file to hash stops the check */
	bool needs_hash; /* ... and one did */
	char *missing; /* NULL: every output pattern matched and no recorded output changed; else the reason */
	char *error;
	size_t hashed;
	char *why;
};

/* Hashing. */

/*
 * The bytes a fingerprint's part covers, gathered in one piece and hashed
 * at once: XXH3 gives the digest its streaming state would give over the
 * same bytes, and for a short input at a fraction of the cost (a no-op
 * run hashes four small parts per item).
 */
struct hin {
	unsigned char *p;
	size_t len, cap;
	unsigned char small[512];
};

static void hin_init(struct hin *h)
{
	h->p = h->small;
	h->len = 0;
	h->cap = sizeof h->small;
}

static void hin_add(struct hin *h, const void *p, size_t n)
{
	if (n > h->cap - h->len) {
		size_t cap = h->cap * 2;
		while (cap - h->len < n)
			cap *= 2;
		unsigned char *q = xmalloc(cap);
		memcpy(q, h->p, h->len);
		if (h->p != h->small)
			free(h->p);
		h->p = q;
		h->cap = cap;
	}
	memcpy(h->p + h->len, p, n);
	h->len += n;
}

/* Length first, so that ("ab","c") and ("a","bc") differ. */
static void hin_str(struct hin *h, const char *p, size_t n)
{
	uint64_t len = n;
	hin_add(h, &len, sizeof len);
	hin_add(h, p, n);
}

/* The digest of what h gathered, in hex; h is released. */
static void hin_hex(struct hin *h, char out[HEX_LEN + 1])
{
	XXH128_canonical_t c;
	XXH128_canonicalFromHash(&c, XXH3_128bits(h->p, h->len));
	cachefile_hex16(c.digest, out);
	if (h->p != h->small)
		free(h->p);
}

/* The digests of the empty "env" and "deps" lists, which most checks
 * have (a task without variables or deps): worked out once. */
static char empty_env[HEX_LEN + 1], empty_deps[HEX_LEN + 1];
static pthread_once_t empty_once = PTHREAD_ONCE_INIT;

static void list_hex_of(const char *tag, const struct strlist *l, char out[HEX_LEN + 1]);

static void make_empty(void)
{
	struct strlist none = {0};
	list_hex_of("env", &none, empty_env);
	list_hex_of("deps", &none, empty_deps);
}

static void list_hex(const char *tag, const struct strlist *l, char out[HEX_LEN + 1])
{
	bool env = strcmp(tag, "env") == 0;
	if (l->n == 0 && (env || strcmp(tag, "deps") == 0)) {
		pthread_once(&empty_once, make_empty);
		memcpy(out, env ? empty_env : empty_deps, HEX_LEN + 1);
		return;
	}
	list_hex_of(tag, l, out);
}

static void list_hex_of(const char *tag, const struct strlist *l, char out[HEX_LEN + 1])
{
	struct hin h;
	hin_init(&h);
	hin_str(&h, tag, strlen(tag));
	for (size_t i = 0; i < l->n; i++)
		hin_str(&h, l->v[i], strlen(l->v[i]));
	hin_hex(&h, out);
}

static int64_t ts_ns(struct timespec t)
{
	return timespec_ns(t);
}

static int64_t realtime_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return ts_ns(t);
}

/* The records and the state on disk are cachefile.c's; a check only
 * sets how far it trusts them. */

struct cache *cache_load(const char *dir, char **warning)
{
	struct cache *c = cachefile_load(dir, warning);
	c->racy_ns = DEFAULT_RACY_NS;
	return c;
}

void cache_free(struct cache *c)
{
	if (c)
		statcache_unref(c->stats);
	cachefile_free(c);
}

int cache_save(struct cache *c)
{
	return cachefile_save(c);
}

void cache_share(struct cache *c, int lock_fd)
{
	c->lock_fd = lock_fd;
	/* Journal lines need a state to name. */
	if (!c->id[0]) {
		c->dirty = true;
		cachefile_save(c);
	}
}

void cache_refresh(struct cache *c, const char *name)
{
	cache_stats_end(c);
	if (c->lock_fd >= 0)
		cachefile_refresh(c, name);
}

bool cache_unmoved(struct cache *c)
{
	return cachefile_unmoved(c);
}

void cache_stats_begin(struct cache *c)
{
	if (!c->stats)
		c->stats = statcache_new();
}

bool cache_stats_on(const struct cache *c)
{
	return c->stats != NULL;
}

void cache_stats_end(struct cache *c)
{
	if (!c->stats)
		return;
	/* Checks still running hold it: off for them as well. */
	statcache_off(c->stats);
	statcache_unref(c->stats);
	c->stats = NULL;
}

/* Whether a and b would be saved alike: FROM_PATTERN is not kept on disk
 * (a source that the depfile names too is saved as "dep"), so comparing
 * it would make every no-op run rewrite the state. */
static bool files_equal(const struct files *a, const struct files *b)
{
	if (a == b)
		return true;
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct fentry *x = &a->v[i], *y = &b->v[i];
		if (strcmp(x->path, y->path) != 0 || x->size != y->size || x->mtime != y->mtime ||
		    x->ctime != y->ctime || x->ino != y->ino || x->dev != y->dev || x->verified != y->verified ||
		    (x->from & FROM_DEPFILE) != (y->from & FROM_DEPFILE) || memcmp(x->hash, y->hash, 16) != 0)
			return false;
	}
	return true;
}

void cache_ignore_state(struct cache *c)
{
	c->ignore = true;
}

void cache_set_racy_window(struct cache *c, int64_t ns)
{
	c->racy_ns = ns < 0 ? 0 : ns;
}

/* Checks. */

static int by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void copy_list(struct strlist *dst, const char *const *v, size_t n, bool sort)
{
	for (size_t i = 0; i < n; i++)
		strlist_add(dst, v[i]);
	if (sort && dst->n > 1)
		qsort(dst->v, dst->n, sizeof *dst->v, by_str);
}

static bool all_plain(const struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (!glob_is_plain(l->v[i]))
			return false;
	return true;
}

static bool all_shallow(const struct strlist *a, const struct strlist *b)
{
	for (size_t i = 0; i < a->n + b->n; i++)
		if (!glob_is_shallow(i < a->n ? a->v[i] : b->v[i - a->n]))
			return false;
	return true;
}

/* k's lists to build, empty. An entry that stays as recorded borrows
 * the record's path: they hold the record's lists (taken here, on the
 * loop thread, where references are counted). */
static void new_lists(struct cache_check *k)
{
	k->files = files_new(k->old->n);
	k->files->base = files_ref(k->old);
	k->outs = files_new(k->old_outs->n);
	k->outs->base = files_ref(k->old_outs);
	k->kept_files = k->kept_outs = 0;
}

struct cache_check *cache_check_new(const struct cache *c, const struct cache_task *t)
{
	struct cache_check *k = xcalloc(1, sizeof *k);
	k->name = xstrdup(t->name);
	k->dir = t->dir && *t->dir ? xstrdup(t->dir) : NULL;
	k->command = t->command ? xstrdup(t->command) : NULL;
	copy_list(&k->sources, t->sources, t->nsources, false);
	copy_list(&k->outputs, t->outputs, t->noutputs, false);
	copy_list(&k->env, t->env, t->nenv, true);
	copy_list(&k->deps, t->deps, t->ndeps, true);
	k->plain_sources = all_plain(&k->sources);
	k->plain_outputs = all_plain(&k->outputs);
	k->shallow = (k->plain_sources && k->plain_outputs) || all_shallow(&k->sources, &k->outputs);
	const struct record *r = hashtab_get(c->byname, t->name);
	k->old = r && !c->ignore ? files_ref(r->files) : files_new(0);
	k->old_outs = r && r->ok && !c->ignore ? files_ref(r->outs) : files_new(0);
	k->old_ok = r && r->ok && !c->ignore;
	if (k->old_ok) {
		memcpy(k->old_fp, r->fp, sizeof k->old_fp);
		memcpy(k->old_cmd, r->cmd, sizeof k->old_cmd);
		memcpy(k->old_env, r->env, sizeof k->old_env);
		memcpy(k->old_deps, r->deps, sizeof k->old_deps);
	}
	new_lists(k);
	k->stats = c->stats ? statcache_ref(c->stats) : NULL;
	k->racy_ns = c->racy_ns;
	return k;
}

/* An array of n strings (and room for one more) as a list, taken whole. */
static void take_list(struct strlist *l, char **v, size_t n)
{
	strlist_release(l);
	l->v = v;
	l->n = n;
	l->cap = n + 1;
}

void cache_check_take(struct cache_check *k, char *command, char **sources, size_t nsources, char **outputs,
		      size_t noutputs)
{
	free(k->command);
	k->command = command;
	take_list(&k->sources, sources, nsources);
	take_list(&k->outputs, outputs, noutputs);
	k->plain_sources = all_plain(&k->sources);
	k->plain_outputs = all_plain(&k->outputs);
	k->shallow = (k->plain_sources && k->plain_outputs) || all_shallow(&k->sources, &k->outputs);
}

void cache_check_free(struct cache_check *k)
{
	if (!k)
		return;
	free(k->name);
	free(k->dir);
	free(k->command);
	strlist_release(&k->sources);
	strlist_release(&k->outputs);
	strlist_release(&k->env);
	strlist_release(&k->deps);
	files_unref(k->old);
	files_unref(k->old_outs);
	files_unref(k->files);
	files_unref(k->outs);
	statcache_unref(k->stats);
	free(k->missing);
	free(k->error);
	free(k->why);
	free(k);
}

static void stat_into(struct fentry *e, const struct stat *st)
{
	e->size = st->st_size;
	e->mtime = ts_ns(st->st_mtim);
	e->ctime = ts_ns(st->st_ctim);
	e->ino = st->st_ino;
	e->dev = st->st_dev;
}

/* Hashes the file at path into e (stat data from the open file, taken
 * before reading, so a write during the read shows next time). Returns 0,
 * 1 when it is gone or no longer a regular file, or -errno. */
static int hash_file(const char *path, struct fentry *e, char *buf)
{
	int fd = open_read(path);
	if (fd < 0)
		return fd == -ENOENT || fd == -ENOTDIR ? 1 : fd;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return 1;
	}
	stat_into(e, &st);
	XXH3_state_t *s = XXH3_createState();
	if (!s)
		abort();
	XXH3_128bits_reset(s);
	for (;;) {
		if (cancel_raised()) {
			XXH3_freeState(s);
			close(fd);
			return -ECANCELED;
		}
		ssize_t n = read(fd, buf, READ_SIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;
			XXH3_freeState(s);
			close(fd);
			return err;
		}
		if (n == 0)
			break;
		XXH3_128bits_update(s, buf, (size_t)n);
	}
	close(fd);
	XXH128_canonical_t c;
	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(s));
	XXH3_freeState(s);
	memcpy(e->hash, c.digest, 16);
	return 0;
}

static bool same_stat(const struct fentry *a, const struct stat *st)
{
	return a->size == st->st_size && a->mtime == ts_ns(st->st_mtim) && a->ctime == ts_ns(st->st_ctim) &&
	       a->ino == st->st_ino && a->dev == st->st_dev;
}

/* A fresh entry for a path that is no regular file (an output directory):
 * only that it exists counts. */
static void add_other(struct files *f, const char *name, const struct stat *st)
{
	struct fentry e = {.path = xstrdup(name), .size = -1, .ino = st->st_ino, .dev = st->st_dev};
	files_add(f, &e);
}

/* Stats (and if need be hashes) the file name, full being where it is,
 * into the list to (sorted, as o, the recorded entries it is compared
 * with, whose cursor is *cur). Returns 0 (a missing file or one that is
 * not a regular file adds nothing), or -errno. */
static int add_file(struct cache_check *k, const struct files *o, struct files *to, const char *name,
                    const char *full, size_t *cur, int64_t now, char **buf)
{
	struct stat st;
	if ((k->stats && !k->settling ? statcache_stat(k->stats, full, &st) : stat(full, &st)) < 0) {
		int err = errno;
		/* A plain name comes here unglobbed: where it is no path at
		 * all (not even a dangling link), it is absent, as a pattern
		 * that matched nothing. */
		return err == ENOENT || err == ENOTDIR || lstat(full, &st) < 0 ? 0 : -err;
	}
	if (!S_ISREG(st.st_mode)) {
		if (to == k->outs)
			add_other(to, name, &st);
		return 0;
	}
	/* Both lists are sorted: walk the old one along. */
	int cmp = 1;
	while (*cur < o->n && (cmp = strcmp(o->v[*cur].path, name)) < 0)
		++*cur;
	const struct fentry *old = cmp == 0 ? &o->v[*cur] : NULL;
	struct fentry e;
	/* Stat data is trusted only if the file's last change lies a whole
	 * racy window before its hash was taken; else a second write in the
	 * same timestamp tick would go unseen. */
	if (old && same_stat(old, &st) && old->mtime < old->verified - k->racy_ns &&
	    old->ctime < old->verified - k->racy_ns) {
		e = *old;
		/* o is to's base (new_lists), or has no entries. */
		e.borrowed = true;
		if (to == k->outs)
			k->kept_outs++;
	} else {
		if (k->stat_only) {
			k->needs_hash = true;
			return -EAGAIN;
		}
		if (!*buf)
			*buf = xmalloc(READ_SIZE);
		int r = hash_file(full, &e, *buf);
		if (r)
			return r > 0 ? 0 : r;
		e.verified = now;
		e.path = xstrdup(name);
		e.borrowed = false;
		if (to == k->files)
			k->hashed++;
	}
	/* A kept entry keeps where it came from for check_sources() to
	 * compare; it sets it anew. */
	if (!e.borrowed)
		e.from = 0;
	files_add(to, &e);
	return 0;
}

/* k's dir/name, in full (a buffer the caller releases), or name itself. */
static const char *full_path(const struct cache_check *k, const char *name, struct buf *full)
{
	if (!k->dir || *name == '/')
		return name;
	buf_reset(full);
	buf_addf(full, "%s/%s", k->dir, name);
	return full->p;
}

/* Appends what pattern matches to out, as names relative to the task's
 * dir. Returns 0 or -errno. */
static int expand(const struct cache_check *k, const char *pattern, struct strlist *out)
{
	return glob_expand_in(k->dir, pattern, out);
}

static bool sorted(const struct strlist *l)
{
	for (size_t i = 1; i < l->n; i++)
		if (strcmp(l->v[i - 1], l->v[i]) > 0)
			return false;
	return true;
}

/* The sources: what the patterns match, and the files the depfile of the
 * last successful run named. */
static void check_sources(struct cache_check *k)
{
	int64_t now = k->checked_ns;
	struct strlist all = { 0 };
	/* Plain names in order (an item's one source, mostly) are looked at
	 * as they are; else the names are gathered, sorted, in a list of
	 * their own. */
	bool view = k->plain_sources && sorted(&k->sources);
	if (view)
		all = k->sources;
	for (size_t i = 0; !view && i < k->sources.n; i++) {
		/* A plain name needs no lstat() before add_file()'s stat(). */
		if (glob_is_plain(k->sources.v[i])) {
			strlist_add(&all, k->sources.v[i]);
			continue;
		}
		int err = expand(k, k->sources.v[i], &all);
		if (err) {
			k->error = xasprintf("cannot read sources '%s': %s", k->sources.v[i], strerror(-err));
			strlist_release(&all);
			return;
		}
	}
	/* One pattern comes sorted from glob_expand(). */
	if (!view && !sorted(&all))
		qsort(all.v, all.n, sizeof *all.v, by_str);
	char *buf = NULL;
	size_t cur = 0, i = 0, d = 0;
	const struct files *o = k->old;
	struct buf full;
	buf_init(&full);
	while (i < all.n || d < o->n) {
		/* The next name of the two sorted lists, and where it is from. */
		if (d < o->n && !(o->v[d].from & FROM_DEPFILE)) {
			d++;
			continue;
		}
		if (i > 0 && i < all.n && strcmp(all.v[i - 1], all.v[i]) == 0) {
			i++;
			continue;
		}
		int cmp = i == all.n ? 1 : d == o->n ? -1 : strcmp(all.v[i], o->v[d].path);
		const char *name = cmp <= 0 ? all.v[i] : o->v[d].path;
		unsigned from = (cmp <= 0 ? FROM_PATTERN : 0) | (cmp >= 0 ? FROM_DEPFILE : 0);
		i += cmp <= 0;
		d += cmp >= 0;
		size_t before = k->files->n;
		int err = cancel_raised() ? -ECANCELED
					  : add_file(k, o, k->files, name, full_path(k, name, &full), &cur, now, &buf);
		if (err) {
			k->error = xasprintf("cannot read source '%s': %s", name, strerror(-err));
			break;
		}
		if (k->files->n > before) {
			struct fentry *e = &k->files->v[before];
			/* Unchanged, where it came from too (a file the depfile
			 * names is recorded as such). */
			k->kept_files += e->borrowed && (e->from & FROM_DEPFILE) == (from & FROM_DEPFILE);
			e->from = from;
		}
	}
	buf_release(&full);
	free(buf);
	if (!view)
		strlist_release(&all);
}

bool cache_check_sources_changed(const struct cache_check *k)
{
	if (!k->done || k->error || !k->files)
		return false;
	struct buf full;
	buf_init(&full);
	bool changed = false;
	for (size_t i = 0; i < k->files->n && !changed; i++) {
		const struct fentry *e = &k->files->v[i];
		struct stat st;
		changed = stat(full_path(k, e->path, &full), &st) < 0 || !same_stat(e, &st);
	}
	buf_release(&full);
	return changed;
}

/* Each recorded output still exists with its content: a regular file's
 * is hashed when its stat data changed, as sources are. Sets k->missing
 * on the first one that does not. */
static void check_recorded_outputs(struct cache_check *k)
{
	const struct files *o = k->old_outs;
	char *buf = NULL;
	size_t cur = 0;
	struct buf full;
	buf_init(&full);
	for (size_t i = 0; i < o->n && !k->missing; i++) {
		const struct fentry *e = &o->v[i];
		size_t before = k->outs->n;
		int err = add_file(k, o, k->outs, e->path, full_path(k, e->path, &full), &cur, k->checked_ns, &buf);
		const struct fentry *now = k->outs->n > before ? &k->outs->v[before] : NULL;
		if (err || !now)
			k->missing = xasprintf("output '%s' is missing", e->path);
		else if ((now->size < 0) != (e->size < 0) || memcmp(now->hash, e->hash, 16) != 0)
			k->missing = xasprintf("output '%s' changed", e->path);
	}
	buf_release(&full);
	free(buf);
}

static int by_fentry_path(const void *key, const void *e)
{
	return strcmp(key, ((const struct fentry *)e)->path);
}

static void check_outputs(struct cache_check *k)
{
	const struct files *o = k->old_outs;
	for (size_t i = 0; i < k->outputs.n && !k->missing; i++) {
		const char *p = k->outputs.v[i];
		/* A plain name the last success left is looked at, once, by
		 * check_recorded_outputs(). */
		if (o->n && (k->plain_outputs || glob_is_plain(p)) && bsearch(p, o->v, o->n, sizeof *o->v, by_fentry_path))
			continue;
		struct strlist found = { 0 };
		expand(k, p, &found);
		if (found.n == 0)
			k->missing = glob_is_pattern(p) ? xasprintf("no output matches '%s'", p)
			                                : xasprintf("output '%s' is missing", p);
		strlist_release(&found);
	}
}

/* Whether k's sources, or outputs, are the record's as k took them,
 * entry for entry (paths, hashes, stat data, a depfile's files as such). */
static bool files_as_old(const struct cache_check *k)
{
	return k->kept_files == k->old->n && k->files->n == k->old->n;
}

static bool outs_as_old(const struct cache_check *k)
{
	return k->kept_outs == k->old_outs->n && k->outs->n == k->old_outs->n;
}

/* k->fp from the sources' hashes and the other parts' hashes. */
static void fingerprint(struct cache_check *k)
{
	struct hin h;
	hin_init(&h);
	hin_str(&h, "weft-fingerprint-1", 18);
	for (size_t i = 0; i < k->files->n; i++) {
		const struct fentry *e = &k->files->v[i];
		hin_str(&h, e->path, strlen(e->path));
		hin_add(&h, e->hash, 16);
	}
	hin_str(&h, "", 0); /* ends the files */
	hin_add(&h, k->cmd, HEX_LEN);
	hin_add(&h, k->envh, HEX_LEN);
	hin_add(&h, k->depsh, HEX_LEN);
	hin_hex(&h, k->fp);
}

bool cache_check_try(struct cache_check *k, size_t max_files)
{
	if (k->done)
		abort();
	if (k->old->n + k->old_outs->n > max_files || !k->shallow)
		return false;
	k->stat_only = true;
	cache_check_run(k);
	k->stat_only = false;
	if (!k->needs_hash)
		return true;
	/* As it was: cache_check_run() again, on any thread. */
	k->needs_hash = k->done = false;
	k->hashed = 0;
	files_unref(k->files);
	files_unref(k->outs);
	new_lists(k);
	free(k->missing);
	free(k->error);
	k->missing = k->error = NULL;
	return false;
}

void cache_check_run(struct cache_check *k)
{
	if (k->done)
		abort();
	k->checked_ns = realtime_ns();
	check_sources(k);
	if (!k->error) {
		/* The command, borrowed as a list of one (or none). */
		char *one[] = {k->command};
		struct strlist cmd = {.v = one, .n = k->command != NULL};
		list_hex("command", &cmd, k->cmd);
		list_hex("env", &k->env, k->envh);
		list_hex("deps", &k->deps, k->depsh);
		/* The record's files, command, environment and dependencies:
		 * its fingerprint, which they made (a no-op's every check). */
		if (k->old_ok && files_as_old(k) && strcmp(k->cmd, k->old_cmd) == 0 &&
		    strcmp(k->envh, k->old_env) == 0 && strcmp(k->depsh, k->old_deps) == 0)
			memcpy(k->fp, k->old_fp, sizeof k->fp);
		else
			fingerprint(k);
	}
	check_outputs(k);
	if (!k->missing)
		check_recorded_outputs(k);
	k->done = true;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct fentry *)a)->path, ((const struct fentry *)b)->path);
}

/* The sources after a run: the patterns' files as measured before it,
 * and the files the depfile names, hashed now. A file the depfile brings
 * in that changed after the check began may be newer than what the
 * command read: k->changed then. */
static void settle_sources(struct cache_check *k, const struct strlist *deps, char **buf)
{
	struct files *f = files_new(k->files->n + deps->n);
	struct hashtab *at = hashtab_new();
	for (size_t i = 0; i < k->files->n; i++) {
		const struct fentry *e = &k->files->v[i];
		hashtab_put(at, e->path, (void *)e);
		if (!(e->from & FROM_PATTERN))
			continue;
		struct fentry c = *e;
		c.path = xstrdup(e->path);
		c.borrowed = false;
		c.from = FROM_PATTERN;
		files_add(f, &c);
	}
	struct buf full;
	buf_init(&full);
	struct hashtab *added = hashtab_new();
	for (size_t i = 0; i < deps->n && !k->changed; i++) {
		const char *name = deps->v[i];
		const struct fentry *e = hashtab_get(at, name);
		if (hashtab_get(added, name))
			continue;
		hashtab_put(added, name, (void *)name);
		if (e && (e->from & FROM_PATTERN)) {
			for (size_t j = 0; j < f->n; j++)
				if (strcmp(f->v[j].path, name) == 0)
					f->v[j].from |= FROM_DEPFILE;
			continue;
		}
		struct fentry c;
		if (e) {
			/* Measured by the check; cache_check_sources_changed() saw it stay. */
			c = *e;
			c.path = xstrdup(e->path);
			c.borrowed = false;
		} else {
			if (!*buf)
				*buf = xmalloc(READ_SIZE);
			int64_t now = realtime_ns();
			int r = hash_file(full_path(k, name, &full), &c, *buf);
			if (r == -ECANCELED)
				break; /* cache_check_settle() says so */
			if (r)
				continue; /* gone, or no file: nothing to record */
			k->hashed++;
			c.verified = now;
			c.path = xstrdup(name);
			c.borrowed = false;
			if (c.mtime >= k->checked_ns || c.ctime >= k->checked_ns)
				k->changed = true;
		}
		c.from = FROM_DEPFILE;
		files_add(f, &c);
	}
	hashtab_free(added);
	hashtab_free(at);
	buf_release(&full);
	if (f->n > 1)
		qsort(f->v, f->n, sizeof *f->v, by_path);
	files_unref(k->files);
	k->files = f;
}

/* What the outputs patterns match now, hashed. */
static void settle_outputs(struct cache_check *k, char **buf)
{
	struct strlist all = {0};
	for (size_t i = 0; i < k->outputs.n; i++)
		expand(k, k->outputs.v[i], &all);
	if (!sorted(&all))
		qsort(all.v, all.n, sizeof *all.v, by_str);
	files_unref(k->outs);
	k->outs = files_new(all.n);
	struct files none = {0};
	size_t cur = 0;
	int64_t now = realtime_ns();
	struct buf full;
	buf_init(&full);
	for (size_t i = 0; i < all.n; i++) {
		if (i > 0 && strcmp(all.v[i - 1], all.v[i]) == 0)
			continue;
		/* Compared with nothing: every output is hashed afresh. */
		add_file(k, &none, k->outs, all.v[i], full_path(k, all.v[i], &full), &cur, now, buf);
	}
	buf_release(&full);
	strlist_release(&all);
}

void cache_check_settle(struct cache_check *k, const struct strlist *deps)
{
	if (!k->done || k->error)
		return;
	k->settling = true;
	/* The lists are made anew below: nothing of them is kept as the
	 * record's any longer. */
	k->kept_files = k->kept_outs = 0;
	k->changed = cache_check_sources_changed(k);
	char *buf = NULL;
	static const struct strlist no_deps;
	settle_sources(k, deps ? deps : &no_deps, &buf);
	fingerprint(k);
	settle_outputs(k, &buf);
	free(buf);
}

bool cache_check_changed(const struct cache_check *k)
{
	return k->changed;
}

const char *cache_check_fingerprint(const struct cache_check *k)
{
	return k->done && !k->error ? k->fp : NULL;
}

const char *cache_check_error(const struct cache_check *k)
{
	return k->error;
}

size_t cache_check_hashed(const struct cache_check *k)
{
	return k->hashed;
}

size_t cache_check_nsources(const struct cache_check *k)
{
	return k->files->n;
}

/* Decisions. */

/* The first source that differs between the record and the check. */
static char *source_change(const struct record *r, const struct cache_check *k)
{
	const struct files *a = r->files, *b = k->files;
	size_t i = 0, j = 0, n = 0;
	char *first = NULL;
	while (i < a->n || j < b->n) {
		int cmp = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->v[i].path, b->v[j].path);
		char *what = NULL;
		if (cmp < 0) {
			what = xasprintf("source '%s' removed", a->v[i++].path);
		} else if (cmp > 0) {
			what = xasprintf("source '%s' added", b->v[j++].path);
		} else {
			if (memcmp(a->v[i].hash, b->v[j].hash, 16) != 0)
				what = xasprintf("source '%s' changed", b->v[j].path);
			i++;
			j++;
		}
		if (!what)
			continue;
		if (n++ == 0)
			first = what;
		else
			free(what);
	}
	if (n > 1) {
		char *more = xasprintf("%s (and %zu more)", first, n - 1);
		free(first);
		first = more;
	}
	return first;
}

const char *cache_fresh(const struct cache *c, struct cache_check *k, bool *fresh)
{
	if (!k->done)
		abort();
	free(k->why);
	k->why = NULL;
	*fresh = false;
	/* Fixed reasons are not copied: a no-op asks twice per item. */
	const struct record *r = hashtab_get(c->byname, k->name);
	if (c->ignore)
		return "-B given";
	if (k->error)
		return k->error;
	if (!r)
		return "never ran";
	if (!r->ok)
		return "last run failed or was interrupted";
	if (strcmp(r->fp, k->fp) != 0) {
		if (strcmp(r->cmd, k->cmd) != 0)
			return "command changed";
		if (strcmp(r->env, k->envh) != 0)
			return "environment changed";
		if (strcmp(r->deps, k->depsh) != 0)
			return "a dependency changed";
		k->why = source_change(r, k);
		return k->why ? k->why : "fingerprint changed";
	}
	if (k->missing)
		return k->missing;
	*fresh = true;
	return "up to date";
}

/* Gives r k's hashes and stat data. */
static void take_check(struct record *r, const struct cache_check *k)
{
	memcpy(r->cmd, k->cmd, sizeof r->cmd);
	memcpy(r->env, k->envh, sizeof r->env);
	memcpy(r->deps, k->depsh, sizeof r->deps);
	files_unref(r->files);
	r->files = files_ref(k->files);
	files_unref(r->outs);
	r->outs = files_ref(k->outs);
}


int cache_forget(struct cache *c, const struct cache_check *k)
{
	struct record *r = record_get(c, k->name);
	r->named = true;
	r->ok = false;
	r->fp[0] = '\0';
	if (k->done && !k->error)
		take_check(r, k);
	c->dirty = true;
	/* Nothing to withdraw when .weft/ holds no success of it: shared,
	 * another run may have recorded one since the load, unless .weft/ is
	 * as this run last saw it (and none can while the caller holds the
	 * task's lock). A build's every job saved its line and a sync. */
	if (!r->disk_ok && (c->lock_fd < 0 || cachefile_unmoved(c)))
		return 0;
	int err = cachefile_forget(c, r->name);
	/* Then the state itself must say it: slower, as safe. */
	if (err) {
		r->pending = true;
		err = cache_save(c);
	}
	if (!err)
		r->disk_ok = false;
	return err;
}

void cache_record(struct cache *c, const struct cache_check *k)
{
	if (!k->done || k->error)
		return;
	struct record *r = record_get(c, k->name);
	r->named = true;
	if (r->ok && strcmp(r->fp, k->fp) == 0 && strcmp(r->cmd, k->cmd) == 0 && strcmp(r->env, k->envh) == 0 &&
	    strcmp(r->deps, k->depsh) == 0 && ((r->files == k->old && files_as_old(k)) || files_equal(r->files, k->files)) &&
	    ((r->outs == k->old_outs && outs_as_old(k)) || files_equal(r->outs, k->outs)))
		return;
	bool same = r->ok && strcmp(r->fp, k->fp) == 0;
	r->ok = true;
	r->pending = false;
	memcpy(r->fp, k->fp, sizeof r->fp);
	take_check(r, k);
	c->dirty = true;
	/* A success another run may wait for; fresher stat data can wait
	 * for the save. On disk now: a later cache_forget() of it in this
	 * run must withdraw it. */
	if (c->lock_fd >= 0 && !same && cachefile_journal_record(c, r) == 0)
		r->disk_ok = true;
}

void cache_name(struct cache *c, const char *name)
{
	struct record *r = hashtab_get(c->byname, name);
	if (r)
		r->named = true;
}

void cache_prune(struct cache *c, bool (*gone)(const char *name, void *ud), void *ud)
{
	cachefile_prune(c, gone, ud);
}
