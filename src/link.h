/* A link: one end of a byte stream (a socketpair to a cluster's runner; later ssh) carrying newline-framed lines both ways on the loop. */
#ifndef WEFT_LINK_H
#define WEFT_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "util.h"

/* The longest line a link takes (a job's command and environment, or a
 * chunk of output, fit well within). */
#define LINK_MAX_LINE (64u << 20)

struct link;

/* A whole line, without its newline; valid only during the call. */
typedef void link_line_cb(struct link *l, const char *line, size_t len);
/* The stream ended: err is UV_EOF, a read error, UV_EPROTO (it ended inside
 * a line) or UV_E2BIG (a line longer than LINK_MAX_LINE). No more lines come. */
typedef void link_eof_cb(struct link *l, int err);

struct link {
	uv_pipe_t pipe;
	uv_prepare_t flush;      /* sends out before the loop next waits */
	bool reading;
	bool closed;             /* link_close was called */
	bool blocking;           /* link_set_blocking: writes wait for the peer */
	int handles;             /* open libuv handles */
	struct buf in;           /* the unfinished last line */
	size_t scanned;          /* bytes of in known to hold no newline */
	struct buf out;          /* lines not yet handed to libuv */
	link_line_cb *line;
	link_eof_cb *eof;
	void (*on_closed)(struct link *l); /* every handle closed; may free l */
	void *data;              /* the owner's */
	char rbuf[64 * 1024];
};

/* Takes over fd (a connected stream socket or pipe) and starts reading.
 * Returns 0 or a UV_E* code (fd is then still the caller's). */
int link_open(struct link *l, uv_loop_t *loop, int fd, link_line_cb *line, link_eof_cb *eof, void *data);

/* Where to append lines to send (each ending in '\n'); then link_flush_soon. */
struct buf *link_out(struct link *l);
void link_flush_soon(struct link *l);
/* Hands what is in out to the stream now. */
void link_flush(struct link *l);

/* Writes wait until the peer has taken them (a runner: if its master reads
 * slowly, its jobs wait, rather than their output piling up in memory).
 * Otherwise lines queue in libuv and the loop never waits for the peer. */
void link_set_blocking(struct link *l);

/* Whether the link keeps the loop running (it does from link_open). */
void link_set_ref(struct link *l, bool ref);

/* Stops reading and closes the stream once what was sent is written (or
 * cannot be); on_closed follows. Safe to call twice. */
void link_close(struct link *l);

/* Frees the buffers, after on_closed. */
void link_release(struct link *l);

#endif
