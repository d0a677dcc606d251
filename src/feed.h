/* A job's standard input fed from a block on the loop: a real pipe whose read end the job gets, written without blocking, closed when written. */
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

#endif
