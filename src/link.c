/* A link: one end of a byte stream (a socketpair to a cluster's runner; later ssh) carrying newline-framed lines both ways on the loop. */
#include "link.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct write_req {
	uv_write_t req;
	char *data;
};

static void closed_cb(uv_handle_t *h)
{
	struct link *l = h->data;
	if (--l->handles == 0 && l->on_closed)
		l->on_closed(l);
}

static void write_cb(uv_write_t *req, int status)
{
	struct write_req *w = (struct write_req *)req;
	(void)status; /* a peer that has gone is seen by the read side */
	free(w->data);
	free(w);
}

/* Writes all of out, waiting on the socket while it is full. A peer that
 * has gone is left to the read side. */
static void send_blocking(struct link *l)
{
	uv_os_fd_t fd;
	if (uv_fileno((uv_handle_t *)&l->pipe, &fd) < 0)
		return;
	const char *p = l->out.p;
	size_t n = l->out.len;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w >= 0) {
			p += w;
			n -= (size_t)w;
		} else if (errno == EAGAIN) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			poll(&pfd, 1, -1);
		} else if (errno != EINTR) {
			break;
		}
	}
	buf_reset(&l->out);
}

static void send_out(struct link *l)
{
	if (!l->out.len || uv_is_closing((uv_handle_t *)&l->pipe))
		return;
	if (l->blocking) {
		send_blocking(l);
		return;
	}
	/* Straight to the socket when it takes it all, as it nearly always
	 * does: no request, no callback, no change to what the loop polls. */
	if (uv_stream_get_write_queue_size((uv_stream_t *)&l->pipe) == 0) {
		uv_buf_t all = uv_buf_init(l->out.p, (unsigned)l->out.len);
		int n = uv_try_write((uv_stream_t *)&l->pipe, &all, 1);
		if (n > 0 && (size_t)n == l->out.len) {
			buf_reset(&l->out);
			return;
		}
		if (n > 0) {
			memmove(l->out.p, l->out.p + n, l->out.len - (size_t)n);
			l->out.len -= (size_t)n;
		}
	}
	struct write_req *w = xmalloc(sizeof *w);
	size_t len = l->out.len;
	w->data = buf_take(&l->out);
	uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
	if (uv_write(&w->req, (uv_stream_t *)&l->pipe, &b, 1, write_cb) < 0) {
		free(w->data);
		free(w);
	}
}

static void flush_cb(uv_prepare_t *h)
{
	struct link *l = h->data;
	uv_prepare_stop(h);
	send_out(l);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct link *l = h->data;
	(void)suggested;
	*b = uv_buf_init(l->rbuf, sizeof l->rbuf);
}

static void ended(struct link *l, int err)
{
	if (!l->reading)
		return;
	l->reading = false;
	uv_read_stop((uv_stream_t *)&l->pipe);
	l->eof(l, err);
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct link *l = s->data;
	if (n < 0) {
		/* A peer that closes with what we sent unread resets the link. */
		ended(l, l->in.len && (n == UV_EOF || n == UV_ECONNRESET) ? UV_EPROTO : (int)n);
		return;
	}
	buf_add(&l->in, b->base, (size_t)n);
	size_t start = 0;
	while (l->reading) {
		char *nl = memchr(l->in.p + l->scanned, '\n', l->in.len - l->scanned);
		if (!nl)
			break;
		size_t end = (size_t)(nl - l->in.p);
		l->scanned = end + 1;
		l->line(l, l->in.p + start, end - start);
		start = end + 1;
	}
	if (start) {
		memmove(l->in.p, l->in.p + start, l->in.len - start);
		l->in.len -= start;
		l->in.p[l->in.len] = '\0';
		l->scanned -= start;
	}
	l->scanned = l->in.len;
	if (l->in.len > LINK_MAX_LINE)
		ended(l, UV_E2BIG);
}

int link_open(struct link *l, uv_loop_t *loop, int fd, link_line_cb *line, link_eof_cb *eof, void *data)
{
	memset(l, 0, sizeof *l);
	buf_init(&l->in);
	buf_init(&l->out);
	l->line = line;
	l->eof = eof;
	l->data = data;
	uv_pipe_init(loop, &l->pipe, 0);
	l->pipe.data = l;
	int err = uv_pipe_open(&l->pipe, fd);
	if (err < 0) {
		/* The handle must still be closed; fd stays the caller's. */
		uv_close((uv_handle_t *)&l->pipe, NULL);
		return err;
	}
	uv_prepare_init(loop, &l->flush);
	l->flush.data = l;
	uv_unref((uv_handle_t *)&l->flush);
	l->handles = 2;
	l->reading = true;
	uv_read_start((uv_stream_t *)&l->pipe, alloc_cb, read_cb);
	return 0;
}

struct buf *link_out(struct link *l)
{
	return &l->out;
}

void link_flush_soon(struct link *l)
{
	if (l->closed)
		return;
	/* Lines go out together, once per turn of the loop, unless they pile up. */
	if (l->out.len > (1u << 20))
		send_out(l);
	else
		uv_prepare_start(&l->flush, flush_cb);
}

void link_flush(struct link *l)
{
	if (!l->closed)
		send_out(l);
}

void link_set_blocking(struct link *l)
{
	l->blocking = true;
}

void link_set_ref(struct link *l, bool ref)
{
	if (l->closed)
		return;
	if (ref)
		uv_ref((uv_handle_t *)&l->pipe);
	else
		uv_unref((uv_handle_t *)&l->pipe);
}

static void shutdown_cb(uv_shutdown_t *req, int status)
{
	struct link *l = req->data;
	(void)status;
	free(req);
	uv_close((uv_handle_t *)&l->pipe, closed_cb);
}

void link_close(struct link *l)
{
	if (l->closed)
		return;
	send_out(l);
	l->closed = true;
	l->reading = false;
	uv_read_stop((uv_stream_t *)&l->pipe);
	uv_prepare_stop(&l->flush);
	uv_close((uv_handle_t *)&l->flush, closed_cb);
	/* What was sent still goes out: uv_shutdown waits for the queued
	 * writes (uv_close would cancel them), then the peer reads EOF. */
	uv_shutdown_t *req = xmalloc(sizeof *req);
	req->data = l;
	uv_ref((uv_handle_t *)&l->pipe);
	if (uv_shutdown(req, (uv_stream_t *)&l->pipe, shutdown_cb) < 0) {
		free(req);
		uv_close((uv_handle_t *)&l->pipe, closed_cb);
	}
}

void link_release(struct link *l)
{
	buf_release(&l->in);
	buf_release(&l->out);
}
