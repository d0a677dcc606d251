/* stat() results shared by the up-to-date checks of one run, so that a file many checks look at (a header that hundreds of depfiles name) is stat()ed once, until the run's first job may write. */
#ifndef WEFT_STATCACHE_H
#define WEFT_STATCACHE_H

#include <sys/stat.h>

struct statcache;

/* A new cache, on, with one reference. statcache_ref() adds one and
 * statcache_unref() drops one (NULL is fine) and frees it at the last.
 * References are counted on one thread (the loop's). */
struct statcache *statcache_new(void);
struct statcache *statcache_ref(struct statcache *sc);
void statcache_unref(struct statcache *sc);

/* stat(path): while the cache is on, the answer the first call for path
 * got (a failure too), else a plain stat() of the file now. Returns 0 or
 * -1 with errno set, as stat() does. Any thread. */
int statcache_stat(struct statcache *sc, const char *path, struct stat *st);

/* Turns the cache off for good: what it holds is forgotten and every
 * later call stat()s. Call it before anything this run does may change a
 * file the checks look at. Any thread. */
void statcache_off(struct statcache *sc);

#endif
