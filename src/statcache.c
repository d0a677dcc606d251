/* stat() results shared by the up-to-date checks of one run, so that a file many checks look at is stat()ed once, until the run's first job may write. */
#include "statcache.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hashtab.h"
#include "util.h"

/*
 * An answer is as good as a stat() made when it was first asked for: a
 * check that uses it is the check it would have been a moment earlier.
 * That holds as long as nothing the run is ordered after has written the
 * file since, which is why the cache goes off before the run's first job
 * starts and when another run's record is read (see cache.h).
 */

struct entry {
	int err; /* 0, or stat()'s errno */
	struct stat st;
	char path[];
};

/* Paths are spread over shards, each with its lock, so that the pool's
 * threads seldom wait for each other (a wait is two futex calls). */
#define NSHARDS 16

struct shard {
	pthread_mutex_t mu;
	struct hashtab *byname; /* borrows the entries' paths */
	struct entry **v;
	size_t n, cap;
};

struct statcache {
	unsigned refs;
	atomic_bool off;
	struct shard shards[NSHARDS];
};

struct statcache *statcache_new(void)
{
	struct statcache *sc = xcalloc(1, sizeof *sc);
	sc->refs = 1;
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	/* Held for a lookup only: spinning a little beats sleeping. */
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
	for (int i = 0; i < NSHARDS; i++) {
		pthread_mutex_init(&sc->shards[i].mu, &a);
		sc->shards[i].byname = hashtab_new();
	}
	pthread_mutexattr_destroy(&a);
	return sc;
}

struct statcache *statcache_ref(struct statcache *sc)
{
	sc->refs++;
	return sc;
}

/* Under sh->mu. */
static void forget(struct shard *sh)
{
	for (size_t i = 0; i < sh->n; i++)
		free(sh->v[i]);
	free(sh->v);
	sh->v = NULL;
	sh->n = sh->cap = 0;
	hashtab_free(sh->byname);
	sh->byname = NULL;
}

void statcache_unref(struct statcache *sc)
{
	if (!sc || --sc->refs)
		return;
	for (int i = 0; i < NSHARDS; i++) {
		forget(&sc->shards[i]);
		pthread_mutex_destroy(&sc->shards[i].mu);
	}
	free(sc);
}

void statcache_off(struct statcache *sc)
{
	atomic_store(&sc->off, true);
	for (int i = 0; i < NSHARDS; i++) {
		pthread_mutex_lock(&sc->shards[i].mu);
		forget(&sc->shards[i]);
		pthread_mutex_unlock(&sc->shards[i].mu);
	}
}

static struct shard *shard_of(struct statcache *sc, const char *path)
{
	unsigned h = 0;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		h = h * 31 + *p;
	return &sc->shards[h % NSHARDS];
}

int statcache_stat(struct statcache *sc, const char *path, struct stat *st)
{
	if (atomic_load(&sc->off))
		return stat(path, st);
	struct shard *sh = shard_of(sc, path);
	pthread_mutex_lock(&sh->mu);
	/* NULL once off: forgotten. */
	const struct entry *e = sh->byname ? hashtab_get(sh->byname, path) : NULL;
	int err = 0;
	if (e) {
		*st = e->st;
		err = e->err;
	}
	pthread_mutex_unlock(&sh->mu);
	if (e) {
		errno = err;
		return err ? -1 : 0;
	}
	int r = stat(path, st);
	err = r < 0 ? errno : 0;
	if (r < 0)
		memset(st, 0, sizeof *st);
	size_t len = strlen(path);
	struct entry *n = xmalloc(sizeof *n + len + 1);
	n->err = err;
	n->st = *st;
	memcpy(n->path, path, len + 1);
	pthread_mutex_lock(&sh->mu);
	/* Another thread may have asked for it meanwhile: the first answer
	 * stays. Off meanwhile: nothing is kept. */
	if (!sh->byname || atomic_load(&sc->off) || hashtab_get(sh->byname, path)) {
		free(n);
	} else {
		grow(&sh->v, &sh->cap, sh->n + 1, sizeof *sh->v);
		sh->v[sh->n++] = n;
		hashtab_put(sh->byname, n->path, n);
	}
	pthread_mutex_unlock(&sh->mu);
	errno = err;
	return r;
}
