/* --pipe's input: a file descriptor cut into blocks at record boundaries, as GNU parallel cuts standard input, read only as fast as jobs take the blocks. */
#ifndef WEFT_BLOCKS_H
#define WEFT_BLOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

/* A block of input, shared by the job it belongs to and the write that
 * feeds it to the job's stdin: freed when the last reference goes. */
struct block {
	size_t refs;
	size_t len, cap;
	char data[];
};

struct block *block_ref(struct block *b);
void block_unref(struct block *b);

struct blocks_opts {
	size_t size;          /* --block-size: bytes read per round (GNU parallel's rounds) */
	const char *recstart; /* records start with this (may be ""), with opt_unescape's escapes */
	const char *recend;   /* and end with this (may be "") */
	unsigned long long records; /* -N: exactly this many records per block; 0: as many as fit */
	unsigned long long lines;   /* -L (without -N): a multiple of this many lines; 0: none */
};

/* Parses a size with GNU parallel's suffixes: k m g t (powers of 1000),
 * K M G T and Ki Mi Gi Ti (of 1024). Returns 0 and *out, or -1. */
int blocks_parse_size(const char *s, unsigned long long *out);

struct blocks;

/* Reads fd (closed at blocks_free when own_fd): with a loop and a
 * pollable fd, without blocking, ready(ud) telling when a block may be
 * there; warn(ud, text) for a record longer than the block size (the
 * size then grows, as GNU parallel's does). o's strings are copied. */
struct blocks *blocks_new(int fd, bool own_fd, uv_loop_t *loop, const struct blocks_opts *o,
			  void (*ready)(void *ud), void (*warn)(void *ud, const char *text), void *ud);

/* The next block: 1 and *b (a reference the caller owns), 0 when none is
 * there yet (ready() comes when one may be), -1 after the last, or -errno
 * after a read error. */
int blocks_next(struct blocks *bs, struct block **b);

/* From now on blocks_next waits for input instead of returning 0. */
void blocks_set_blocking(struct blocks *bs, bool blocking);

void blocks_free(struct blocks *bs);

#endif
