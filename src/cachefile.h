/* Private to the cache: the records of tasks' last runs, in memory and in .weft/ on disk, that cache.c's checks compare with; callers use cache.h. */
#ifndef WEFT_CACHEFILE_H
#define WEFT_CACHEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEX_LEN 32

/* Where a source came from (bits). */
enum {
	FROM_PATTERN = 1, /* the task's sources patterns (in memory only) */
	FROM_DEPFILE = 2, /* the depfile of its last successful run */
};

/* One source or output file as last hashed. */
struct fentry {
	char *path; /* relative to the task's dir, as the patterns matched it */
	unsigned from; /* sources: FROM_* bits; 0 for outputs */
	bool borrowed; /* path points into the base of its list (struct files) */
	int64_t size, mtime, ctime; /* ns */
	uint64_t ino, dev;
	int64_t verified; /* CLOCK_REALTIME ns just before the stat and hash */
	unsigned char hash[16];
};

/* The state as read, kept for the paths of the files loaded from it,
 * which point into it: freed with the last of those files. */
struct blob {
	unsigned refs;
	char *data;
};

/* Entries sorted by path. Never changed once built, so records and checks
 * share them; refs is counted on the loop thread only. */
struct files {
	unsigned refs;
	size_t n, cap;
	struct fentry *v;
	struct blob *blob; /* the paths point into it; NULL: each is allocated, or borrowed */
	struct files *base; /* a list held for the entries whose paths are borrowed from it; NULL: none */
};

struct record {
	char *name;
	bool ok;      /* false: failed, or started since it last succeeded */
	bool disk_ok; /* the state on disk (id c->id) says ok and no journal line withdrew it */
	char fp[HEX_LEN + 1]; /* "" when !ok */
	char cmd[HEX_LEN + 1], env[HEX_LEN + 1], deps[HEX_LEN + 1]; /* "": unknown */
	struct files *files; /* the sources */
	struct files *outs;  /* what the outputs patterns matched after the last success */
	/* Shared state: a withdrawal that could not go to the journal, which
	 * the merge of cachefile_save() must keep over what is on disk. */
	bool pending;
	int64_t seen; /* the day (since 1970) of the last run that named it; 0: not yet */
	bool named;   /* this run named it (cache_name) */
};

/* A file of .weft/ as it was at one moment: enough to tell that another
 * run has written it since (a rename gives the state a new inode, an
 * append the journal a new size). Made with memset first, so that
 * memcmp compares two. */
struct file_mark {
	bool exists;
	uint64_t dev, ino;
	int64_t size, mtime, ctime;
};

struct disk_mark {
	struct file_mark state, journal;
};

struct cache {
	char *wdir; /* DIR/.weft */
	struct hashtab *byname; /* borrows record names */
	struct record **recs;
	size_t nrecs, cap;
	char id[17]; /* of the state on disk; "": none */
	int64_t racy_ns;
	bool ignore; /* -B */
	bool dirty;  /* memory differs from disk */
	/* Other runs may use the state (cache_share): flock()ed around every
	 * read and write of .weft/; -1: none, this run has it alone. */
	int lock_fd;
	/* .weft/ on disk as this run loaded it, or last wrote it itself;
	 * moved: another run has written there since (it stays so). */
	struct disk_mark mark;
	bool moved;
	/* Shared by the checks while on (cache_stats_begin); NULL: none. */
	struct statcache *stats;
	/* cachefile_prune's request, made again over a merge with the disk. */
	bool (*prune_gone)(const char *name, void *ud);
	void *prune_ud;
	bool prune;
};

/* Memory; none of these fail (out of memory aborts). */

/* h as 32 lowercase hex digits and a NUL. */
void cachefile_hex16(const unsigned char h[16], char out[HEX_LEN + 1]);
/* Room for cap entries, n = 0, one reference; files_ref() adds one and
 * files_unref() drops one (NULL is fine) and frees the last. */
struct files *files_new(size_t cap);
/* Appends a copy of e (its path as it is owned or borrowed), room or not. */
void files_add(struct files *f, const struct fentry *e);
struct files *files_ref(struct files *f);
void files_unref(struct files *f);
/* The record named name, a new empty one (not ok, no files) when there is
 * none; owned by c. */
struct record *record_get(struct cache *c, const char *name);

/* The state on disk. */

/* cache_load(), cache_free() and cache_save() of cache.h; cachefile_load()
 * leaves racy_ns 0 and ignore false for cache.c to set. */
struct cache *cachefile_load(const char *dir, char **warning);
void cachefile_free(struct cache *c);

/* The state as format 3 (text) would hold it, header line and all: what
 * is in a binary state, for people and tests to read (weft.ini(5)). */
char *cachefile_text(const struct cache *c);
int cachefile_save(struct cache *c);

/* At the end of a run, before the save: the records this run named are
 * seen today; the others are dropped when gone(name, ud) says so (gone may
 * be NULL), or when no run has named them for STATE_KEEP_DAYS (a task
 * renamed or deleted). */
void cachefile_prune(struct cache *c, bool (*gone)(const char *name, void *ud), void *ud);

/* Appends "forget ID NAME" to the journal and syncs it, so that the state
 * on disk no longer says name succeeded. Returns 0, or a negative errno:
 * nothing is then known to be withdrawn. */
int cachefile_forget(struct cache *c, const char *name);

/* Shared state only: appends r whole to the journal (not synced: a lost
 * success only runs its task again), so that another run sees it before
 * this one saves. Returns 0 or a negative errno. */
int cachefile_journal_record(struct cache *c, const struct record *r);

/* Shared state only: whether .weft/ on disk is still as this run loaded
 * it or itself last wrote it, so no other run has withdrawn a success
 * (before running its task) or recorded one since. Stats two files;
 * false once, false for good. Without sharing, true. */
bool cachefile_unmoved(struct cache *c);

/* Shared state only: replaces the record called name with the one on
 * disk now (state and journal); none there leaves it as it is. */
void cachefile_refresh(struct cache *c, const char *name);

#endif
