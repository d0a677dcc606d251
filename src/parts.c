/* --pipe-part's input: files cut into byte ranges at record boundaries by seeking, as GNU parallel's --pipe-part cuts them, without reading the parts themselves. */
#include "parts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

#include "blocks.h"
#include "opt.h"
#include "util.h"

struct part {
	int fd;      /* its file's, owned by parts */
	off_t off;
	off_t len;
};

struct parts {
	int *fds;
	size_t nfds;
	struct part *v;
	size_t n, cap, next;
};

/* How much is read at a time while looking for a record boundary:
 * GNU parallel's 128 KiB. */
#define SEEK_READ 131072

/* GNU parallel's find_split_positions: from each candidate (the last cut
 * plus the block size), the first recend+recstart; the cut is after its
 * recend. -errno on a read error. */
static int split_file(struct parts *ps, int fd, off_t size, off_t block, const char *sep, size_t lsep, size_t lend)
{
	off_t start = 0;
	struct buf b;
	buf_init(&b);
	int err = 0;
	while (start < size) {
		off_t end = size, cand = start + block;
		if (cand < size && lsep == 0) {
			end = cand;
		} else if (cand < size) {
			buf_reset(&b);
			size_t from = 0;
			for (;;) {
				if (b.cap - b.len < SEEK_READ)
					grow(&b.p, &b.cap, b.len + SEEK_READ, 1);
				ssize_t r = pread(fd, b.p + b.len, SEEK_READ, cand + (off_t)b.len);
				if (r < 0 && errno == EINTR)
					continue;
				if (r < 0) {
					err = -errno;
					break;
				}
				if (r == 0)
					break;
				b.len += (size_t)r;
				const char *hit = memmem(b.p + from, b.len - from, sep, lsep);
				if (hit) {
					end = cand + (off_t)(hit - b.p) + (off_t)lend;
					break;
				}
				from = b.len >= lsep ? b.len - lsep + 1 : 0;
			}
			if (err)
				break;
		}
		grow(&ps->v, &ps->cap, ps->n + 1, sizeof *ps->v);
		ps->v[ps->n++] = (struct part){fd, start, end - start};
		start = end;
	}
	buf_release(&b);
	return err;
}

/* A regular file's size, or a block device's; -errno, or -ESPIPE for anything else. */
static int file_size(int fd, off_t *size)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode)) {
		*size = st.st_size;
		return 0;
	}
	unsigned long long bytes;
	if (S_ISBLK(st.st_mode) && ioctl(fd, BLKGETSIZE64, &bytes) == 0) {
		*size = (off_t)bytes;
		return 0;
	}
	return -ESPIPE;
}

int parts_new(char *const *paths, size_t n, const struct parts_opts *o, struct parts **out, const char **bad)
{
	struct parts *ps = xcalloc(1, sizeof *ps);
	ps->fds = xcalloc(n ? n : 1, sizeof *ps->fds);
	off_t *sizes = xcalloc(n ? n : 1, sizeof *sizes), total = 0;
	int err = 0;
	for (size_t i = 0; i < n && !err; i++) {
		int fd = open(paths[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			err = -errno;
		} else {
			ps->fds[ps->nfds++] = fd;
			err = file_size(fd, &sizes[i]);
			total += sizes[i];
		}
		if (err)
			*bad = paths[i];
	}
	/* A negative block size: that many parts per job slot in all, as
	 * GNU parallel's --block -N. */
	off_t block = o->per_slot ? 1 + (off_t)((unsigned long long)total / o->jobs / o->per_slot) : (off_t)o->size;
	size_t lstart, lend;
	char *start = opt_unescape(o->recstart, &lstart), *end = opt_unescape(o->recend, &lend);
	char *sep = xmalloc(lstart + lend + 1);
	memcpy(sep, end, lend);
	memcpy(sep + lend, start, lstart);
	for (size_t i = 0; i < n && !err; i++) {
		err = split_file(ps, ps->fds[i], sizes[i], block, sep, lstart + lend, lend);
		if (err)
			*bad = paths[i];
	}
	free(sep);
	free(start);
	free(end);
	free(sizes);
	if (err) {
		parts_free(ps);
		return err;
	}
	*out = ps;
	return 0;
}

int parts_next(struct parts *ps, int *fd, off_t *off, off_t *len)
{
	if (ps->next == ps->n)
		return -1;
	struct part *p = &ps->v[ps->next++];
	*fd = p->fd;
	*off = p->off;
	*len = p->len;
	return 1;
}

unsigned long long parts_count(const struct parts *ps)
{
	return ps->n;
}

void parts_free(struct parts *ps)
{
	if (!ps)
		return;
	for (size_t i = 0; i < ps->nfds; i++)
		close(ps->fds[i]);
	free(ps->fds);
	free(ps->v);
	free(ps);
}
