/* A stream reader: values (lines, NUL- or DELIM-separated) read from a file descriptor as they come, without blocking the loop; fan-out input comes through it. */
#ifndef WEFT_READER_H
#define WEFT_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "util.h"

struct reader {
	int fd;
	bool own_fd;         /* close fd at the end */
	char *delim;         /* between values (a copy) */
	size_t dlen;         /* its length, at least 1 */
	struct buf data;     /* bytes read, not yet handed out */
	size_t start;        /* first byte of data not yet handed out */
	bool eof;
	int error;           /* 0, or the -errno of a failed read */
	bool pollable;       /* a pipe, socket or tty: read only when the loop says it is ready */
	bool polling;
	bool blocking;       /* reader_next waits for input instead of returning 0 */
	uv_poll_t poll;
	void (*ready)(void *ud); /* called on the loop when more input may be there */
	void *ud;
	struct buf value;    /* the value last handed out */
};

/* Sets up a reader of fd. With a loop, a pipe or terminal fd is watched
 * by the loop and made non-blocking, so it must be weft's own open file
 * description (see reader_open_stdin), never one shared with the shell. */
int reader_init(struct reader *r, uv_loop_t *loop, int fd, bool own_fd, const char *delim, size_t dlen,
		void (*ready)(void *ud), void *ud);

/* The next value (without its delimiter; valid until the next call):
 * 1 with val and len set; 0 when none is there yet (ready() is called when
 * there may be); -1 at the end of input; or -errno after a read error. */
int reader_next(struct reader *r, const char **val, size_t *len);

/* Reads everything there is (blocking), e.g. for a source that is not
 * the first. Returns 1 and the next value, -1 at the end, or -errno. */
int reader_next_blocking(struct reader *r, const char **val, size_t *len);

void reader_close(struct reader *r);

/* An fd for reading standard input that weft may make non-blocking: a
 * private reopening of a pipe or terminal, or fd 0 itself for a regular
 * file (which keeps its offset). *pollable says whether the loop may
 * watch it. Returns the fd (weft closes it unless it is 0). */
int reader_open_stdin(bool *pollable);

#endif
