/* A job's standard input fed on the loop, from a block or a range of a file: a real pipe whose read end the job gets, written without blocking, closed when written. */
#ifndef WEFT_FEED_H
#define WEFT_FEED_H

#include <uv.h>

struct block;

/* Makes a pipe, writes b (a reference is taken) to its write end on loop
 * and then closes it. Returns the read end (close-on-exec; the caller
 * hands it to the job, whose executor closes it once the job started), or
 * -errno when no pipe could be made. A job that ends without reading it
 * all ends the write too (EPIPE). */
int feed_start(uv_loop_t *loop, struct block *b);

/* As feed_start, for len bytes of the file fd from off (fd stays the
 * caller's: the feed reads a copy of it): spliced into the pipe, never
 * copied through weft's memory where the kernel allows. */
int feed_range(uv_loop_t *loop, int fd, off_t off, off_t len);

#endif
