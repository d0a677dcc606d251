/* Bytes held back until later: in memory up to a limit, then in an unlinked temporary file (compressed with zlib, with --compress), so memory stays bounded. */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define SPOOL_MEM_MAX (256 * 1024)

/* --compress: the file holds frames, each a header (compressed and raw
 * lengths, 4 bytes each) and zlib's compress2() of up to ZFRAME bytes;
 * raw offsets are found through the index of frames. */
#define ZFRAME (128 * 1024)

struct zframe {
	uint64_t raw;      /* raw offset of its first byte */
	off_t pos;         /* where its data starts in the file */
	uint32_t rawlen, zlen;
};

struct spool_z {
	struct buf stage;  /* raw bytes not yet in a frame */
	struct zframe *f;
	size_t nf, cap;
	off_t end;         /* the file's size */
	uint64_t raw;      /* raw bytes in frames */
};

void spool_init(struct spool *s)
{
	spool_init_z(s, false);
}

void spool_init_z(struct spool *s, bool compress)
{
	buf_init(&s->mem);
	s->fd = -1;
	s->total = 0;
	s->compress = compress;
	s->z = NULL;
}

static int z_frame(struct spool *s, const char *p, size_t n)
{
	struct spool_z *z = s->z;
	uLongf zlen = compressBound((uLong)n);
	unsigned char *out = xmalloc(8 + zlen);
	if (compress2(out + 8, &zlen, (const Bytef *)p, (uLong)n, 1) != Z_OK) {
		free(out);
		return -EIO;
	}
	uint32_t head[2] = {(uint32_t)zlen, (uint32_t)n};
	memcpy(out, head, 8);
	int err = 0;
	for (size_t done = 0; done < 8 + zlen && !err;) {
		ssize_t w = pwrite(s->fd, out + done, 8 + zlen - done, z->end + (off_t)done);
		if (w < 0 && errno != EINTR)
			err = -errno;
		done += w > 0 ? (size_t)w : 0;
	}
	free(out);
	if (err)
		return err;
	grow(&z->f, &z->cap, z->nf + 1, sizeof *z->f);
	z->f[z->nf++] = (struct zframe){z->raw, z->end + 8, (uint32_t)n, (uint32_t)zlen};
	z->end += 8 + (off_t)zlen;
	z->raw += n;
	return 0;
}

/* Frames every whole ZFRAME of the stage; all of it when flush. */
static int z_put(struct spool *s, const char *p, size_t n, bool flush)
{
	struct spool_z *z = s->z;
	buf_add(&z->stage, p, n);
	size_t off = 0;
	int err = 0;
	while (!err && (z->stage.len - off >= ZFRAME || (flush && z->stage.len > off))) {
		size_t take = z->stage.len - off < ZFRAME ? z->stage.len - off : ZFRAME;
		err = z_frame(s, z->stage.p + off, take);
		off += take;
	}
	if (off) {
		memmove(z->stage.p, z->stage.p + off, z->stage.len - off);
		z->stage.len -= off;
	}
	return err;
}

/* Frame k, uncompressed, into *out (xmalloc'd, frame's rawlen bytes). */
static int z_read(struct spool *s, size_t k, char **out)
{
	struct zframe *f = &s->z->f[k];
	char *zb = xmalloc(f->zlen ? f->zlen : 1), *raw = xmalloc(f->rawlen ? f->rawlen : 1);
	int err = 0;
	for (size_t done = 0; done < f->zlen && !err;) {
		ssize_t n = pread(s->fd, zb + done, f->zlen - done, f->pos + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			err = n < 0 ? -errno : -EIO;
		done += n > 0 ? (size_t)n : 0;
	}
	uLongf rl = f->rawlen;
	if (!err && (uncompress((Bytef *)raw, &rl, (const Bytef *)zb, f->zlen) != Z_OK || rl != f->rawlen))
		err = -EIO;
	free(zb);
	if (err)
		free(raw);
	else
		*out = raw;
	return err;
}

/* Writes raw bytes [off, off+len) of the frames through write_fn. */
static int z_copy(struct spool *s, uint64_t off, uint64_t len, int fd_out, int (*write_fn)(int, const char *, size_t))
{
	int err = z_put(s, "", 0, true);
	size_t k = 0;
	while (k < s->z->nf && s->z->f[k].raw + s->z->f[k].rawlen <= off)
		k++;
	for (; !err && len && k < s->z->nf; k++) {
		char *raw = NULL;
		if ((err = z_read(s, k, &raw)) < 0)
			break;
		uint64_t skip = off - s->z->f[k].raw, n = s->z->f[k].rawlen - skip;
		if (n > len)
			n = len;
		err = write_fn(fd_out, raw + skip, (size_t)n);
		free(raw);
		off += n;
		len -= n;
	}
	return err ? err : len ? -EIO : 0;
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
		if (s->compress) {
			s->z = xcalloc(1, sizeof *s->z);
			buf_init(&s->z->stage);
		}
		int r = s->z ? z_put(s, s->mem.p ? s->mem.p : "", s->mem.len, false)
			     : write_full(fd, s->mem.p ? s->mem.p : "", s->mem.len);
		buf_release(&s->mem);
		if (r < 0)
			return r;
	}
	return s->z ? z_put(s, data, len, false) : write_full(s->fd, data, len);
}

int spool_drain(struct spool *s, int fd_out, int (*write_fn)(int, const char *, size_t))
{
	int r = 0;
	if (s->fd < 0) {
		if (s->mem.len)
			r = write_fn(fd_out, s->mem.p, s->mem.len);
	} else if (s->z) {
		r = z_copy(s, 0, s->total, fd_out, write_fn);
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
	if (s->z)
		return z_copy(s, (uint64_t)off, len, fd_out, write_fn);
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
	if (s->z) {
		buf_release(&s->z->stage);
		free(s->z->f);
		free(s->z);
		s->z = NULL;
	}
}
