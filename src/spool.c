/* Bytes held back until later: in memory up to a limit, then in an unlinked temporary file, so memory stays bounded. */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SPOOL_MEM_MAX (256 * 1024)

void spool_init(struct spool *s)
{
	buf_init(&s->mem);
	s->fd = -1;
	s->total = 0;
}

/* An anonymous file in TMPDIR: O_TMPFILE has no name anyone could guess or
 * race for, and vanishes with the fd even if weft is killed. */
static int open_tmp(void)
{
	const char *dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd < 0 ? -errno : fd;
	char *path = xasprintf("%s/weft-spool-XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	int err = errno;
	if (fd >= 0)
		unlink(path);
	free(path);
	return fd < 0 ? -err : fd;
}

int spool_add(struct spool *s, const char *data, size_t len)
{
	s->total += len;
	if (s->fd < 0 && s->mem.len + len <= SPOOL_MEM_MAX) {
		buf_add(&s->mem, data, len);
		return 0;
	}
	if (s->fd < 0) {
		int fd = open_tmp();
		if (fd < 0)
			return fd;
		s->fd = fd;
		int r = write_full(fd, s->mem.p ? s->mem.p : "", s->mem.len);
		buf_release(&s->mem);
		if (r < 0)
			return r;
	}
	return write_full(s->fd, data, len);
}

int spool_drain(struct spool *s, int fd_out, int (*write_fn)(int, const char *, size_t))
{
	int r = 0;
	if (s->fd < 0) {
		if (s->mem.len)
			r = write_fn(fd_out, s->mem.p, s->mem.len);
	} else {
		char chunk[65536];
		if (lseek(s->fd, 0, SEEK_SET) < 0)
			r = -errno;
		while (r == 0) {
			ssize_t n = read(s->fd, chunk, sizeof chunk);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			r = write_fn(fd_out, chunk, (size_t)n);
		}
	}
	spool_release(s);
	return r;
}

int spool_copy_range(struct spool *s, off_t off, size_t len, int fd_out, int (*write_fn)(int, const char *, size_t))
{
	if (!len)
		return 0;
	if (s->fd < 0)
		return write_fn(fd_out, s->mem.p + off, len);
	char chunk[65536];
	while (len) {
		size_t want = len < sizeof chunk ? len : sizeof chunk;
		ssize_t n = pread(s->fd, chunk, want, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		int r = write_fn(fd_out, chunk, (size_t)n);
		if (r < 0)
			return r;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

void spool_release(struct spool *s)
{
	buf_release(&s->mem);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->total = 0;
}
