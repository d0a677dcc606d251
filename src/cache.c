/* Up-to-date checks: content fingerprints of a task's sources, command, environment and deps, kept in .weft/state. */
#include "cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "glob.h"
#include "hash.h"
#include "util.h"

/*
 * XXH3-128, not SHA-256: the fingerprint guards against accidents, not an
 * attacker (whoever can write the sources can change the command too), and
 * XXH3 hashes at memory speed, ten times SHA-256 or more; 128 bits make an
 * accidental collision as unlikely as with any cryptographic hash.
 *
 * .weft/state, text, one record a line, fields separated by tabs, with
 * '\\', tab, newline and carriage return written \\ \t \n \r:
 *
 *   weft-state 1 ID LENGTH CHECKSUM          LENGTH bytes follow, their XXH3-128
 *   task NAME ok|failed FP CMD ENV DEPS N     FP is "-" when failed
 *   file PATH HASH SIZE MTIME CTIME INO DEV VERIFIED    N of these, sorted
 *
 * .weft/journal: "forget ID NAME" lines, appended by cache_forget().
 */
#define STATE_MAGIC "weft-state"
#define STATE_VERSION 1
#define HEX_LEN 32
#define READ_SIZE (256 * 1024)
#define DEFAULT_RACY_NS (2 * 1000000000LL)
/* A temporary state older than this was left by a killed weft. */
#define STALE_TMP_SECONDS (10 * 60)

/* One source file as last hashed. */
struct fentry {
	char *path; /* relative to the task's dir, as the patterns matched it */
	int64_t size, mtime, ctime; /* ns */
	uint64_t ino, dev;
	int64_t verified; /* CLOCK_REALTIME ns just before the stat and hash */
	unsigned char hash[16];
};

/* Entries sorted by path. Never changed once built, so records and checks
 * share them; refs is counted on the loop thread only. */
struct files {
	unsigned refs;
	size_t n, cap;
	struct fentry *v;
};

struct record {
	char *name;
	bool ok;      /* false: failed, or started since it last succeeded */
	bool disk_ok; /* the state on disk (id c->id) says ok and no journal line withdrew it */
	char fp[HEX_LEN + 1]; /* "" when !ok */
	char cmd[HEX_LEN + 1], env[HEX_LEN + 1], deps[HEX_LEN + 1]; /* "": unknown */
	struct files *files;
};

struct cache {
	char *wdir; /* DIR/.weft */
	struct hash *byname; /* borrows record names */
	struct record **recs;
	size_t nrecs, cap;
	char id[17]; /* of the state on disk; "": none */
	int64_t racy_ns;
	bool ignore; /* -B */
	bool dirty;  /* memory differs from disk */
};

struct cache_check {
	/* Inputs, all owned. */
	char *name;
	char *dir; /* the patterns' directory; NULL: the current one */
	char *command; /* NULL: none */
	struct strlist sources, outputs, env, deps; /* env and deps sorted */
	struct files *old; /* the record's, at cache_check_new() */
	int64_t racy_ns;
	/* Outputs. */
	bool done;
	char fp[HEX_LEN + 1], cmd[HEX_LEN + 1], envh[HEX_LEN + 1], depsh[HEX_LEN + 1];
	struct files *files; /* built by cache_check_run() */
	char *missing; /* NULL: every output pattern matched; else the reason */
	char *error;
	size_t hashed;
	char *why;
};

/* Hashing. */

static void hex16(const unsigned char h[16], char out[HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < 16; i++) {
		out[2 * i] = digits[h[i] >> 4];
		out[2 * i + 1] = digits[h[i] & 15];
	}
	out[HEX_LEN] = '\0';
}

static void digest_hex(XXH3_state_t *s, char out[HEX_LEN + 1])
{
	XXH128_canonical_t c;
	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(s));
	hex16(c.digest, out);
}

/* Length first, so that ("ab","c") and ("a","bc") differ. */
static void add_str(XXH3_state_t *s, const char *p, size_t n)
{
	uint64_t len = n;
	XXH3_128bits_update(s, &len, sizeof len);
	XXH3_128bits_update(s, p, n);
}

static void list_hex(XXH3_state_t *s, const char *tag, const struct strlist *l, char out[HEX_LEN + 1])
{
	XXH3_128bits_reset(s);
	add_str(s, tag, strlen(tag));
	for (size_t i = 0; i < l->n; i++)
		add_str(s, l->v[i], strlen(l->v[i]));
	digest_hex(s, out);
}

static int64_t ts_ns(struct timespec t)
{
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Memory. */

static struct files *files_new(size_t cap)
{
	struct files *f = xcalloc(1, sizeof *f);
	f->refs = 1;
	f->cap = cap;
	f->v = cap ? xcalloc(cap, sizeof *f->v) : NULL;
	return f;
}

static struct files *files_ref(struct files *f)
{
	f->refs++;
	return f;
}

static void files_unref(struct files *f)
{
	if (!f || --f->refs)
		return;
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].path);
	free(f->v);
	free(f);
}

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
		    memcmp(x->hash, y->hash, 16) != 0)
			return false;
	}
	return true;
}

static void record_free(struct record *r)
{
	files_unref(r->files);
	free(r->name);
	free(r);
}

static struct record *record_get(struct cache *c, const char *name)
{
	struct record *r = hash_get(c->byname, name);
	if (r)
		return r;
	r = xcalloc(1, sizeof *r);
	r->name = xstrdup(name);
	r->files = files_new(0);
	grow(&c->recs, &c->cap, c->nrecs + 1, sizeof *c->recs);
	c->recs[c->nrecs++] = r;
	hash_put(c->byname, r->name, r);
	return r;
}

static struct cache *cache_new(const char *dir)
{
	struct cache *c = xcalloc(1, sizeof *c);
	c->wdir = strcmp(dir, ".") == 0 ? xstrdup(".weft") : xasprintf("%s/.weft", dir);
	c->byname = hash_new();
	c->racy_ns = DEFAULT_RACY_NS;
	return c;
}

static void cache_clear(struct cache *c)
{
	for (size_t i = 0; i < c->nrecs; i++)
		record_free(c->recs[i]);
	free(c->recs);
	c->recs = NULL;
	c->nrecs = c->cap = 0;
	hash_free(c->byname);
	c->byname = hash_new();
	c->id[0] = '\0';
}

void cache_free(struct cache *c)
{
	if (!c)
		return;
	cache_clear(c);
	hash_free(c->byname);
	free(c->wdir);
	free(c);
}

void cache_ignore_state(struct cache *c)
{
	c->ignore = true;
}

void cache_set_racy_window(struct cache *c, int64_t ns)
{
	c->racy_ns = ns < 0 ? 0 : ns;
}

/* Escaping of state fields. */

static void add_escaped(struct buf *b, const char *s)
{
	const char *run = s;
	for (; *s; s++) {
		const char *e = *s == '\\' ? "\\\\" : *s == '\t' ? "\\t" : *s == '\n' ? "\\n" : *s == '\r' ? "\\r" : NULL;
		if (!e)
			continue;
		buf_add(b, run, (size_t)(s - run));
		buf_add(b, e, 2);
		run = s + 1;
	}
	buf_add(b, run, (size_t)(s - run));
}

/* In place; false on a bad escape. */
static bool unescape(char *s)
{
	char *w = s;
	for (; *s; s++) {
		if (*s != '\\') {
			*w++ = *s;
			continue;
		}
		switch (*++s) {
		case '\\': *w++ = '\\'; break;
		case 't': *w++ = '\t'; break;
		case 'n': *w++ = '\n'; break;
		case 'r': *w++ = '\r'; break;
		default: return false;
		}
	}
	*w = '\0';
	return true;
}

/* Reading the state. */

/* Decimal, without strtoll's locale and base handling: the state has
 * tens of thousands of numbers and loading it is on every run's path. */
static bool parse_u64(const char *s, uint64_t *v)
{
	uint64_t x = 0;
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (d > 9 || x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*v = x;
	return true;
}

static bool parse_i64(const char *s, int64_t *v)
{
	bool neg = *s == '-';
	uint64_t x;
	if (!parse_u64(s + neg, &x) || x > (uint64_t)INT64_MAX + neg)
		return false;
	*v = neg ? (int64_t)(0 - x) : (int64_t)x;
	return true;
}

static bool is_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static int nibble(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool parse_hash(const char *s, unsigned char h[16])
{
	for (int i = 0; i < 16; i++) {
		int hi = nibble(s[2 * i]), lo = hi < 0 ? -1 : nibble(s[2 * i + 1]);
		if (lo < 0)
			return false;
		h[i] = (unsigned char)(hi << 4 | lo);
	}
	return s[HEX_LEN] == '\0';
}

/* Splits line at tabs into at most max fields; returns how many. */
static int split(char *line, char **f, int max)
{
	int n = 0;
	f[n++] = line;
	for (char *p = line; *p; p++) {
		if (*p != '\t')
			continue;
		if (n == max)
			return max + 1;
		*p = '\0';
		f[n++] = p + 1;
	}
	return n;
}

/* The next '\n'-terminated line of [*p, end), NUL-terminated; NULL at the
 * end or on an unterminated line (*p is then left short of end). */
static char *next_line(char **p, char *end)
{
	char *nl = memchr(*p, '\n', (size_t)(end - *p));
	if (!nl)
		return NULL;
	char *line = *p;
	*nl = '\0';
	*p = nl + 1;
	return line;
}

static bool parse_file(char *line, struct fentry *e)
{
	char *f[9];
	if (split(line, f, 9) != 9 || strcmp(f[0], "file") != 0 || !unescape(f[1]) || !*f[1] ||
	    !parse_hash(f[2], e->hash) || !parse_i64(f[3], &e->size) || !parse_i64(f[4], &e->mtime) ||
	    !parse_i64(f[5], &e->ctime) || !parse_u64(f[6], &e->ino) || !parse_u64(f[7], &e->dev) ||
	    !parse_i64(f[8], &e->verified))
		return false;
	e->path = xstrdup(f[1]);
	return true;
}

/* Parses the records in [p, end) into c; returns 0, or the number of the
 * first bad line. */
static int parse_body(struct cache *c, char *p, char *end, int lineno)
{
	while (p < end) {
		char *line = next_line(&p, end);
		if (!line)
			return lineno;
		char *f[8];
		uint64_t n;
		if (split(line, f, 8) != 8 || strcmp(f[0], "task") != 0 || !unescape(f[1]) ||
		    hash_get(c->byname, f[1]) || !parse_u64(f[7], &n) || n > (uint64_t)(end - p))
			return lineno;
		bool ok = strcmp(f[2], "ok") == 0;
		if (!ok && strcmp(f[2], "failed") != 0)
			return lineno;
		if (ok ? !is_hex(f[3], HEX_LEN) : strcmp(f[3], "-") != 0)
			return lineno;
		for (int i = 4; i < 7; i++)
			if (*f[i] && !is_hex(f[i], HEX_LEN))
				return lineno;
		struct record *rec = record_get(c, f[1]);
		rec->ok = rec->disk_ok = ok;
		snprintf(rec->fp, sizeof rec->fp, "%s", ok ? f[3] : "");
		snprintf(rec->cmd, sizeof rec->cmd, "%s", f[4]);
		snprintf(rec->env, sizeof rec->env, "%s", f[5]);
		snprintf(rec->deps, sizeof rec->deps, "%s", f[6]);
		files_unref(rec->files);
		struct files *fs = rec->files = files_new(n);
		for (uint64_t i = 0; i < n; i++) {
			lineno++;
			char *fl = next_line(&p, end);
			if (!fl || !parse_file(fl, &fs->v[i]))
				return lineno;
			fs->n++;
			/* Checks merge sorted lists: the order is part of the format. */
			if (i > 0 && strcmp(fs->v[i - 1].path, fs->v[i].path) >= 0)
				return lineno;
		}
		lineno++;
	}
	return 0;
}

static char *read_all(int fd, size_t *len)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return NULL;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return NULL;
	}
	size_t cap = (size_t)st.st_size + 1, n = 0;
	char *p = xmalloc(cap);
	for (;;) {
		if (n + 1 >= cap)
			p = xrealloc(p, cap *= 2);
		ssize_t r = read(fd, p + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(p);
			errno = e;
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	p[n] = '\0';
	*len = n;
	return p;
}

/* Returns NULL, or what is wrong with the state file. */
static char *load_state(struct cache *c, int dfd)
{
	int fd = openat(dfd, "state", O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return errno == ENOENT ? NULL : xstrdup(strerror(errno));
	size_t len;
	char *data = read_all(fd, &len);
	int err = errno;
	close(fd);
	if (!data)
		return xstrdup(err == EINVAL ? "not a regular file" : strerror(err));
	char *why = NULL;
	char *p = data, *end = data + len;
	char *head = next_line(&p, end);
	char *f[5];
	uint64_t blen;
	int64_t version;
	if (!head || split(head, f, 5) != 5 || strcmp(f[0], STATE_MAGIC) != 0 || !parse_i64(f[1], &version)) {
		why = xstrdup("not a weft state file");
	} else if (version != STATE_VERSION) {
		why = xasprintf("written by another version of weft (format %s)", f[1]);
	} else if (!is_hex(f[2], 16) || !parse_u64(f[3], &blen) || !is_hex(f[4], HEX_LEN)) {
		why = xstrdup("bad header");
	} else if (blen != (uint64_t)(end - p)) {
		why = xstrdup(blen > (uint64_t)(end - p) ? "truncated" : "longer than its header says");
	} else {
		char sum[HEX_LEN + 1];
		XXH128_canonical_t cs;
		XXH128_canonicalFromHash(&cs, XXH3_128bits(p, blen));
		hex16(cs.digest, sum);
		int bad;
		if (strcmp(sum, f[4]) != 0)
			why = xstrdup("checksum mismatch");
		else if ((bad = parse_body(c, p, end, 2)))
			why = xasprintf("bad line %d", bad);
		else
			snprintf(c->id, sizeof c->id, "%s", f[2]);
	}
	free(data);
	if (why)
		cache_clear(c);
	return why;
}

/* Withdraws the successes that cache_forget() journalled against this
 * state. Returns NULL, or what is wrong with the journal: then it withdraws
 * them all, as it cannot tell which. */
static char *load_journal(struct cache *c, int dfd)
{
	if (!c->id[0])
		return NULL;
	int fd = openat(dfd, "journal", O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	size_t len;
	char *data = fd < 0 ? NULL : read_all(fd, &len);
	int err = errno;
	if (fd >= 0)
		close(fd);
	if (fd < 0 && err == ENOENT)
		return NULL;
	if (!data) {
		for (size_t i = 0; i < c->nrecs; i++) {
			c->recs[i]->ok = c->recs[i]->disk_ok = false;
			c->recs[i]->fp[0] = '\0';
		}
		return xstrdup(err == EINVAL ? "not a regular file" : strerror(err));
	}
	/* A torn last line was never synced, so its task never started. */
	char *p = data, *line;
	while ((line = next_line(&p, data + len))) {
		char *f[3];
		if (split(line, f, 3) != 3 || strcmp(f[0], "forget") != 0 || strcmp(f[1], c->id) != 0 || !unescape(f[2]))
			continue;
		struct record *r = hash_get(c->byname, f[2]);
		if (r) {
			r->ok = r->disk_ok = false;
			r->fp[0] = '\0';
		}
	}
	free(data);
	return NULL;
}

static int open_wdir(const struct cache *c, bool create)
{
	if (create && mkdir(c->wdir, 0700) < 0 && errno != EEXIST)
		return -errno;
	int dfd = open(c->wdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	return dfd < 0 ? -errno : dfd;
}

struct cache *cache_load(const char *dir, char **warning)
{
	struct cache *c = cache_new(dir);
	char *why = NULL;
	int dfd = open_wdir(c, false);
	if (dfd == -ENOENT) {
		/* No state yet. */
	} else if (dfd < 0) {
		why = xasprintf("%s: %s; starting afresh", c->wdir,
		                dfd == -ELOOP || dfd == -ENOTDIR ? "not a directory" : strerror(-dfd));
	} else {
		char *w = load_state(c, dfd);
		if (w) {
			why = xasprintf("%s/state: %s; starting afresh", c->wdir, w);
			free(w);
		} else if ((w = load_journal(c, dfd))) {
			why = xasprintf("%s/journal: %s; every task runs", c->wdir, w);
			free(w);
		}
		close(dfd);
	}
	/* The next save replaces what was bad. */
	if (why)
		c->dirty = true;
	if (warning)
		*warning = why;
	else
		free(why);
	return c;
}

/* Writing the state. */

static void random_hex(char out[17])
{
	uint64_t r;
	if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
		r = (uint64_t)now_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)out;
	snprintf(out, 17, "%016" PRIx64, r);
}

static int by_record_name(const void *a, const void *b)
{
	return strcmp((*(struct record *const *)a)->name, (*(struct record *const *)b)->name);
}

/* A tab and the number; printf is the slowest part of a save. */
static void add_num(struct buf *b, bool neg, uint64_t v)
{
	char tmp[24], *p = tmp + sizeof tmp;
	if (neg)
		v = 0 - v;
	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	if (neg)
		*--p = '-';
	*--p = '\t';
	buf_add(b, p, (size_t)(tmp + sizeof tmp - p));
}

static void format_body(const struct cache *c, struct buf *b)
{
	struct record **v = xcalloc(c->nrecs, sizeof *v);
	if (c->nrecs) {
		memcpy(v, c->recs, c->nrecs * sizeof *v);
		qsort(v, c->nrecs, sizeof *v, by_record_name);
	}
	for (size_t i = 0; i < c->nrecs; i++) {
		const struct record *r = v[i];
		buf_adds(b, "task\t");
		add_escaped(b, r->name);
		buf_addf(b, "\t%s\t%s\t%s\t%s\t%s\t%zu\n", r->ok ? "ok" : "failed", r->ok ? r->fp : "-", r->cmd, r->env,
		         r->deps, r->files->n);
		for (size_t j = 0; j < r->files->n; j++) {
			const struct fentry *e = &r->files->v[j];
			char h[HEX_LEN + 1];
			hex16(e->hash, h);
			buf_adds(b, "file\t");
			add_escaped(b, e->path);
			buf_add(b, "\t", 1);
			buf_add(b, h, HEX_LEN);
			add_num(b, e->size < 0, (uint64_t)e->size);
			add_num(b, e->mtime < 0, (uint64_t)e->mtime);
			add_num(b, e->ctime < 0, (uint64_t)e->ctime);
			add_num(b, false, e->ino);
			add_num(b, false, e->dev);
			add_num(b, e->verified < 0, (uint64_t)e->verified);
			buf_add(b, "\n", 1);
		}
	}
	free(v);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Removes temporary states that killed runs left behind. */
static void remove_stale_tmps(int dfd)
{
	int fd = dup(dfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	time_t now = time(NULL);
	struct dirent *e;
	while ((e = readdir(d))) {
		struct stat st;
		if (strncmp(e->d_name, "state.tmp-", 10) == 0 &&
		    fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && now - st.st_mtime > STALE_TMP_SECONDS)
			unlinkat(dfd, e->d_name, 0);
	}
	closedir(d);
}

static int write_state(int dfd, const struct buf *head, const struct buf *body)
{
	char tmp[32];
	int fd = -1;
	for (int tries = 0; fd < 0 && tries < 16; tries++) {
		char r[17];
		random_hex(r);
		snprintf(tmp, sizeof tmp, "state.tmp-%s", r);
		/* O_EXCL: a name planted in .weft/, symbolic link or not, is never opened. */
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
		if (fd < 0 && errno != EEXIST)
			return -errno;
	}
	if (fd < 0)
		return -EEXIST;
	int err = 0;
	/* Whatever the umask. */
	if (fchmod(fd, 0600) < 0)
		err = -errno;
	if (!err)
		err = write_all(fd, head->p, head->len);
	if (!err)
		err = write_all(fd, body->p, body->len);
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && !err && errno != EINTR)
		err = -errno;
	/* rename() replaces a symbolic link at "state" itself, never its target. */
	if (!err && renameat(dfd, tmp, dfd, "state") < 0)
		err = -errno;
	if (err)
		unlinkat(dfd, tmp, 0);
	return err;
}

int cache_save(struct cache *c)
{
	if (!c->dirty)
		return 0;
	int dfd = open_wdir(c, true);
	if (dfd < 0)
		return dfd;
	struct buf body, head;
	buf_init(&body);
	buf_init(&head);
	format_body(c, &body);
	char id[17], sum[HEX_LEN + 1];
	random_hex(id);
	XXH128_canonical_t cs;
	XXH128_canonicalFromHash(&cs, XXH3_128bits(body.p ? body.p : "", body.len));
	hex16(cs.digest, sum);
	buf_addf(&head, "%s\t%d\t%s\t%zu\t%s\n", STATE_MAGIC, STATE_VERSION, id, body.len, sum);
	int err = write_state(dfd, &head, &body);
	buf_release(&body);
	buf_release(&head);
	if (!err) {
		/* Renamed: this is the state now, even if the sync below fails,
		 * so later journal lines must name its id. */
		memcpy(c->id, id, sizeof c->id);
		for (size_t i = 0; i < c->nrecs; i++)
			c->recs[i]->disk_ok = c->recs[i]->ok;
		c->dirty = false;
		if (fsync(dfd) < 0)
			err = -errno;
	}
	if (!err) {
		/* Its lines name the old id: harmless if this fails. */
		unlinkat(dfd, "journal", 0);
		remove_stale_tmps(dfd);
	}
	close(dfd);
	return err;
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
	const struct record *r = hash_get(c->byname, t->name);
	k->old = r && !c->ignore ? files_ref(r->files) : files_new(0);
	k->files = files_new(0);
	k->racy_ns = c->racy_ns;
	return k;
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
	files_unref(k->files);
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
static int hash_file(const char *path, struct fentry *e, XXH3_state_t *s, char *buf)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 1 : -errno;
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
	XXH3_128bits_reset(s);
	for (;;) {
		ssize_t n = read(fd, buf, READ_SIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;
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
	memcpy(e->hash, c.digest, 16);
	return 0;
}

static bool same_stat(const struct fentry *a, const struct stat *st)
{
	return a->size == st->st_size && a->mtime == ts_ns(st->st_mtim) && a->ctime == ts_ns(st->st_ctim) &&
	       a->ino == st->st_ino && a->dev == st->st_dev;
}

/* Stats (and if need be hashes) the source name; full is where it is.
 * Returns 0 or -errno. */
static int add_source(struct cache_check *k, const char *name, const char *full, size_t *cur, int64_t now,
                      XXH3_state_t *s, char **buf)
{
	struct stat st;
	if (stat(full, &st) < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
	if (!S_ISREG(st.st_mode))
		return 0;
	/* Both lists are sorted: walk the old one along. */
	const struct files *o = k->old;
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
		e.path = xstrdup(old->path);
	} else {
		if (!*buf)
			*buf = xmalloc(READ_SIZE);
		int r = hash_file(full, &e, s, *buf);
		if (r)
			return r > 0 ? 0 : r;
		e.verified = now;
		e.path = xstrdup(name);
		k->hashed++;
	}
	struct files *f = k->files;
	grow(&f->v, &f->cap, f->n + 1, sizeof *f->v);
	f->v[f->n++] = e;
	return 0;
}

/* Appends what pattern matches to out, as names relative to the task's
 * dir. Returns 0 or -errno. */
static int expand(const struct cache_check *k, const char *pattern, struct strlist *out)
{
	/* glob_expand_in() hands out->v to qsort(), which must not get NULL
	 * even for no elements (UBSan). */
	grow(&out->v, &out->cap, out->n + 1, sizeof *out->v);
	return glob_expand_in(k->dir, pattern, out);
}

static bool sorted(const struct strlist *l)
{
	for (size_t i = 1; i < l->n; i++)
		if (strcmp(l->v[i - 1], l->v[i]) > 0)
			return false;
	return true;
}

static void check_sources(struct cache_check *k, XXH3_state_t *s)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	int64_t now = ts_ns(t);
	struct strlist all = { 0 };
	for (size_t i = 0; i < k->sources.n; i++) {
		int err = expand(k, k->sources.v[i], &all);
		if (err) {
			k->error = xasprintf("cannot read sources '%s': %s", k->sources.v[i], strerror(-err));
			strlist_release(&all);
			return;
		}
	}
	/* One pattern comes sorted from glob_expand(). */
	if (!sorted(&all))
		qsort(all.v, all.n, sizeof *all.v, by_str);
	char *buf = NULL;
	size_t cur = 0;
	struct buf full;
	buf_init(&full);
	for (size_t i = 0; i < all.n; i++) {
		const char *name = all.v[i];
		if (i > 0 && strcmp(all.v[i - 1], name) == 0)
			continue;
		bool in_dir = k->dir && *name != '/';
		if (in_dir) {
			buf_reset(&full);
			buf_addf(&full, "%s/%s", k->dir, name);
		}
		int err = add_source(k, name, in_dir ? full.p : name, &cur, now, s, &buf);
		if (err) {
			k->error = xasprintf("cannot read source '%s': %s", name, strerror(-err));
			break;
		}
	}
	buf_release(&full);
	free(buf);
	strlist_release(&all);
}

static void check_outputs(struct cache_check *k)
{
	for (size_t i = 0; i < k->outputs.n && !k->missing; i++) {
		const char *p = k->outputs.v[i];
		struct strlist found = { 0 };
		expand(k, p, &found);
		if (found.n == 0)
			k->missing = glob_is_pattern(p) ? xasprintf("no output matches '%s'", p)
			                                : xasprintf("output '%s' is missing", p);
		strlist_release(&found);
	}
}

void cache_check_run(struct cache_check *k)
{
	if (k->done)
		abort();
	XXH3_state_t *s = XXH3_createState();
	if (!s)
		abort();
	check_sources(k, s);
	if (!k->error) {
		struct strlist cmd = { 0 };
		if (k->command)
			strlist_add(&cmd, k->command);
		list_hex(s, "command", &cmd, k->cmd);
		strlist_release(&cmd);
		list_hex(s, "env", &k->env, k->envh);
		list_hex(s, "deps", &k->deps, k->depsh);
		XXH3_128bits_reset(s);
		add_str(s, "weft-fingerprint-1", 18);
		for (size_t i = 0; i < k->files->n; i++) {
			const struct fentry *e = &k->files->v[i];
			add_str(s, e->path, strlen(e->path));
			XXH3_128bits_update(s, e->hash, 16);
		}
		add_str(s, "", 0); /* ends the files */
		XXH3_128bits_update(s, k->cmd, HEX_LEN);
		XXH3_128bits_update(s, k->envh, HEX_LEN);
		XXH3_128bits_update(s, k->depsh, HEX_LEN);
		digest_hex(s, k->fp);
	}
	XXH3_freeState(s);
	check_outputs(k);
	k->done = true;
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
	const struct record *r = hash_get(c->byname, k->name);
	if (c->ignore)
		return k->why = xstrdup("-B given");
	if (k->error)
		return k->why = xstrdup(k->error);
	if (!r)
		return k->why = xstrdup("never ran");
	if (!r->ok)
		return k->why = xstrdup("last run failed or was interrupted");
	if (strcmp(r->fp, k->fp) != 0) {
		if (strcmp(r->cmd, k->cmd) != 0)
			return k->why = xstrdup("command changed");
		if (strcmp(r->env, k->envh) != 0)
			return k->why = xstrdup("environment changed");
		if (strcmp(r->deps, k->depsh) != 0)
			return k->why = xstrdup("a dependency changed");
		k->why = source_change(r, k);
		return k->why ? k->why : (k->why = xstrdup("fingerprint changed"));
	}
	if (k->missing)
		return k->why = xstrdup(k->missing);
	*fresh = true;
	return k->why = xstrdup("up to date");
}

/* Gives r k's hashes and stat data. */
static void take_check(struct record *r, const struct cache_check *k)
{
	memcpy(r->cmd, k->cmd, sizeof r->cmd);
	memcpy(r->env, k->envh, sizeof r->env);
	memcpy(r->deps, k->depsh, sizeof r->deps);
	files_unref(r->files);
	r->files = files_ref(k->files);
}

static int journal_forget(struct cache *c, const char *name)
{
	int dfd = open_wdir(c, false);
	if (dfd < 0)
		return dfd;
	const int flags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY;
	int fd = openat(dfd, "journal", flags | O_CREAT | O_EXCL, 0600);
	bool created = fd >= 0;
	if (fd < 0 && errno == EEXIST)
		fd = openat(dfd, "journal", flags);
	int err = fd < 0 ? -errno : 0;
	/* A new file's name must be as durable as its line. */
	if (!err && created && fsync(dfd) < 0)
		err = -errno;
	close(dfd);
	if (err) {
		if (fd >= 0)
			close(fd);
		return err;
	}
	struct buf b;
	buf_init(&b);
	buf_addf(&b, "forget\t%s\t", c->id);
	add_escaped(&b, name);
	buf_add(&b, "\n", 1);
	/* One write() so that a kill cannot tear the line; synced before the
	 * task may touch anything. */
	err = write_all(fd, b.p, b.len);
	if (!err && fdatasync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && !err && errno != EINTR)
		err = -errno;
	buf_release(&b);
	return err;
}

int cache_forget(struct cache *c, const struct cache_check *k)
{
	struct record *r = record_get(c, k->name);
	r->ok = false;
	r->fp[0] = '\0';
	if (k->done && !k->error)
		take_check(r, k);
	c->dirty = true;
	if (!r->disk_ok)
		return 0;
	int err = journal_forget(c, r->name);
	if (!err)
		r->disk_ok = false;
	return err;
}

void cache_record(struct cache *c, const struct cache_check *k)
{
	if (!k->done || k->error)
		return;
	struct record *r = record_get(c, k->name);
	if (r->ok && strcmp(r->fp, k->fp) == 0 && strcmp(r->cmd, k->cmd) == 0 && strcmp(r->env, k->envh) == 0 &&
	    strcmp(r->deps, k->depsh) == 0 && files_equal(r->files, k->files))
		return;
	r->ok = true;
	memcpy(r->fp, k->fp, sizeof r->fp);
	take_check(r, k);
	c->dirty = true;
}
