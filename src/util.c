/* Small helpers used everywhere: allocation that never fails, a growable byte buffer, string utilities. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

static void oom(void)
{
	static const char msg[] = "weft: out of memory\n";
	fwrite(msg, 1, sizeof msg - 1, stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	buf_init(&b);
	va_start(ap, fmt);
	char tmp[256];
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	if ((size_t)n < sizeof tmp) {
		buf_add(&b, tmp, (size_t)n);
	} else {
		char *big = xmalloc((size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
		buf_add(&b, big, (size_t)n);
		free(big);
	}
	return buf_take(&b);
}

/* AddressSanitizer: GCC says so with __SANITIZE_ADDRESS__, clang with
 * __has_feature. */
#if defined(__SANITIZE_ADDRESS__) && !defined(WEFT_FREE_AT_EXIT)
#define WEFT_FREE_AT_EXIT 1
#endif
#if defined(__has_feature) && !defined(WEFT_FREE_AT_EXIT)
#if __has_feature(address_sanitizer)
#define WEFT_FREE_AT_EXIT 1
#endif
#endif

bool exit_keep(void *p)
{
#ifdef WEFT_FREE_AT_EXIT
	(void)p;
	return false;
#else
	/* Pointed to from here, the memory is reachable to the end, not a
	 * leak to valgrind or LeakSanitizer. */
	/* volatile: stores that are never read back must still be made. */
	static void *volatile kept[8];
	static size_t n;
	if (n == sizeof kept / sizeof *kept)
		return false;
	kept[n++] = p;
	return true;
#endif
}

void grow(void *pp, size_t *cap, size_t need, size_t size)
{
	void **p = pp;
	if (need <= *cap)
		return;
	/* Bytes start at 64: most buffers hold a line or a command. */
	size_t n = *cap ? *cap * 2 : size == 1 ? 64 : 8;
	while (n < need)
		n *= 2;
	*p = xrealloc(*p, n * size);
	*cap = n;
}

void buf_init(struct buf *b)
{
	b->p = NULL;
	b->len = b->cap = 0;
}

void buf_release(struct buf *b)
{
	free(b->p);
	buf_init(b);
}

void buf_add(struct buf *b, const void *data, size_t n)
{
	if (b->len + n + 1 > b->cap)
		grow(&b->p, &b->cap, b->len + n + 1, 1);
	if (n) /* an empty buffer's data may be NULL */
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
	/* One pass when the text fits the room there is, as it mostly does. */
	grow(&b->p, &b->cap, b->len + 64, 1);
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	if ((size_t)n >= b->cap - b->len) {
		grow(&b->p, &b->cap, b->len + (size_t)n + 1, 1);
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

void buf_add_uint(struct buf *b, unsigned long long v)
{
	char t[20];
	size_t i = sizeof t;
	do
		t[--i] = (char)('0' + v % 10);
	while (v /= 10);
	buf_add(b, t + i, sizeof t - i);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

char *buf_take(struct buf *b)
{
	char *p = b->p ? b->p : xstrdup("");
	buf_init(b);
	return p;
}

char **split_blanks(const char *s, size_t *n)
{
	char **v = xcalloc(strlen(s) / 2 + 2, sizeof *v);
	size_t k = 0;
	for (;;) {
		s += strspn(s, " \t");
		size_t len = strcspn(s, " \t");
		if (!len)
			break;
		v[k++] = xstrndup(s, len);
		s += len;
	}
	if (n)
		*n = k;
	return v;
}

void free_words(char **v)
{
	if (!v)
		return;
	for (size_t i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

const char *parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	unsigned long long n = 0;
	const char *p = s;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (d > max || n > (max - d) / 10)
			return NULL;
		n = n * 10 + d;
	}
	if (p == s)
		return NULL;
	*out = n;
	return p;
}

int parse_count(const char *s, unsigned *out)
{
	unsigned long long n;
	const char *end = parse_uint(s, 100000, &n);
	if (!end || *end || n < 1)
		return -1;
	*out = (unsigned)n;
	return 0;
}

/* Levenshtein distance (a swap of two neighbours is one edit), for "did
 * you mean" hints. */
static size_t edit_distance(const char *a, const char *b)
{
	/* Optimal string alignment: insertions, deletions, substitutions and
	 * swaps of two neighbours ("rnu" is one edit from "run"). */
	size_t la = strlen(a), lb = strlen(b);
	size_t w = lb + 1;
	size_t *d = xmalloc((la + 1) * w * sizeof *d);
	for (size_t i = 0; i <= la; i++)
		d[i * w] = i;
	for (size_t j = 0; j <= lb; j++)
		d[j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t best = d[(i - 1) * w + j - 1] + (a[i - 1] != b[j - 1]);
			if (d[(i - 1) * w + j] + 1 < best)
				best = d[(i - 1) * w + j] + 1;
			if (d[i * w + j - 1] + 1 < best)
				best = d[i * w + j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[(i - 2) * w + j - 2] + 1 < best)
				best = d[(i - 2) * w + j - 2] + 1;
			d[i * w + j] = best;
		}
	size_t r = d[la * w + lb];
	free(d);
	return r;
}

const char *suggest_word(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	for (; *candidates; candidates++) {
		size_t d = edit_distance(word, *candidates);
		if (d < best_d) {
			best_d = d;
			best = *candidates;
		}
	}
	return best && best_d <= (strlen(word) + 2) / 3 ? best : NULL;
}

int write_full(int fd, const void *data, size_t n)
{
	const char *p = data;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int outfile_open(struct outfile *f, const char *path)
{
	f->tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (f->fd < 0) {
		int err = -errno;
		free(f->tmp);
		f->tmp = NULL;
		return err;
	}
	f->path = xstrdup(path);
	return 0;
}

int outfile_commit(struct outfile *f, const void *p, size_t n)
{
	int err = write_full(f->fd, p, n);
	if (close(f->fd) < 0 && !err)
		err = -errno;
	f->fd = -1;
	if (!err && rename(f->tmp, f->path) < 0)
		err = -errno;
	if (!err) {
		free(f->tmp);
		f->tmp = NULL;
	}
	outfile_release(f);
	return err;
}

void outfile_release(struct outfile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->tmp)
		unlink(f->tmp);
	free(f->tmp);
	free(f->path);
	f->tmp = f->path = NULL;
	f->fd = -1;
}

int64_t timespec_ns(struct timespec t)
{
	const int64_t max_sec = INT64_MAX / 1000000000 - 1;
	if (t.tv_sec > max_sec)
		return INT64_MAX;
	if (t.tv_sec < -max_sec)
		return INT64_MIN;
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	size_t len;
	unsigned min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	unsigned cp = c & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

char *read_regular(int fd, size_t max, size_t *len, struct stat *stp)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return NULL;
	*stp = st;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return NULL;
	}
	if ((uint64_t)st.st_size > max) {
		errno = EFBIG;
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
		if (n > max) {
			free(p);
			errno = EFBIG;
			return NULL;
		}
	}
	if (cap < n + 9)
		p = xrealloc(p, n + 9);
	memset(p + n, 0, 9);
	*len = n;
	return p;
}

int open_read(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	return fd < 0 ? -errno : fd;
}

ssize_t read_wait(int fd, void *buf, size_t n, int ms)
{
	/* poll() first: on a FIFO opened before any writer, read() would say
	 * "end of file" at once, where poll() waits for the first data (or
	 * for a writer's close). A regular file is always ready. */
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r = poll(&p, 1, ms);
	if (r < 0)
		return errno == EINTR ? -EAGAIN : -errno;
	if (r == 0)
		return -EAGAIN;
	ssize_t got = read(fd, buf, n);
	return got >= 0 ? got : errno == EINTR || errno == EAGAIN ? -EAGAIN : -errno;
}
