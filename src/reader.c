/* A stream reader: values (lines, NUL- or DELIM-separated) read from a file descriptor as they come, without blocking the loop; fan-out input comes through it. */
#include "reader.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK 65536

static void poll_cb(uv_poll_t *h, int status, int events)
{
	struct reader *r = h->data;
	(void)status;
	(void)events;
	/* Stop watching until the consumer runs dry again: input is read only
	 * as fast as jobs take it, so memory stays flat however long it is. */
	uv_poll_stop(h);
	r->polling = false;
	r->ready(r->ud);
}

int reader_open_stdin(bool *pollable)
{
	struct stat st;
	*pollable = false;
	if (fstat(0, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))) {
		/* A new open file description of the same pipe or terminal: its
		 * O_NONBLOCK is ours alone (node #19838 is what sharing costs). */
		int fd = open("/proc/self/fd/0", O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			*pollable = true;
			return fd;
		}
	}
	return 0;
}

int reader_init(struct reader *r, uv_loop_t *loop, int fd, bool own_fd, const char *delim, size_t dlen,
		void (*ready)(void *ud), void *ud)
{
	memset(r, 0, sizeof *r);
	r->fd = fd;
	r->own_fd = own_fd;
	r->delim = xmalloc(dlen);
	memcpy(r->delim, delim, dlen);
	r->dlen = dlen;
	r->ready = ready;
	r->ud = ud;
	buf_init(&r->data);
	buf_init(&r->value);
	/* epoll refuses regular files and /dev/null (EPERM): those never
	 * block for long, so they are read directly. */
	if (loop && uv_poll_init(loop, &r->poll, fd) == 0) {
		r->pollable = true;
		r->poll.data = r;
	}
	return 0;
}

/* One read(); returns bytes read, 0 at EOF, or -errno. */
static ssize_t fill(struct reader *r)
{
	if (r->start > 0 && r->start >= r->data.len / 2) {
		memmove(r->data.p, r->data.p + r->start, r->data.len - r->start);
		r->data.len -= r->start;
		r->start = 0;
	}
	grow(&r->data.p, &r->data.cap, r->data.len + READ_CHUNK + 1, 1);
	ssize_t n;
	do
		n = read(r->fd, r->data.p + r->data.len, READ_CHUNK);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? -EAGAIN : -errno;
	r->data.len += (size_t)n;
	return n;
}

/* A whole value from data if one is there (or the last one at EOF). */
static int take(struct reader *r, const char **val, size_t *len)
{
	const char *p = r->data.p ? r->data.p + r->start : NULL;
	size_t avail = r->data.len - r->start;
	const char *d = avail ? memmem(p, avail, r->delim, r->dlen) : NULL;
	size_t n;
	if (d) {
		n = (size_t)(d - p);
		r->start += n + r->dlen;
	} else if (r->eof && avail) {
		n = avail; /* no final delimiter: still a value */
		r->start += n;
	} else {
		return 0;
	}
	buf_reset(&r->value);
	buf_add(&r->value, p, n);
	*val = r->value.p;
	*len = n;
	return 1;
}

int reader_next(struct reader *r, const char **val, size_t *len)
{
	if (r->blocking || !r->pollable)
		return reader_next_blocking(r, val, len);
	for (;;) {
		if (take(r, val, len))
			return 1;
		if (r->error)
			return r->error;
		if (r->eof)
			return -1;
		ssize_t n = fill(r);
		if (n == -EAGAIN) {
			/* Nothing there now (the fd is non-blocking): wait for the loop. */
			if (!r->polling) {
				uv_poll_start(&r->poll, UV_READABLE, poll_cb);
				r->polling = true;
			}
			return 0;
		}
		if (n < 0)
			r->error = (int)n;
		else if (n == 0)
			r->eof = true;
	}
}

int reader_next_blocking(struct reader *r, const char **val, size_t *len)
{
	for (;;) {
		if (take(r, val, len))
			return 1;
		if (r->error)
			return r->error;
		if (r->eof)
			return -1;
		ssize_t n = fill(r);
		if (n == -EAGAIN) {
			struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
			poll(&pfd, 1, -1);
			continue;
		}
		if (n < 0)
			r->error = (int)n;
		else if (n == 0)
			r->eof = true;
	}
}

static void poll_close_cb(uv_handle_t *h)
{
	(void)h;
}

void reader_close(struct reader *r)
{
	if (r->pollable) {
		uv_poll_stop(&r->poll);
		uv_close((uv_handle_t *)&r->poll, poll_close_cb);
		r->pollable = false;
	}
	if (r->own_fd && r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	buf_release(&r->data);
	buf_release(&r->value);
	free(r->delim);
	r->delim = NULL;
}
