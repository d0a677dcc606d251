/* Directory listings for patterns, read once and kept across runs in .weft/dirs while each directory's stat data says it has not changed. */
#include "dirlist.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "hashtab.h"
#include "util.h"

/*
 * Listing a directory of a thousand files costs a few hundred
 * microseconds (ext4 hashes and sorts every name); stat()ing it, one.
 * Adding, removing or renaming an entry sets the directory's mtime and
 * ctime, and nothing sets a ctime back, so a listing is as good as a new
 * one while the directory's device, inode, mtime and ctime are the same,
 * unless it changed again within the clock tick of the listing: a
 * listing is kept only when the directory had not changed for the racy
 * window before it was read, as a file's hash is (weft.ini(5)).
 *
 * .weft/dirs, the kept listings, in the byte order of the machine that
 * wrote it (another machine's inodes would not match anyway):
 *
 *   "weft-dirs\t1\n"   LENGTH (8 bytes)   XXH3-128 of the body (16 bytes)
 *   body: per directory
 *     u32 size, path with its NUL; u64 dev, ino; i64 mtime, ctime (ns);
 *     i64 SEEN; u32 count; per entry: u8 d_type, u32 size, name with its
 *     NUL
 *
 * SEEN is the day (since 1970) a run last used the listing: one that no
 * run has used for KEEP_DAYS (its directory is gone, or no pattern goes
 * through it any more) is not saved again, so the file does not grow for
 * good.
 */

#define RACY_NS (2 * 1000000000LL)
#define KEEP_DAYS 30
/* A bigger file is taken for damaged rather than read (an out-of-memory
 * end of the run would not be a cache's). */
#define MAX_FILE_BYTES (1024LL * 1024 * 1024)
#define MAGIC "weft-dirs\t1\n"
#define MAGIC_LEN (sizeof MAGIC - 1)
#define HEAD_LEN (MAGIC_LEN + 8 + 16)

struct listing {
	char *path;
	uint64_t dev, ino;
	int64_t mtime, ctime;
	bool keep;           /* read past the racy window: trusted again, and saved */
	int64_t seen;        /* the day a run last used it */
	size_t slot;         /* in all[] */
	size_t n;
	struct dirlist_entry *v;
	char *names;         /* the names' storage; NULL: in a loaded file's */
	struct listing *next_retired;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct hashtab *by_path;
static struct listing **all; /* the current listing of each directory */
static size_t nall, capall;
static struct listing *retired; /* replaced, still handed out: freed at release */
static char **blobs;            /* loaded files, which listings point into */
static size_t nblobs, capblobs;
static bool dirty;

static int64_t today(void)
{
	return (int64_t)(time(NULL) / 86400);
}

static bool same_dir(const struct listing *l, const struct stat *st)
{
	return l->dev == (uint64_t)st->st_dev && l->ino == (uint64_t)st->st_ino && l->mtime == timespec_ns(st->st_mtim) &&
	       l->ctime == timespec_ns(st->st_ctim);
}

static void listing_free(struct listing *l)
{
	free(l->path);
	free(l->v);
	free(l->names);
	free(l);
}

/* l becomes path's listing, under mu. */
static void install(struct listing *l)
{
	if (!by_path)
		by_path = hashtab_new();
	struct listing *old = hashtab_get(by_path, l->path);
	if (old) {
		l->slot = old->slot;
		all[l->slot] = l;
		old->next_retired = retired;
		retired = old;
	} else {
		grow(&all, &capall, nall + 1, sizeof *all);
		l->slot = nall;
		all[nall++] = l;
	}
	hashtab_put(by_path, l->path, l);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct dirlist_entry *)a)->name, ((const struct dirlist_entry *)b)->name);
}

/* Reads the directory at path now. */
static int read_dir(const char *path, struct listing **out)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	struct stat st;
	DIR *d = NULL;
	if (fstat(fd, &st) < 0 || !(d = fdopendir(fd))) {
		int err = -errno;
		close(fd);
		return err;
	}
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct buf names;
	buf_init(&names);
	size_t n = 0, cap = 0;
	struct dirlist_entry *v = NULL;
	struct dirent *e;
	int err = 0;
	for (;;) {
		errno = 0;
		if (!(e = readdir(d))) {
			err = -errno;
			break;
		}
		if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
			continue;
		grow(&v, &cap, n + 1, sizeof *v);
		/* An offset until the names are all in: the buffer moves. */
		v[n].name = (const char *)(uintptr_t)names.len;
		v[n].type = e->d_type;
		n++;
		buf_add(&names, e->d_name, strlen(e->d_name) + 1);
	}
	closedir(d);
	if (err) {
		free(v);
		buf_release(&names);
		return err;
	}
	struct listing *l = xcalloc(1, sizeof *l);
	l->path = xstrdup(path);
	l->dev = (uint64_t)st.st_dev;
	l->ino = (uint64_t)st.st_ino;
	l->mtime = timespec_ns(st.st_mtim);
	l->ctime = timespec_ns(st.st_ctim);
	l->keep = l->mtime < timespec_ns(now) - RACY_NS && l->ctime < timespec_ns(now) - RACY_NS;
	l->seen = now.tv_sec / 86400;
	l->names = buf_take(&names);
	for (size_t i = 0; i < n; i++)
		v[i].name = l->names + (uintptr_t)v[i].name;
	/* Not on none: v is NULL then (qsort() of NULL is UB). */
	if (n > 1)
		qsort(v, n, sizeof *v, by_name);
	l->n = n;
	l->v = v;
	*out = l;
	return 0;
}

int dirlist_get(const char *path, struct dirlist *out)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	pthread_mutex_lock(&mu);
	struct listing *l = by_path ? hashtab_get(by_path, path) : NULL;
	bool hit = l && l->keep && same_dir(l, &st);
	if (hit && l->seen != today()) {
		l->seen = today();
		dirty = true;
	}
	pthread_mutex_unlock(&mu);
	if (!hit) {
		int err = read_dir(path, &l);
		if (err)
			return err;
		pthread_mutex_lock(&mu);
		struct listing *old = by_path ? hashtab_get(by_path, path) : NULL;
		if (l->keep || (old && old->keep))
			dirty = true;
		install(l);
		pthread_mutex_unlock(&mu);
	}
	out->n = l->n;
	out->v = l->v;
	return 0;
}

/* Loading and saving. */

static bool take(const char **p, const char *end, void *to, size_t n)
{
	if ((size_t)(end - *p) < n)
		return false;
	memcpy(to, *p, n);
	*p += n;
	return true;
}

/* A string of the body: u32 size, then the bytes with the NUL last. */
static bool take_str(const char **p, const char *end, const char **s)
{
	uint32_t n;
	if (!take(p, end, &n, sizeof n) || n == 0 || (size_t)(end - *p) < n || (*p)[n - 1] != '\0' ||
	    strlen(*p) != n - 1)
		return false;
	*s = *p;
	*p += n;
	return true;
}

static bool parse(const char *p, const char *end, struct listing ***ls, size_t *nls)
{
	size_t cap = 0;
	while (p < end) {
		const char *path;
		uint64_t dev, ino;
		int64_t mtime, ctime;
		uint32_t n;
		int64_t seen;
		if (!take_str(&p, end, &path) || !take(&p, end, &dev, 8) || !take(&p, end, &ino, 8) ||
		    !take(&p, end, &mtime, 8) || !take(&p, end, &ctime, 8) || !take(&p, end, &seen, 8) ||
		    !take(&p, end, &n, 4) || n > (size_t)(end - p) / 6)
			return false;
		struct listing *l = xcalloc(1, sizeof *l);
		grow(ls, &cap, *nls + 1, sizeof **ls);
		(*ls)[(*nls)++] = l;
		l->path = xstrdup(path);
		l->dev = dev;
		l->ino = ino;
		l->mtime = mtime;
		l->ctime = ctime;
		l->seen = seen;
		l->keep = true;
		l->v = xcalloc(n ? n : 1, sizeof *l->v);
		for (uint32_t i = 0; i < n; i++) {
			struct dirlist_entry *e = &l->v[i];
			/* A name readdir() could give: one path component. */
			if (!take(&p, end, &e->type, 1) || !take_str(&p, end, &e->name) || strchr(e->name, '/') ||
			    strcmp(e->name, ".") == 0 || strcmp(e->name, "..") == 0)
				return false;
			/* Sorted and unique, as read_dir() leaves them. */
			if (i > 0 && strcmp(l->v[i - 1].name, e->name) >= 0)
				return false;
			l->n++;
		}
	}
	return true;
}

int dirlist_load(const char *file)
{
	/* O_NONBLOCK: a FIFO planted there must not hold the run. */
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	struct stat st;
	size_t len = 0;
	char *data = read_regular(fd, MAX_FILE_BYTES, &len, &st);
	close(fd);
	uint64_t blen;
	XXH128_canonical_t sum, want;
	if (!data || len < HEAD_LEN || memcmp(data, MAGIC, MAGIC_LEN) != 0) {
		free(data);
		return -1;
	}
	memcpy(&blen, data + MAGIC_LEN, 8);
	memcpy(&want, data + MAGIC_LEN + 8, 16);
	const char *body = data + HEAD_LEN;
	if (blen != len - HEAD_LEN) {
		free(data);
		return -1;
	}
	XXH128_canonicalFromHash(&sum, XXH3_128bits(body, blen));
	struct listing **ls = NULL;
	size_t nls = 0;
	bool ok = memcmp(&sum, &want, sizeof sum) == 0 && parse(body, body + blen, &ls, &nls);
	pthread_mutex_lock(&mu);
	int64_t day = today();
	int taken = 0;
	for (size_t i = 0; i < nls; i++) {
		if (ok && (!by_path || !hashtab_get(by_path, ls[i]->path))) {
			taken++;
			/* The next save leaves it out. (Not day - seen: any
			 * SEEN may be in a file, and that could overflow.) */
			if (ls[i]->seen < day - KEEP_DAYS)
				dirty = true;
			install(ls[i]);
		} else {
			listing_free(ls[i]);
		}
	}
	if (ok) {
		grow(&blobs, &capblobs, nblobs + 1, sizeof *blobs);
		blobs[nblobs++] = data;
	} else {
		free(data);
	}
	pthread_mutex_unlock(&mu);
	free(ls);
	return ok ? taken : -1;
}

static void put(struct buf *b, const void *p, size_t n)
{
	buf_add(b, p, n);
}

static void put_str(struct buf *b, const char *s)
{
	uint32_t n = (uint32_t)strlen(s) + 1;
	put(b, &n, sizeof n);
	put(b, s, n);
}

int dirlist_save(const char *file)
{
	pthread_mutex_lock(&mu);
	if (!dirty) {
		pthread_mutex_unlock(&mu);
		return 0;
	}
	struct buf b;
	buf_init(&b);
	char head[HEAD_LEN] = MAGIC;
	put(&b, head, sizeof head);
	int64_t day = today();
	for (size_t i = 0; i < nall; i++) {
		const struct listing *l = all[i];
		if (!l->keep || l->n > UINT32_MAX || l->seen < day - KEEP_DAYS)
			continue;
		put_str(&b, l->path);
		put(&b, &l->dev, 8);
		put(&b, &l->ino, 8);
		put(&b, &l->mtime, 8);
		put(&b, &l->ctime, 8);
		put(&b, &l->seen, 8);
		uint32_t n = (uint32_t)l->n;
		put(&b, &n, 4);
		for (size_t k = 0; k < l->n; k++) {
			put(&b, &l->v[k].type, 1);
			put_str(&b, l->v[k].name);
		}
	}
	dirty = false;
	pthread_mutex_unlock(&mu);
	uint64_t blen = b.len - HEAD_LEN;
	XXH128_canonical_t sum;
	XXH128_canonicalFromHash(&sum, XXH3_128bits(b.p + HEAD_LEN, blen));
	memcpy(b.p + MAGIC_LEN, &blen, 8);
	memcpy(b.p + MAGIC_LEN + 8, &sum, 16);
	char *tmp = NULL;
	int fd = -1;
	for (int tries = 0; fd < 0 && tries < 16; tries++) {
		free(tmp);
		tmp = xasprintf("%s.tmp-%08x%08x", file, (unsigned)getpid(), (unsigned)(now_ns() >> 4) + (unsigned)tries);
		/* O_EXCL: a name planted in .weft/ is never opened. */
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	int err = fd < 0 ? -errno : write_full(fd, b.p, b.len);
	if (fd >= 0 && close(fd) < 0 && !err && errno != EINTR)
		err = -errno;
	if (fd >= 0 && !err && rename(tmp, file) < 0)
		err = -errno;
	if (fd >= 0 && err)
		unlink(tmp);
	free(tmp);
	buf_release(&b);
	return err;
}

void dirlist_release(void)
{
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < nall; i++)
		listing_free(all[i]);
	while (retired) {
		struct listing *l = retired;
		retired = l->next_retired;
		listing_free(l);
	}
	for (size_t i = 0; i < nblobs; i++)
		free(blobs[i]);
	free(all);
	free(blobs);
	hashtab_free(by_path);
	all = NULL;
	blobs = NULL;
	by_path = NULL;
	nall = capall = nblobs = capblobs = 0;
	dirty = false;
	pthread_mutex_unlock(&mu);
}
