/* --pipe's input: a file descriptor cut into blocks at record boundaries, as GNU parallel cuts standard input, read only as fast as jobs take the blocks. */
#include "blocks.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "opt.h"
#include "util.h"

/* GNU parallel's largest block: 2 GiB less a byte. */
#define BLOCK_MAX 2147483647ull

struct blocks {
	struct blocks_opts o;
	char *start, *end;     /* recstart and recend, unescaped */
	size_t lstart, lend;
	char *sep;             /* recend then recstart: where a block may be cut */
	size_t lsep;
	size_t size;           /* the block size now (it grows past a long record) */
	int fd;
	bool own_fd;
	bool pollable, polling, blocking;
	uv_poll_t poll;
	struct block *buf;     /* read, not yet cut; NULL once done */
	size_t left;           /* bytes this round still reads; 0: no round under way */
	bool eof, done;
	int error;
	struct block **q;      /* cut, not yet taken */
	size_t qhead, qn, qcap;
	void (*ready)(void *ud);
	void (*warn)(void *ud, const char *text);
	void *ud;
};

struct block *block_ref(struct block *b)
{
	b->refs++;
	return b;
}

void block_unref(struct block *b)
{
	if (b && --b->refs == 0)
		free(b);
}

static struct block *block_new(size_t cap)
{
	struct block *b = xmalloc(sizeof *b + cap);
	b->refs = 1;
	b->len = 0;
	b->cap = cap;
	return b;
}

int blocks_parse_size(const char *s, unsigned long long *out)
{
	unsigned long long n;
	const char *p = parse_uint(s, BLOCK_MAX * 1024, &n);
	if (!p)
		return -1;
	unsigned long long mul = 1;
	if (*p) {
		const char *units = "kmgt", *bin = "KMGT";
		const char *u = strchr(units, *p), *b = strchr(bin, *p);
		if (!u && !b)
			return -1;
		bool binary = b || (p[1] == 'i' || p[1] == 'I');
		int pow = (int)((u ? u - units : b - bin) + 1);
		for (int i = 0; i < pow; i++)
			mul *= binary ? 1024 : 1000;
		p += 1 + (p[1] == 'i' || p[1] == 'I');
		if (*p)
			return -1;
	}
	if (n > ULLONG_MAX / mul || !n)
		return -1;
	*out = n * mul;
	return 0;
}

static void poll_cb(uv_poll_t *h, int status, int events);

struct blocks *blocks_new(int fd, bool own_fd, uv_loop_t *loop, const struct blocks_opts *o,
			  void (*ready)(void *ud), void (*warn)(void *ud, const char *text), void *ud)
{
	struct blocks *bs = xcalloc(1, sizeof *bs);
	bs->o = *o;
	bs->start = opt_unescape(o->recstart, &bs->lstart);
	bs->end = opt_unescape(o->recend, &bs->lend);
	bs->lsep = bs->lend + bs->lstart;
	bs->sep = xmalloc(bs->lsep + 1);
	memcpy(bs->sep, bs->end, bs->lend);
	memcpy(bs->sep + bs->lend, bs->start, bs->lstart);
	bs->size = o->size > BLOCK_MAX ? BLOCK_MAX : o->size;
	bs->fd = fd;
	bs->own_fd = own_fd;
	bs->ready = ready;
	bs->warn = warn;
	bs->ud = ud;
	bs->buf = block_new(bs->size);
	/* epoll refuses regular files and /dev/null: those are read directly. */
	if (loop && uv_poll_init(loop, &bs->poll, fd) == 0) {
		bs->pollable = true;
		bs->poll.data = bs;
	}
	return bs;
}

void blocks_set_blocking(struct blocks *bs, bool blocking)
{
	bs->blocking = blocking;
}

/* Perl's index(): the first needle at or after pos (clamped to the
 * haystack), or -1; an empty needle is found at pos. */
static long p_index(const char *h, size_t hl, const char *n, size_t nl, size_t pos)
{
	if (pos > hl)
		pos = hl;
	if (!nl)
		return (long)pos;
	const char *hit = memmem(h + pos, hl - pos, n, nl);
	return hit ? hit - h : -1;
}

/* Perl's rindex(): the last needle starting at or before pos (clamped to
 * 0..hl), or -1. */
static long p_rindex(const char *h, size_t hl, const char *n, size_t nl, long pos)
{
	if (nl > hl)
		return -1;
	if (pos < 0)
		pos = 0;
	if ((size_t)pos > hl - nl)
		pos = (long)(hl - nl);
	if (!nl)
		return pos;
	for (size_t lim = (size_t)pos + 1; lim;) {
		const char *hit = memrchr(h, n[0], lim);
		if (!hit)
			return -1;
		size_t i = (size_t)(hit - h);
		if (memcmp(h + i, n, nl) == 0)
			return (long)i;
		lim = i;
	}
	return -1;
}

static void push(struct blocks *bs, struct block *b)
{
	if (bs->qhead + bs->qn == bs->qcap && bs->qhead) {
		memmove(bs->q, bs->q + bs->qhead, bs->qn * sizeof *bs->q);
		bs->qhead = 0;
	}
	grow(&bs->q, &bs->qcap, bs->qhead + bs->qn + 1, sizeof *bs->q);
	bs->q[bs->qhead + bs->qn++] = b;
}

/* Cuts the first n bytes of the buffer off as a block: the smaller side
 * is the one copied. */
static void cut(struct blocks *bs, size_t n)
{
	struct block *b = bs->buf;
	if (!n)
		return;
	size_t rest = b->len - n;
	if (n >= rest) {
		struct block *nb = block_new(bs->size > rest ? bs->size : rest);
		memcpy(nb->data, b->data + n, rest);
		nb->len = rest;
		b->len = n;
		bs->buf = nb;
		push(bs, b);
	} else {
		struct block *head = block_new(n);
		memcpy(head->data, b->data, n);
		head->len = n;
		memmove(b->data, b->data + n, rest);
		b->len = rest;
		push(bs, head);
	}
}

/* GNU parallel's pass(): cut at the last recend+recstart. */
static bool pass(struct blocks *bs)
{
	struct block *b = bs->buf;
	long i = p_rindex(b->data, b->len, bs->sep, bs->lsep, (long)b->len);
	if (i < 0 || i + bs->lend == 0)
		return false;
	cut(bs, (size_t)i + bs->lend);
	return true;
}

/* pass_n(): blocks of exactly N records, found from the second byte on. */
static bool pass_n(struct blocks *bs)
{
	bool any = false;
	for (;;) {
		struct block *b = bs->buf;
		if (!b->len)
			break;
		long i = 0;
		for (unsigned long long k = 0; k < bs->o.records && i >= 0; k++)
			i = p_index(b->data, b->len, bs->sep, bs->lsep, (size_t)i + 1);
		if (i < 0 || i + bs->lend == 0)
			break;
		cut(bs, (size_t)i + bs->lend);
		any = true;
	}
	return any;
}

/* pass_n_line_records(): up to the last newline that ends a whole
 * multiple of -L lines. */
static bool pass_lines(struct blocks *bs)
{
	struct block *b = bs->buf;
	unsigned long long n = 0;
	for (const char *p = b->data, *e = b->data + b->len; (p = memchr(p, '\n', (size_t)(e - p))); p++)
		n++;
	long last = p_rindex(b->data, b->len, "\n", 1, (long)b->len);
	while (n % bs->o.lines) {
		n--;
		last = p_rindex(b->data, b->len, "\n", 1, last - 1);
	}
	if (last + 1 <= 0)
		return false;
	cut(bs, (size_t)last + 1);
	return true;
}

/* A round of reading is over: cut what can be cut, as GNU parallel does. */
static void round_end(struct blocks *bs)
{
	bool any;
	if (bs->o.lines && !bs->o.records)
		any = pass_lines(bs);
	else if (bs->o.records)
		any = pass_n(bs);
	else
		any = !bs->eof && pass(bs);
	if (bs->eof) {
		/* What is left is the last block, however it ends. */
		if (bs->buf->len)
			push(bs, bs->buf);
		else
			block_unref(bs->buf);
		bs->buf = NULL;
		bs->done = true;
		return;
	}
	if (!any && bs->size < BLOCK_MAX) {
		size_t old = bs->size;
		/* ceil(old * 1.3 + 1) in doubles, as Perl computes it. */
		double grown = (double)old * 1.3 + 1;
		size_t up = grown >= (double)BLOCK_MAX ? BLOCK_MAX : (size_t)grown;
		if ((double)up < grown)
			up++;
		bs->size = up > BLOCK_MAX ? BLOCK_MAX : up;
		if (bs->warn) {
			char *t = xasprintf("a record was longer than %zu bytes: the block size is now %zu", old, bs->size);
			bs->warn(bs->ud, t);
			free(t);
		}
	}
}

/* Reads what the round still needs: 1 when it is complete (or the input
 * ended), 0 when the fd has nothing now, or -errno. */
static int fill(struct blocks *bs)
{
	struct block *b = bs->buf;
	if (!bs->left)
		bs->left = bs->size - b->len % bs->size;
	if (b->cap < b->len + bs->left) {
		b = xrealloc(b, sizeof *b + b->len + bs->left);
		b->cap = b->len + bs->left;
		bs->buf = b;
	}
	while (bs->left) {
		ssize_t n = read(bs->fd, b->data + b->len, bs->left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (!bs->blocking)
				return 0;
			struct pollfd pfd = {.fd = bs->fd, .events = POLLIN};
			poll(&pfd, 1, -1);
			continue;
		}
		if (n < 0)
			return -errno;
		if (n == 0) {
			bs->eof = true;
			break;
		}
		b->len += (size_t)n;
		bs->left -= (size_t)n;
	}
	bs->left = 0;
	return 1;
}

/* Reads and cuts until a block is there, the input ends, or the fd has
 * nothing now (0). */
static int advance(struct blocks *bs)
{
	while (!bs->qn && !bs->done && !bs->error) {
		int r = fill(bs);
		if (r < 0)
			bs->error = r;
		else if (r == 0)
			return 0;
		else
			round_end(bs);
	}
	return 1;
}

static void watch(struct blocks *bs, bool on)
{
	if (!bs->pollable || bs->polling == on)
		return;
	bs->polling = on;
	if (on)
		uv_poll_start(&bs->poll, UV_READABLE, poll_cb);
	else
		uv_poll_stop(&bs->poll);
}

static void poll_cb(uv_poll_t *h, int status, int events)
{
	struct blocks *bs = h->data;
	(void)status;
	(void)events;
	if (!advance(bs))
		return;
	/* A block is there (or the end): read no more until it is taken. */
	watch(bs, false);
	bs->ready(bs->ud);
}

int blocks_next(struct blocks *bs, struct block **b)
{
	if (!bs->qn && (!bs->polling || bs->blocking)) {
		if (!advance(bs)) {
			watch(bs, true);
			return 0;
		}
		watch(bs, false);
	}
	if (!bs->qn)
		return bs->polling ? 0 : bs->error ? bs->error : -1;
	*b = bs->q[bs->qhead++];
	bs->qn--;
	if (!bs->qn)
		bs->qhead = 0;
	/* Read the next round ahead while the jobs work, but only one. */
	if (!bs->qn && !bs->done && !bs->error)
		watch(bs, true);
	return 1;
}

static void poll_close_cb(uv_handle_t *h)
{
	free(h->data);
}

void blocks_free(struct blocks *bs)
{
	if (!bs)
		return;
	while (bs->qn) {
		block_unref(bs->q[bs->qhead++]);
		bs->qn--;
	}
	free(bs->q);
	block_unref(bs->buf);
	free(bs->start);
	free(bs->end);
	free(bs->sep);
	bool pollable = bs->pollable;
	if (pollable)
		uv_poll_stop(&bs->poll);
	if (bs->own_fd && bs->fd >= 0)
		close(bs->fd);
	if (pollable)
		uv_close((uv_handle_t *)&bs->poll, poll_close_cb);
	else
		free(bs);
}
