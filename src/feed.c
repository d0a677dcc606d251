/* A job's standard input fed from a block on the loop: a real pipe whose read end the job gets, written without blocking, closed when written. */
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
