/* stat() results shared by the up-to-date checks of one run, so that a file many checks look at is stat()ed once, until the run's first job may write. */
#include "statcache.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
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

/* A shard's table: open addressing by the path's hash, which also picks
 * the shard, so that a lookup hashes the path once (a no-op run looks up
 * a few thousand). */
struct slot {
	uint64_t hash;
	struct entry *e; /* NULL: empty */
};

struct shard {
	pthread_mutex_t mu;
	struct slot *slots;  /* NULL: none yet, or forgotten */
	size_t cap, n;       /* cap: a power of two */
	bool forgotten;
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
	for (int i = 0; i < NSHARDS; i++)
		pthread_mutex_init(&sc->shards[i].mu, &a);
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
	for (size_t i = 0; i < sh->cap; i++)
		free(sh->slots[i].e);
	free(sh->slots);
	sh->slots = NULL;
	sh->cap = sh->n = 0;
	sh->forgotten = true;
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

/* Under sh->mu, with a table: path's slot, or the empty one where it goes. */
static struct slot *find(struct shard *sh, uint64_t h, const char *path)
{
	size_t mask = sh->cap - 1, i = (size_t)(h >> 4) & mask;
	while (sh->slots[i].e && (sh->slots[i].hash != h || strcmp(sh->slots[i].e->path, path) != 0))
		i = (i + 1) & mask;
	return &sh->slots[i];
}

/* Under sh->mu: e goes in, unless the table was forgotten. */
static void put(struct shard *sh, uint64_t h, struct entry *e)
{
	if ((sh->n + 1) * 2 > sh->cap) {
		struct slot *old = sh->slots;
		size_t oldcap = sh->cap;
		sh->cap = oldcap ? oldcap * 2 : 64;
		sh->slots = xcalloc(sh->cap, sizeof *sh->slots);
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].e)
				*find(sh, old[i].hash, old[i].e->path) = old[i];
		free(old);
	}
	struct slot *s = find(sh, h, e->path);
	s->hash = h;
	s->e = e;
	sh->n++;
}

int statcache_stat(struct statcache *sc, const char *path, struct stat *st)
{
	if (atomic_load(&sc->off))
		return stat(path, st);
	uint64_t h = hashtab_hash(path);
	struct shard *sh = &sc->shards[h % NSHARDS];
	pthread_mutex_lock(&sh->mu);
	/* None once off: forgotten. */
	const struct entry *e = sh->slots ? find(sh, h, path)->e : NULL;
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
	if (sh->forgotten || atomic_load(&sc->off) || (sh->slots && find(sh, h, path)->e))
		free(n);
	else
		put(sh, h, n);
	pthread_mutex_unlock(&sh->mu);
	errno = err;
	return r;
}
