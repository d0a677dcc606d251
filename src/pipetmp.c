/* --cat and --fifo: a job's block or part of a file as a temporary file or FIFO, its name standing for {}. */
#include "pipetmp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blocks.h"
#include "quote.h"
#include "util.h"

struct pipetmp {
	bool fifo;
	char *dir;                  /* NULL: not made yet */
	unsigned long long n;       /* names given */
};

struct pipetmp *pipetmp_new(bool fifo)
{
	struct pipetmp *pt = xcalloc(1, sizeof *pt);
	pt->fifo = fifo;
	return pt;
}

/* len bytes of in from off into out: copy_file_range keeps them in the
 * kernel; read and write where it cannot. Returns 0 or -errno. */
static int copy_range(int in, off_t off, off_t len, int out)
{
	char *buf = NULL;
	int err = 0;
	while (len > 0 && !err) {
		size_t want = len > (1 << 20) ? (1 << 20) : (size_t)len;
		ssize_t n = buf ? -1 : copy_file_range(in, &off, out, NULL, want, 0);
		if (n < 0 && !buf && errno != EINTR)
			buf = xmalloc(65536);
		if (buf) {
			n = pread(in, buf, want < 65536 ? want : 65536, off);
			if (n > 0 && (err = write_full(out, buf, (size_t)n)) == 0)
				off += n;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err = -errno;
		else if (n == 0)
			break; /* the file shrank: what there is */
		else
			len -= n;
	}
	free(buf);
	return err;
}

int pipetmp_make(struct pipetmp *pt, const struct block *b, int fd, off_t off, off_t len, char **path)
{
	if (!pt->dir) {
		const char *tmp = getenv("TMPDIR");
		char *templ = xasprintf("%s/weft-XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(templ)) {
			int err = -errno;
			free(templ);
			return err;
		}
		pt->dir = templ;
	}
	char *p = xasprintf("%s/%llu", pt->dir, ++pt->n);
	int err = 0;
	if (pt->fifo) {
		if (mkfifo(p, 0600) < 0)
			err = -errno;
	} else {
		int out = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (out < 0)
			err = -errno;
		else {
			err = b ? write_full(out, b->data, b->len) : copy_range(fd, off, len, out);
			if (close(out) < 0 && !err)
				err = -errno;
			if (err)
				unlink(p);
		}
	}
	if (err) {
		free(p);
		return err;
	}
	*path = p;
	return 0;
}

char *pipetmp_fifo_command(const char *cmd, const char *path)
{
	struct buf q;
	buf_init(&q);
	shell_quote(&q, path, strlen(path));
	buf_add(&q, "", 0);
	/* As GNU parallel's fifo wrapper: cat copies stdin (kept as fd 4, as
	 * sh gives a background command /dev/null for stdin) into the FIFO
	 * while the command runs. Once the command ends, cat is stopped: a cat
	 * still waiting for a reader would wait for ever. */
	char *w = xasprintf("exec 4<&0; cat <&4 > %s 4<&- & exec 4<&-; (\n%s\n) < /dev/null; s=$?; kill $! "
			    "2> /dev/null; exit $s",
			    q.p, cmd);
	buf_release(&q);
	return w;
}

void pipetmp_free(struct pipetmp *pt)
{
	if (!pt)
		return;
	if (pt->dir)
		rmdir(pt->dir);
	free(pt->dir);
	free(pt);
}
