/* stat() results shared by the up-to-date checks of one run, so that a file many checks look at is stat()ed once, until the run's first job may write. */
#include "statcache.h"

#include <errno.h>
#include <pthread.h>
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

struct statcache {
	unsigned refs;
	pthread_mutex_t mu;
	bool off;
	struct hashtab *byname; /* borrows the entries' paths */
	struct entry **v;
	size_t n, cap;
};

struct statcache *statcache_new(void)
{
	struct statcache *sc = xcalloc(1, sizeof *sc);
	sc->refs = 1;
	pthread_mutex_init(&sc->mu, NULL);
	sc->byname = hashtab_new();
	return sc;
}

struct statcache *statcache_ref(struct statcache *sc)
{
	sc->refs++;
	return sc;
}

/* Under sc->mu. */
static void forget(struct statcache *sc)
{
	for (size_t i = 0; i < sc->n; i++)
		free(sc->v[i]);
	free(sc->v);
	sc->v = NULL;
	sc->n = sc->cap = 0;
	hashtab_free(sc->byname);
	sc->byname = NULL;
}

void statcache_unref(struct statcache *sc)
{
	if (!sc || --sc->refs)
		return;
	forget(sc);
	pthread_mutex_destroy(&sc->mu);
	free(sc);
}

void statcache_off(struct statcache *sc)
{
	pthread_mutex_lock(&sc->mu);
	sc->off = true;
	forget(sc);
	pthread_mutex_unlock(&sc->mu);
}

/* The answer for path, copied to *st; -1 when there is none. */
static int lookup(struct statcache *sc, const char *path, struct stat *st, int *err)
{
	const struct entry *e = sc->off ? NULL : hashtab_get(sc->byname, path);
	if (!e)
		return -1;
	*st = e->st;
	*err = e->err;
	return 0;
}

int statcache_stat(struct statcache *sc, const char *path, struct stat *st)
{
	int err;
	pthread_mutex_lock(&sc->mu);
	bool off = sc->off, hit = lookup(sc, path, st, &err) == 0;
	pthread_mutex_unlock(&sc->mu);
	if (hit) {
		errno = err;
		return err ? -1 : 0;
	}
	int r = stat(path, st);
	if (off)
		return r;
	err = r < 0 ? errno : 0;
	if (r < 0)
		memset(st, 0, sizeof *st);
	size_t len = strlen(path);
	struct entry *e = xmalloc(sizeof *e + len + 1);
	e->err = err;
	e->st = *st;
	memcpy(e->path, path, len + 1);
	pthread_mutex_lock(&sc->mu);
	/* Another thread may have asked for it meanwhile: the first answer stays. */
	if (sc->off || hashtab_get(sc->byname, path)) {
		free(e);
		e = NULL;
	} else {
		grow(&sc->v, &sc->cap, sc->n + 1, sizeof *sc->v);
		sc->v[sc->n++] = e;
		hashtab_put(sc->byname, e->path, e);
	}
	pthread_mutex_unlock(&sc->mu);
	errno = err;
	return r;
}
