/* Bytes held back until later: in memory up to a limit, then in an unlinked temporary file, so memory stays bounded. */
#ifndef WEFT_SPOOL_H
#define WEFT_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util.h"

struct spool_z;

struct spool {
	struct buf mem;
	int fd;          /* -1: everything is in mem */
	size_t total;
	bool compress;   /* what goes to the file goes in zlib frames (--compress) */
	struct spool_z *z; /* those frames; NULL: none yet */
};

void spool_init(struct spool *s);
/* As spool_init; with compress, what spills to the file is compressed. */
void spool_init_z(struct spool *s, bool compress);
/* Returns 0, or -errno when the temporary file could not be made or written
 * (the bytes that did not fit are then lost, and the caller says so). */
int spool_add(struct spool *s, const char *data, size_t len);
/* Writes everything, in order, through write_fn(fd_out, ...); then empties s. */
int spool_drain(struct spool *s, int fd_out, int (*write_fn)(int, const char *, size_t));
/* Writes bytes [off, off+len) of s through write_fn(fd_out, ...); s is kept. */
int spool_copy_range(struct spool *s, off_t off, size_t len, int fd_out, int (*write_fn)(int, const char *, size_t));
void spool_release(struct spool *s);

#endif
