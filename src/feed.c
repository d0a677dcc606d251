/* A job's standard input fed on the loop, from a block or a range of a file: a real pipe whose read end the job gets, written without blocking, closed when written. */
#include "feed.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "blocks.h"
#include "util.h"

/* One write in flight; frees itself when its pipe is closed. */
struct feed {
	uv_pipe_t pipe;
	uv_write_t req;
	struct block *b;
};

/* A bigger pipe buffer means fewer wake-ups per block for weft and the job. */
#define FEED_PIPE_SIZE (1 << 20)

static void close_cb(uv_handle_t *h)
{
	struct feed *f = h->data;
	block_unref(f->b);
	free(f);
}

static void write_cb(uv_write_t *req, int status)
{
	struct feed *f = req->data;
	(void)status; /* EPIPE: the job did not read it all, which is its business */
	uv_close((uv_handle_t *)&f->pipe, close_cb);
}

int feed_start(uv_loop_t *loop, struct block *b)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	if (b->len > 65536)
		fcntl(fds[1], F_SETPIPE_SZ, b->len < FEED_PIPE_SIZE ? (int)b->len : FEED_PIPE_SIZE);
	struct feed *f = xcalloc(1, sizeof *f);
	f->b = block_ref(b);
	uv_pipe_init(loop, &f->pipe, 0);
	f->pipe.data = f;
	f->req.data = f;
	if (uv_pipe_open(&f->pipe, fds[1]) < 0)
		abort();
	uv_buf_t ub = uv_buf_init(b->data, (unsigned)b->len);
	if (!b->len || uv_write(&f->req, (uv_stream_t *)&f->pipe, &ub, 1, write_cb) < 0)
		uv_close((uv_handle_t *)&f->pipe, close_cb);
	return fds[0];
}

/* A byte range of a file spliced into a pipe as the pipe takes it: the
 * bytes go from the page cache to the pipe without passing through weft. */
struct range_feed {
	uv_poll_t poll;
	int in, out;   /* the file (a dup of the caller's) and the pipe's write end */
	off_t off;
	off_t left;
	char *buf;     /* when splice cannot be used: pread and write through this */
};

#define RANGE_BUF 65536

static void range_close_cb(uv_handle_t *h)
{
	struct range_feed *r = h->data;
	close(r->in);
	close(r->out);
	free(r->buf);
	free(r);
}

/* Moves what the pipe takes now: 1 when the range is all there (or can
 * never be: the job is gone, the file shrank), 0 when the pipe is full. */
static int range_move(struct range_feed *r)
{
	while (r->left > 0) {
		size_t want = r->left > FEED_PIPE_SIZE ? FEED_PIPE_SIZE : (size_t)r->left;
		ssize_t n = -1;
		if (!r->buf) {
			n = splice(r->in, &r->off, r->out, NULL, want, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
			if (n < 0 && (errno == EINVAL || errno == ENOSYS))
				r->buf = xmalloc(RANGE_BUF);
		}
		if (r->buf) {
			ssize_t got = pread(r->in, r->buf, want < RANGE_BUF ? want : RANGE_BUF, r->off);
			if (got <= 0)
				return got < 0 && errno == EINTR ? 0 : 1;
			n = write(r->out, r->buf, (size_t)got);
			if (n > 0)
				r->off += n;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return 1; /* EPIPE: the job did not read it all, which is its business */
		r->left -= n;
	}
	return 1;
}

static void range_poll_cb(uv_poll_t *h, int status, int events)
{
	struct range_feed *r = h->data;
	if (status < 0 || range_move(r)) {
		uv_poll_stop(h);
		uv_close((uv_handle_t *)h, range_close_cb);
	}
}

int feed_range(uv_loop_t *loop, int fd, off_t off, off_t len)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	int in = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (in < 0) {
		int err = -errno;
		close(fds[0]);
		close(fds[1]);
		return err;
	}
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	if (len > 65536)
		fcntl(fds[1], F_SETPIPE_SZ, len < FEED_PIPE_SIZE ? (int)len : FEED_PIPE_SIZE);
	struct range_feed *r = xcalloc(1, sizeof *r);
	r->in = in;
	r->out = fds[1];
	r->off = off;
	r->left = len;
	if (uv_poll_init(loop, &r->poll, r->out) < 0)
		abort();
	r->poll.data = r;
	if (range_move(r))
		uv_close((uv_handle_t *)&r->poll, range_close_cb);
	else
		uv_poll_start(&r->poll, UV_WRITABLE, range_poll_cb);
	return fds[0];
}
