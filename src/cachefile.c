/* The records of tasks' last runs: in memory, and on disk as .weft/state (its format, loading it, replacing it atomically) and the journal of withdrawn successes. */
#include "cachefile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "escape.h"
#include "hashtab.h"
#include "util.h"

/*
 * .weft/state: a header line, then LENGTH bytes whose XXH3-128 is
 * CHECKSUM:
 *
 *   weft-state 4 ID LENGTH CHECKSUM
 *
 * Format 4, the one written, is binary, in the byte order of the machine
 * that wrote it (a u32 1 first says which): parsing it is a copy per
 * field, where the text of format 3 cost a seventh of a no-op run. Per
 * record, sorted by name:
 *
 *   u32 size, NAME and its NUL; u8 ok; u8 which of FP CMD ENV DEPS follow
 *   (bits 0-3), each 32 hex digits; i64 SEEN; u32 N, u32 M; then N
 *   sources and M outputs, each sorted by path: u8 kind (0 out, 1 file,
 *   2 dep); u32 size, PATH and its NUL; 16 bytes HASH; i64 SIZE, MTIME,
 *   CTIME; u64 INO, DEV; i64 VERIFIED
 *
 * Formats 3 and 2 are text, still read (the next save writes format 4),
 * and format 3 is what .weft/journal's records and cachefile_text() are
 * written in: one record a line, fields separated by tabs, with '\\',
 * tab, newline and carriage return written \\ \t \n \r:
 *
 *   task NAME ok|failed FP CMD ENV DEPS N M SEEN  FP is "-" when failed;
 *                                             SEEN: day last named (format 3)
 *   file PATH HASH SIZE MTIME CTIME INO DEV VERIFIED    N sources, sorted;
 *   dep PATH ...                                          "dep": from a depfile
 *   out PATH HASH SIZE MTIME CTIME INO DEV VERIFIED     M outputs, sorted
 *
 * NAME is a task's name, or "TASK[ITEM]" for an item of a foreach task
 * checked item by item (task names hold no '['). Format 2, without SEEN,
 * is read as if every record had been seen on the day it is read. A state
 * of another format version is not read: every task runs once, and the
 * next save replaces it.
 *
 * .weft/journal: "forget ID NAME" lines, appended by cache_forget(), and
 * when other runs share the state, "record ID N" lines, each followed by
 * the N lines of a record in format 3 (a task line and its files),
 * appended as a run records a success. Lines of another ID than the
 * state's are stale and ignored.
 */
#define STATE_MAGIC "weft-state"
#define STATE_VERSION 4      /* binary: written */
#define STATE_VERSION_TEXT 3 /* text: read, and the journal's records */
#define STATE_VERSION_OLD 2  /* text without SEEN: read */
/* A record that no run has named for this long (its task was renamed or
 * deleted, or it is an item no longer listed) is dropped. */
#define STATE_KEEP_DAYS 30
/* A temporary state older than this was left by a killed weft. */
#define STALE_TMP_SECONDS (10 * 60)

/* Records in memory. */

void cachefile_hex16(const unsigned char h[16], char out[HEX_LEN + 1])
{
	/* Each byte's two digits at once (four hashes per item of a no-op). */
	static const char pairs[513] =
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
	"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
	"606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
	"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
	"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
	"c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
	"e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
	for (int i = 0; i < 16; i++)
		memcpy(out + 2 * i, pairs + 2 * h[i], 2);
	out[HEX_LEN] = '\0';
}

/* The entries are in the list's own block, as many as it was made for:
 * one allocation for a list that never grows past them (a loaded one, or
 * a check's, made as long as the record's). */
struct files *files_new(size_t cap)
{
	/* The entries are written as they are added: not zeroed first (a
	 * no-op run makes a few thousand lists). */
	struct files *f = xmalloc(sizeof *f + cap * sizeof *f->v);
	*f = (struct files){.refs = 1, .cap = cap, .v = cap ? (struct fentry *)(f + 1) : NULL};
	return f;
}

void files_add(struct files *f, const struct fentry *e)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 8;
		struct fentry *v = xmalloc(cap * sizeof *v);
		if (f->n)
			memcpy(v, f->v, f->n * sizeof *v);
		if (f->v != (struct fentry *)(f + 1))
			free(f->v);
		f->v = v;
		f->cap = cap;
	}
	f->v[f->n++] = *e;
}

struct files *files_ref(struct files *f)
{
	f->refs++;
	return f;
}

static void blob_unref(struct blob *b)
{
	if (b && !--b->refs) {
		free(b->data);
		free(b);
	}
}

void files_unref(struct files *f)
{
	if (!f || --f->refs)
		return;
	if (f->blob)
		blob_unref(f->blob);
	else
		for (size_t i = 0; i < f->n; i++)
			if (!f->v[i].borrowed)
				free(f->v[i].path);
	files_unref(f->base);
	if (f->v != (struct fentry *)(f + 1))
		free(f->v);
	free(f);
}

static void record_free(struct record *r)
{
	files_unref(r->files);
	files_unref(r->outs);
	free(r->name);
	free(r);
}

/* A new record of a name c has none of, with these lists. */
static struct record *record_add(struct cache *c, const char *name, struct files *files, struct files *outs)
{
	struct record *r = xcalloc(1, sizeof *r);
	r->name = xstrdup(name);
	r->files = files;
	r->outs = outs;
	grow(&c->recs, &c->cap, c->nrecs + 1, sizeof *c->recs);
	c->recs[c->nrecs++] = r;
	hashtab_put(c->byname, r->name, r);
	return r;
}

struct record *record_get(struct cache *c, const char *name)
{
	struct record *r = hashtab_get(c->byname, name);
	return r ? r : record_add(c, name, files_new(0), files_new(0));
}

static int journal_write(struct cache *c, const char *kind, const void *what,
			 void (*make)(struct buf *b, const void *what), bool sync);

static struct cache *cache_alloc(const char *dir)
{
	struct cache *c = xcalloc(1, sizeof *c);
	c->wdir = strcmp(dir, ".") == 0 ? xstrdup(".weft") : xasprintf("%s/.weft", dir);
	c->byname = hashtab_new();
	c->lock_fd = -1;
	return c;
}

/* Around every read and write of .weft/ when runs share it. */
static void lock(const struct cache *c, int op)
{
	if (c->lock_fd >= 0)
		while (flock(c->lock_fd, op) < 0 && errno == EINTR)
			;
}

/* dst gets src's contents (src gets dst's, to free). */
static void record_swap(struct record *dst, struct record *src)
{
	struct record t = *dst;
	char *name = dst->name;
	*dst = *src;
	dst->name = name;
	src->files = t.files;
	src->outs = t.outs;
}

/* Drops every record and the state's id; the cache stays usable. */
static void clear(struct cache *c)
{
	for (size_t i = 0; i < c->nrecs; i++)
		record_free(c->recs[i]);
	free(c->recs);
	c->recs = NULL;
	c->nrecs = c->cap = 0;
	hashtab_free(c->byname);
	c->byname = hashtab_new();
	c->id[0] = '\0';
}

void cachefile_free(struct cache *c)
{
	if (!c)
		return;
	clear(c);
	hashtab_free(c->byname);
	free(c->wdir);
	free(c);
}

/* Escaping of state fields. */

static const char escaped[] = "\\\t\n\r";

/* In place; false on a bad escape. */
static bool unescape(char *s)
{
	s = strchr(s, '\\');
	if (!s)
		return true; /* nearly every field: nothing to undo */
	char *w = s;
	for (; *s; s++) {
		if (*s != '\\') {
			*w++ = *s;
			continue;
		}
		int c = escape_decode(*++s, escaped);
		if (c < 0)
			return false;
		*w++ = (char)c;
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
		/* No division per digit: the overflow builtins. */
		if (d > 9 || __builtin_mul_overflow(x, 10, &x) || __builtin_add_overflow(x, d, &x))
			return false;
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

/* Each lowercase hex digit's value plus one; 0: not one. */
static const unsigned char hex_val[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8,
	['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!hex_val[(unsigned char)s[i]])
			return false;
	return s[n] == '\0';
}

#define ONES 0x0101010101010101ULL
#define HIGH 0x8080808080808080ULL

/* The eight bytes at s into *x, and whether they are all lowercase hex
 * digits, eight at a time (SWAR, as eight_digits() below); *letter: the
 * top bit of each byte that is a letter. Reads eight bytes: read_regular()
 * pads its buffers, and a caller goes on to the next eight only when
 * these were digits (no NUL among them). */
static inline bool hex8_scan(const char *s, uint64_t *x, uint64_t *letter)
{
	memcpy(x, s, 8);
	if (*x & HIGH)
		return false;
	/* Each byte below 0x80 plus at most 0x50: no carry into the next. */
	uint64_t digit = (*x + ONES * (0x80 - '0')) & ~(*x + ONES * (0x80 - '9' - 1)) & HIGH;
	*letter = (*x + ONES * (0x80 - 'a')) & ~(*x + ONES * (0x80 - 'f' - 1)) & HIGH;
	return (digit | *letter) == HIGH;
}

/* The eight lowercase hex digits at s as four bytes into out: false when
 * one is not a digit. */
static inline bool hex8(const char *s, unsigned char out[4])
{
	uint64_t x, letter;
	if (!hex8_scan(s, &x, &letter))
		return false;
	uint64_t nib = (x & ONES * 0x0F) + (letter >> 7) * 9;
	/* Bytes in memory order, little-endian: each pair, high digit first, into one. */
	uint64_t pairs = (nib & 0x00FF00FF00FF00FFULL) << 4 | ((nib >> 8) & 0x00FF00FF00FF00FFULL);
	out[0] = (unsigned char)pairs;
	out[1] = (unsigned char)(pairs >> 16);
	out[2] = (unsigned char)(pairs >> 32);
	out[3] = (unsigned char)(pairs >> 48);
	return true;
}

/* The 32 hex digits at s into h; false when one is not a digit. */
static bool hex_bytes(const char *s, unsigned char h[16])
{
	for (int i = 0; i < 4; i++)
		if (!hex8(s + 8 * i, h + 4 * i))
			return false;
	return true;
}

/* Whether the eight bytes at s are lowercase hex digits: hex8() without
 * the decoding. */
static inline bool hex8_ok(const char *s)
{
	uint64_t x, letter;
	return hex8_scan(s, &x, &letter);
}

/* is_hex(s, HEX_LEN) for a field of a buffer of read_regular(), or of 33
 * bytes. */
static bool is_hex32(const char *s)
{
	return hex8_ok(s) && hex8_ok(s + 8) && hex8_ok(s + 16) && hex8_ok(s + 24) && s[HEX_LEN] == '\0';
}

/* Splits line at tabs into at most max fields; returns how many. */
static int split(char *line, char **f, int max)
{
	int n = 0;
	f[n++] = line;
	for (char *p = line; (p = strchr(p, '\t')); p++) {
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

/* The eight bytes at s as a number when they are all ASCII digits, else
 * UINT64_MAX: a few multiplications instead of eight rounds (Lemire's
 * "fast parsing of 8 digits"; bytes in memory order, little-endian). */
static inline __attribute__((always_inline)) uint64_t eight_digits(const char *s)
{
	uint64_t v;
	memcpy(&v, s, 8);
	uint64_t d = v - 0x3030303030303030ULL;
	/* A byte below '0' borrows, one above '9' carries: either sets its top bit. */
	if (((v + 0x4646464646464646ULL) | d) & 0x8080808080808080ULL)
		return UINT64_MAX;
	d = d * 10 + (d >> 8);
	return (((d & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32))) +
		(((d >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >> 32;
}

/* The decimal number at *p, ended by end ('\t', or '\0' for a line's last
 * field), without strtoll's locale and base handling; *p moves past end.
 * The state has tens of thousands of numbers and loading it is on every
 * run's path. Reads up to 8 bytes past the end: read_regular() pads its
 * buffers. Up to 19 digits cannot overflow: only more are checked. */
static inline __attribute__((always_inline)) bool field_u64(char **p, char end, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0, e;
	size_t n = 0;
	while (n < 16 && (e = eight_digits(s + n)) != UINT64_MAX) {
		x = x * 100000000 + e;
		n += 8;
	}
	for (unsigned d; n < 19 && (d = (unsigned)(s[n] - '0')) <= 9; n++)
		x = x * 10 + d;
	for (unsigned d; (d = (unsigned)(s[n] - '0')) <= 9; n++)
		if (__builtin_mul_overflow(x, 10, &x) || __builtin_add_overflow(x, d, &x))
			return false;
	if (n == 0 || s[n] != end)
		return false;
	*v = x;
	*p = (char *)s + n + 1;
	return true;
}

static inline __attribute__((always_inline)) bool field_i64(char **p, char end, int64_t *v)
{
	bool neg = **p == '-';
	uint64_t x;
	char *q = *p + neg;
	if (!field_u64(&q, end, &x) || x > (uint64_t)INT64_MAX + neg)
		return false;
	*v = neg ? (int64_t)(0 - x) : (int64_t)x;
	*p = q;
	return true;
}

/* A source ("file" or "dep") or output ("out") line, field by field in
 * one pass: the state has thousands of them, and loading it is on every
 * run's path. */
static bool parse_file(char *line, struct fentry *e, bool out, bool borrow)
{
	char *p = line;
	/* memcmp(), which the compiler inlines: the buffer is padded. */
	if (out ? memcmp(p, "out\t", 4) == 0 : memcmp(p, "file\t", 5) == 0)
		e->from = out ? 0 : FROM_PATTERN;
	else if (!out && memcmp(p, "dep\t", 4) == 0)
		e->from = FROM_DEPFILE;
	else
		return false;
	p += e->from == FROM_PATTERN ? 5 : 4;
	char *path = p;
	if (!(p = strchr(p, '\t')))
		return false;
	*p++ = '\0';
	if (!unescape(path) || !*path)
		return false;
	if (!hex_bytes(p, e->hash))
		return false;
	p += HEX_LEN;
	if (*p++ != '\t')
		return false;
	if (!field_i64(&p, '\t', &e->size) || !field_i64(&p, '\t', &e->mtime) || !field_i64(&p, '\t', &e->ctime) ||
	    !field_u64(&p, '\t', &e->ino) || !field_u64(&p, '\t', &e->dev) || !field_i64(&p, '\0', &e->verified))
		return false;
	e->path = borrow ? path : xstrdup(path);
	e->borrowed = false;
	return true;
}

/* Parses the records in [p, end) into c; returns 0, or the number of the
 * first bad line. blob: the buffer [p, end) is in, which the files' paths
 * then point into (NULL: they are copied). */
static int parse_body(struct cache *c, char *p, char *end, int lineno, int64_t version, struct blob *blob)
{
	int nf = version == STATE_VERSION_OLD ? 9 : 10;
	int64_t today = (int64_t)(time(NULL) / 86400);
	while (p < end) {
		char *line = next_line(&p, end);
		if (!line)
			return lineno;
		char *f[10];
		uint64_t n, m;
		int64_t seen = today;
		if (split(line, f, nf) != nf || strcmp(f[0], "task") != 0 || !unescape(f[1]) ||
		    (nf == 10 && !parse_i64(f[9], &seen)) ||
		    hashtab_get(c->byname, f[1]) || !parse_u64(f[7], &n) || n > (uint64_t)(end - p) ||
		    !parse_u64(f[8], &m) || m > (uint64_t)(end - p))
			return lineno;
		bool ok = strcmp(f[2], "ok") == 0;
		if (!ok && strcmp(f[2], "failed") != 0)
			return lineno;
		if (ok ? !is_hex32(f[3]) : strcmp(f[3], "-") != 0)
			return lineno;
		for (int i = 4; i < 7; i++)
			if (*f[i] && !is_hex32(f[i]))
				return lineno;
		/* New: the name was looked up above. */
		struct record *rec = record_add(c, f[1], files_new(n), files_new(m));
		rec->seen = seen;
		rec->ok = rec->disk_ok = ok;
		/* Each is "" or HEX_LEN digits (checked above); snprintf was a
		 * tenth of the load. */
		memcpy(rec->fp, ok ? f[3] : "", ok ? HEX_LEN + 1 : 1);
		memcpy(rec->cmd, f[4], strlen(f[4]) + 1);
		memcpy(rec->env, f[5], strlen(f[5]) + 1);
		memcpy(rec->deps, f[6], strlen(f[6]) + 1);
		if (blob) {
			rec->files->blob = rec->outs->blob = blob;
			blob->refs += 2;
		}
		for (int list = 0; list < 2; list++) {
			struct files *fs = list ? rec->outs : rec->files;
			for (uint64_t i = 0; i < fs->cap; i++) {
				lineno++;
				char *fl = next_line(&p, end);
				if (!fl || !parse_file(fl, &fs->v[i], list == 1, blob != NULL))
					return lineno;
				fs->n++;
				/* Checks merge sorted lists: the order is part of the format. */
				if (i > 0 && strcmp(fs->v[i - 1].path, fs->v[i].path) >= 0)
					return lineno;
			}
		}
		lineno++;
	}
	return 0;
}

/* The binary body (format 4). */

/* Each kind's byte; the order of the text's "out", "file", "dep". */
enum { KIND_OUT, KIND_FILE, KIND_DEP };
#define BYTE_ORDER_MARK 1u
/* The fewest bytes a file takes: kind, size, a one-byte path and its NUL,
 * hash, six numbers. */
#define MIN_FILE_BYTES (1 + 4 + 2 + 16 + 6 * 8)

struct reader {
	const char *p, *end;
};

static bool get(struct reader *r, void *to, size_t n)
{
	if ((size_t)(r->end - r->p) < n)
		return false;
	memcpy(to, r->p, n);
	r->p += n;
	return true;
}

/* A u32 size, then that many bytes: a string and its NUL, nothing else. */
static const char *get_str(struct reader *r)
{
	uint32_t n;
	if (!get(r, &n, sizeof n) || n < 2 || (size_t)(r->end - r->p) < n || r->p[n - 1] != '\0' ||
	    memchr(r->p, '\0', n - 1))
		return NULL;
	const char *s = r->p;
	r->p += n;
	return s;
}

static bool get_file(struct reader *r, struct fentry *e, bool out)
{
	unsigned char kind;
	int64_t n[6];
	if (!get(r, &kind, 1) || (out ? kind != KIND_OUT : kind != KIND_FILE && kind != KIND_DEP))
		return false;
	e->from = kind == KIND_FILE ? FROM_PATTERN : kind == KIND_DEP ? FROM_DEPFILE : 0;
	e->borrowed = false;
	/* The paths stay in the blob: no copy. */
	if (!(e->path = (char *)get_str(r)) || !get(r, e->hash, 16) || !get(r, n, sizeof n))
		return false;
	e->size = n[0];
	e->mtime = n[1];
	e->ctime = n[2];
	e->ino = (uint64_t)n[3];
	e->dev = (uint64_t)n[4];
	e->verified = n[5];
	return true;
}

/* Parses the records of the binary body [p, end) into c, their paths
 * borrowed from blob; returns 0, or the number of the first bad record. */
static int parse_binary(struct cache *c, const char *p, const char *end, struct blob *blob)
{
	struct reader r = {p, end};
	uint32_t bom;
	if (!get(&r, &bom, sizeof bom) || bom != BYTE_ORDER_MARK)
		return 1;
	for (int nrec = 1; r.p < r.end; nrec++) {
		const char *name = get_str(&r);
		unsigned char ok, has;
		int64_t seen;
		uint32_t n, m;
		if (!name || hashtab_get(c->byname, name) || !get(&r, &ok, 1) || ok > 1 || !get(&r, &has, 1) ||
		    has > 15 || (ok && !(has & 1)) || (!ok && (has & 1)))
			return nrec;
		char hex[4][HEX_LEN + 1] = {"", "", "", ""};
		for (int i = 0; i < 4; i++) {
			if (!(has & 1u << i))
				continue;
			if (!get(&r, hex[i], HEX_LEN) || !is_hex32(hex[i]))
				return nrec;
		}
		if (!get(&r, &seen, 8) || !get(&r, &n, 4) || !get(&r, &m, 4) ||
		    (uint64_t)n + m > (size_t)(r.end - r.p) / MIN_FILE_BYTES)
			return nrec;
		struct record *rec = record_add(c, name, files_new(n), files_new(m));
		rec->seen = seen;
		rec->ok = rec->disk_ok = ok;
		memcpy(rec->fp, hex[0], sizeof rec->fp);
		memcpy(rec->cmd, hex[1], sizeof rec->cmd);
		memcpy(rec->env, hex[2], sizeof rec->env);
		memcpy(rec->deps, hex[3], sizeof rec->deps);
		rec->files->blob = rec->outs->blob = blob;
		blob->refs += 2;
		for (int list = 0; list < 2; list++) {
			struct files *fs = list ? rec->outs : rec->files;
			for (size_t i = 0; i < fs->cap; i++) {
				if (!get_file(&r, &fs->v[i], list == 1))
					return nrec;
				fs->n++;
				/* Checks merge sorted lists: the order is part of the format. */
				if (i > 0 && strcmp(fs->v[i - 1].path, fs->v[i].path) >= 0)
					return nrec;
			}
		}
	}
	return 0;
}

/* What another run's writes change: see struct file_mark. */
static void mark_file(struct file_mark *m, const struct stat *st)
{
	m->exists = true;
	m->dev = st->st_dev;
	m->ino = st->st_ino;
	m->size = st->st_size;
	m->mtime = timespec_ns(st->st_mtim);
	m->ctime = timespec_ns(st->st_ctim);
}

/* .weft/ now, by name (without following a link, as the loads open it). */
static void mark_now(const struct cache *c, struct disk_mark *m)
{
	memset(m, 0, sizeof *m);
	struct stat st;
	char *path = xasprintf("%s/state", c->wdir);
	if (lstat(path, &st) == 0)
		mark_file(&m->state, &st);
	free(path);
	path = xasprintf("%s/journal", c->wdir);
	if (lstat(path, &st) == 0)
		mark_file(&m->journal, &st);
	free(path);
}

bool cachefile_unmoved(struct cache *c)
{
	if (c->lock_fd < 0)
		return true;
	if (!c->moved) {
		struct disk_mark now;
		mark_now(c, &now);
		c->moved = memcmp(&now, &c->mark, sizeof now) != 0;
	}
	return !c->moved;
}

/* Before this run writes .weft/ itself, under the lock: whether someone
 * else has since it last looked (then moved, for good). */
static void mark_before_write(struct cache *c)
{
	if (c->lock_fd >= 0)
		cachefile_unmoved(c);
}

/* After this run wrote .weft/ itself, still under the lock. */
static void mark_after_write(struct cache *c)
{
	if (c->lock_fd >= 0 && !c->moved)
		mark_now(c, &c->mark);
}

/* Returns NULL, or what is wrong with the state file. */
static char *load_state(struct cache *c, int dfd)
{
	int fd = openat(dfd, "state", O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? NULL : xstrdup(strerror(errno));
	size_t len;
	struct stat st;
	char *data = read_regular(fd, SIZE_MAX, &len, &st);
	int err = errno;
	close(fd);
	if (!data)
		return xstrdup(err == EINVAL ? "not a regular file" : strerror(err));
	mark_file(&c->mark.state, &st);
	struct blob *blob = xcalloc(1, sizeof *blob);
	blob->refs = 1;
	blob->data = data;
	char *why = NULL;
	char *p = data, *end = data + len;
	char *head = next_line(&p, end);
	char *f[5];
	uint64_t blen;
	int64_t version;
	if (!head || split(head, f, 5) != 5 || strcmp(f[0], STATE_MAGIC) != 0 || !parse_i64(f[1], &version)) {
		why = xstrdup("not a weft state file");
	} else if (version != STATE_VERSION && version != STATE_VERSION_TEXT && version != STATE_VERSION_OLD) {
		why = xasprintf("written by another version of weft (format %s)", f[1]);
	} else if (!is_hex(f[2], 16) || !parse_u64(f[3], &blen) || !is_hex(f[4], HEX_LEN)) {
		why = xstrdup("bad header");
	} else if (blen != (uint64_t)(end - p)) {
		why = xstrdup(blen > (uint64_t)(end - p) ? "truncated" : "longer than its header says");
	} else {
		char sum[HEX_LEN + 1];
		XXH128_canonical_t cs;
		XXH128_canonicalFromHash(&cs, XXH3_128bits(p, blen));
		cachefile_hex16(cs.digest, sum);
		int bad;
		if (strcmp(sum, f[4]) != 0)
			why = xstrdup("checksum mismatch");
		else if (version == STATE_VERSION && (bad = parse_binary(c, p, end, blob)))
			why = xasprintf("bad record %d", bad);
		else if (version != STATE_VERSION && (bad = parse_body(c, p, end, 2, version, blob)))
			why = xasprintf("bad line %d", bad);
		else
			snprintf(c->id, sizeof c->id, "%s", f[2]);
		/* Saved again in the binary format (format 2: so that SEEN
		 * counts from now). */
		if (!why && version != STATE_VERSION)
			c->dirty = true;
	}
	if (why)
		clear(c);
	blob_unref(blob);
	return why;
}

/* The record in [p, end), in the state's format, replaces c's of its name. */
static void take_record(struct cache *c, char *p, char *end)
{
	struct cache *t = cache_alloc(".");
	if (parse_body(t, p, end, 1, STATE_VERSION_TEXT, NULL) == 0 && t->nrecs == 1) {
		struct record *r = record_get(c, t->recs[0]->name);
		record_swap(r, t->recs[0]);
	}
	cachefile_free(t);
}

/* Withdraws the successes that cache_forget() journalled against this
 * state. Returns NULL, or what is wrong with the journal: then it withdraws
 * them all, as it cannot tell which. */
static char *load_journal(struct cache *c, int dfd)
{
	if (!c->id[0])
		return NULL;
	int fd = openat(dfd, "journal", O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	size_t len;
	struct stat st;
	char *data = fd < 0 ? NULL : read_regular(fd, SIZE_MAX, &len, &st);
	int err = errno;
	if (fd >= 0)
		close(fd);
	if (fd < 0 && err == ENOENT)
		return NULL;
	if (!data) {
		/* disk_ok stays: the state file still says so, and the next
		 * cache_forget() of each must put that right. */
		for (size_t i = 0; i < c->nrecs; i++) {
			c->recs[i]->ok = false;
			c->recs[i]->fp[0] = '\0';
		}
		return xstrdup(err == EINVAL ? "not a regular file" : strerror(err));
	}
	mark_file(&c->mark.journal, &st);
	/* A torn last line was never synced, so its task never started. */
	char *p = data, *line;
	while ((line = next_line(&p, data + len))) {
		char *f[3];
		if (split(line, f, 3) != 3)
			continue;
		if (strcmp(f[0], "record") == 0) {
			uint64_t n;
			char *start = p, *end = p;
			if (!parse_u64(f[2], &n))
				continue;
			for (uint64_t i = 0; i < n && end; i++) {
				char *nl = memchr(end, '\n', (size_t)(data + len - end));
				end = nl ? nl + 1 : NULL;
			}
			if (!end)
				break; /* torn: never written whole */
			p = end;
			if (strcmp(f[1], c->id) == 0)
				take_record(c, start, end);
			continue;
		}
		if (strcmp(f[0], "forget") != 0 || strcmp(f[1], c->id) != 0 || !unescape(f[2]))
			continue;
		struct record *r = hashtab_get(c->byname, f[2]);
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

/* Reads the state and journal on disk into c, which is empty. */
static char *load_into(struct cache *c)
{
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
	return why;
}

struct cache *cachefile_load(const char *dir, char **warning)
{
	struct cache *c = cache_alloc(dir);
	char *why = load_into(c);
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

static void format_record(const struct record *r, struct buf *b)
{
	{
		buf_adds(b, "task\t");
		escape_add(b, r->name, escaped);
		buf_addf(b, "\t%s\t%s\t%s\t%s\t%s\t%zu\t%zu\t%lld\n", r->ok ? "ok" : "failed", r->ok ? r->fp : "-",
			 r->cmd, r->env, r->deps, r->files->n, r->outs->n, (long long)r->seen);
		for (size_t j = 0; j < r->files->n + r->outs->n; j++) {
			bool out = j >= r->files->n;
			const struct fentry *e = out ? &r->outs->v[j - r->files->n] : &r->files->v[j];
			char h[HEX_LEN + 1];
			cachefile_hex16(e->hash, h);
			buf_adds(b, out ? "out\t" : e->from & FROM_DEPFILE ? "dep\t" : "file\t");
			escape_add(b, e->path, escaped);
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
}

static void put_str(struct buf *b, const char *s)
{
	uint32_t n = (uint32_t)strlen(s) + 1;
	buf_add(b, &n, sizeof n);
	buf_add(b, s, n);
}

static void put_record(const struct record *r, struct buf *b)
{
	put_str(b, r->name);
	const char *hex[4] = {r->ok ? r->fp : "", r->cmd, r->env, r->deps};
	unsigned char ok = r->ok, has = 0;
	for (int i = 0; i < 4; i++)
		if (strlen(hex[i]) == HEX_LEN)
			has |= (unsigned char)(1u << i);
	buf_add(b, &ok, 1);
	buf_add(b, &has, 1);
	for (int i = 0; i < 4; i++)
		if (has & 1u << i)
			buf_add(b, hex[i], HEX_LEN);
	uint32_t n = (uint32_t)r->files->n, m = (uint32_t)r->outs->n;
	buf_add(b, &r->seen, 8);
	buf_add(b, &n, 4);
	buf_add(b, &m, 4);
	for (size_t j = 0; j < r->files->n + r->outs->n; j++) {
		bool out = j >= r->files->n;
		const struct fentry *e = out ? &r->outs->v[j - r->files->n] : &r->files->v[j];
		unsigned char kind = out ? KIND_OUT : e->from & FROM_DEPFILE ? KIND_DEP : KIND_FILE;
		int64_t num[6] = {e->size, e->mtime, e->ctime, (int64_t)e->ino, (int64_t)e->dev, e->verified};
		buf_add(b, &kind, 1);
		put_str(b, e->path);
		buf_add(b, e->hash, 16);
		buf_add(b, num, sizeof num);
	}
}

/* The body in format 4 (binary), records sorted by name; text: in
 * format 3. */
static void format_body(const struct cache *c, struct buf *b, bool text)
{
	struct record **v = xcalloc(c->nrecs, sizeof *v);
	if (c->nrecs) {
		memcpy(v, c->recs, c->nrecs * sizeof *v);
		qsort(v, c->nrecs, sizeof *v, by_record_name);
	}
	if (!text) {
		uint32_t bom = BYTE_ORDER_MARK;
		buf_add(b, &bom, sizeof bom);
	}
	for (size_t i = 0; i < c->nrecs; i++)
		(text ? format_record : put_record)(v[i], b);
	free(v);
}

/* The header line of a body. */
static void format_head(struct buf *head, int version, const char *id, const struct buf *body)
{
	char sum[HEX_LEN + 1];
	XXH128_canonical_t cs;
	XXH128_canonicalFromHash(&cs, XXH3_128bits(body->p ? body->p : "", body->len));
	cachefile_hex16(cs.digest, sum);
	buf_addf(head, "%s\t%d\t%s\t%zu\t%s\n", STATE_MAGIC, version, id, body->len, sum);
}

char *cachefile_text(const struct cache *c)
{
	struct buf body, all;
	buf_init(&body);
	buf_init(&all);
	format_body(c, &body, true);
	format_head(&all, STATE_VERSION_TEXT, c->id[0] ? c->id : "0000000000000000", &body);
	if (body.len)
		buf_add(&all, body.p, body.len);
	buf_release(&body);
	return buf_take(&all);
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
		if ((strncmp(e->d_name, "state.tmp-", 10) == 0 || strncmp(e->d_name, "dirs.tmp-", 9) == 0) &&
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
		err = write_full(fd, head->p, head->len);
	if (!err)
		err = write_full(fd, body->p, body->len);
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

/* Shared state: what is on disk now, with c's own changes over it where
 * they must win, becomes c. */
static void merge(struct cache *c)
{
	struct cache *d = cache_alloc(".");
	free(d->wdir);
	d->wdir = xstrdup(c->wdir);
	free(load_into(d));
	for (size_t i = 0; i < c->nrecs; i++) {
		struct record *r = c->recs[i];
		struct record *dr = hashtab_get(d->byname, r->name);
		/* Another run's later record or withdrawal stays; this run's
		 * fresher stat data of the same success, a record the disk
		 * lacks, and a withdrawal the journal never got, go over it. */
		bool ours = !dr || (!r->ok && r->pending) || (r->ok && dr->ok && strcmp(r->fp, dr->fp) == 0);
		if (ours)
			record_swap(record_get(d, r->name), r);
		else
			dr->named |= r->named; /* this run named it all the same */
	}
	/* d's records, under c. */
	struct cache t = *c;
	c->byname = d->byname;
	c->recs = d->recs;
	c->nrecs = d->nrecs;
	c->cap = d->cap;
	memcpy(c->id, d->id, sizeof c->id);
	d->byname = t.byname;
	d->recs = t.recs;
	d->nrecs = t.nrecs;
	d->cap = t.cap;
	cachefile_free(d);
	c->dirty = true;
}

static int save(struct cache *c);
static void prune_records(struct cache *c);

int cachefile_save(struct cache *c)
{
	if (!c->dirty)
		return 0;
	if (c->lock_fd < 0)
		return save(c);
	lock(c, LOCK_EX);
	mark_before_write(c);
	merge(c);
	/* What was pruned must not come back from the disk. */
	if (c->prune)
		prune_records(c);
	int err = save(c);
	mark_after_write(c);
	lock(c, LOCK_UN);
	return err;
}

static int save(struct cache *c)
{
	int dfd = open_wdir(c, true);
	if (dfd < 0)
		return dfd;
	struct buf body, head;
	buf_init(&body);
	buf_init(&head);
	format_body(c, &body, false);
	char id[17];
	random_hex(id);
	format_head(&head, STATE_VERSION, id, &body);
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

void cachefile_prune(struct cache *c, bool (*gone)(const char *name, void *ud), void *ud)
{
	c->prune = true;
	c->prune_gone = gone;
	c->prune_ud = ud;
	prune_records(c);
}

static void prune_records(struct cache *c)
{
	bool (*gone)(const char *name, void *ud) = c->prune_gone;
	void *ud = c->prune_ud;
	int64_t today = (int64_t)(time(NULL) / 86400);
	size_t w = 0;
	for (size_t i = 0; i < c->nrecs; i++) {
		struct record *r = c->recs[i];
		if (r->named && r->seen != today) {
			r->seen = today;
			c->dirty = true;
		}
		if (!r->named && ((gone && gone(r->name, ud)) || today - r->seen > STATE_KEEP_DAYS)) {
			record_free(r);
			continue;
		}
		c->recs[w++] = r;
	}
	if (w == c->nrecs)
		return;
	c->nrecs = w;
	c->dirty = true;
	/* The table borrows the names of the records it held. */
	hashtab_free(c->byname);
	c->byname = hashtab_new();
	for (size_t i = 0; i < c->nrecs; i++)
		hashtab_put(c->byname, c->recs[i]->name, c->recs[i]);
}

/* The journal. */

/* The id of the state on disk now, into id ("" when there is none). */
static void current_id(int dfd, char id[17])
{
	id[0] = '\0';
	int fd = openat(dfd, "state", O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return;
	char head[128];
	ssize_t n = read(fd, head, sizeof head - 1);
	close(fd);
	if (n <= 0)
		return;
	head[n] = '\0';
	char *p = head, *line = next_line(&p, head + n), *f[5];
	if (line && split(line, f, 5) == 5 && is_hex(f[2], 16))
		memcpy(id, f[2], 17);
}

/* Appends what make() writes after "KIND\tID\t" to the journal, ID being
 * the state's on disk: when other runs share it, under the lock and read
 * afresh, since one of them may have replaced it. */
static int journal_append(struct cache *c, const char *kind, const void *what,
			  void (*make)(struct buf *b, const void *what), bool sync)
{
	lock(c, LOCK_EX);
	mark_before_write(c);
	int err = journal_write(c, kind, what, make, sync);
	mark_after_write(c);
	lock(c, LOCK_UN);
	return err;
}

static void forget_line(struct buf *b, const void *name)
{
	escape_add(b, name, escaped);
	buf_add(b, "\n", 1);
}

static void record_lines(struct buf *b, const void *r)
{
	struct buf body;
	buf_init(&body);
	format_record(r, &body);
	size_t n = 0;
	for (size_t i = 0; i < body.len; i++)
		n += body.p[i] == '\n';
	buf_addf(b, "%zu\n", n);
	buf_add(b, body.p, body.len);
	buf_release(&body);
}

int cachefile_forget(struct cache *c, const char *name)
{
	return journal_append(c, "forget", name, forget_line, true);
}

int cachefile_journal_record(struct cache *c, const struct record *r)
{
	return journal_append(c, "record", r, record_lines, false);
}

void cachefile_refresh(struct cache *c, const char *name)
{
	struct cache *d = cache_alloc(".");
	free(d->wdir);
	d->wdir = xstrdup(c->wdir);
	lock(c, LOCK_EX);
	free(load_into(d));
	lock(c, LOCK_UN);
	struct record *dr = hashtab_get(d->byname, name);
	if (dr) {
		struct record *r = record_get(c, name);
		record_swap(r, dr);
		/* What another run recorded is on disk, under its id. */
		r->disk_ok = r->ok;
	}
	cachefile_free(d);
}

static int journal_write(struct cache *c, const char *kind, const void *what,
			 void (*make)(struct buf *b, const void *what), bool sync)
{
	int dfd = open_wdir(c, false);
	if (dfd < 0)
		return dfd;
	char id[17];
	if (c->lock_fd >= 0) {
		current_id(dfd, id);
		if (!id[0]) {
			close(dfd);
			return -ENOENT;
		}
	} else {
		memcpy(id, c->id, sizeof id);
	}
	const int flags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK;
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
	buf_addf(&b, "%s\t%s\t", kind, id);
	make(&b, what);
	/* One write() so that a kill cannot tear the line; a forget is synced
	 * before the task may touch anything. */
	err = write_full(fd, b.p, b.len);
	if (!err && sync && fdatasync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && !err && errno != EINTR)
		err = -errno;
	buf_release(&b);
	return err;
}
