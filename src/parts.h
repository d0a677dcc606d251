/* --pipe-part's input: files cut into byte ranges at record boundaries by seeking, as GNU parallel's --pipe-part cuts them, without reading the parts themselves. */
#ifndef WEFT_PARTS_H
#define WEFT_PARTS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct parts_opts {
	unsigned long long size; /* --block-size: the least bytes per part (but the last) */
	unsigned per_slot;       /* > 0: --block -N: size is the files' total / jobs / N, plus 1 */
	unsigned jobs;           /* -j, for per_slot */
	const char *recstart;    /* as blocks_opts' */
	const char *recend;
};

struct parts;

/* Opens the files (regular files or block devices) and finds every part
 * of each, in order, cut after a recend that a recstart follows. Returns
 * 0 and *out, or -errno with *bad the path at fault (-ESPIPE: not a file
 * that can be seeked). */
int parts_new(char *const *paths, size_t n, const struct parts_opts *o, struct parts **out, const char **bad);

/* The next part: 1 and its file's fd (owned by ps, open until
 * parts_free), offset and length; -1 after the last. */
int parts_next(struct parts *ps, int *fd, off_t *off, off_t *len);

unsigned long long parts_count(const struct parts *ps);

void parts_free(struct parts *ps);

#endif
