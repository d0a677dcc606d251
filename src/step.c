/* Runs a built-in step as one pool job: its output travels to the loop thread in bounded chunks, its result as the job's completion. */
#include "step.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pool.h"
#include "quote.h"
#include "util.h"

/* Output reaches the loop in chunks of this size. */
#define CHUNK_SIZE (64 * 1024)
/* Chunks handed to the loop and not yet consumed, per job, before the step
 * waits: a grep printing 1 GB holds at most (MAX_INFLIGHT + 1) chunks. */
#define MAX_INFLIGHT 8
/* step_poll() hands over output that has waited this long. */
#define FLUSH_AFTER_NS (100 * 1000000ull)

struct chunk {
	struct pool_msg msg;
	struct step_job *job;
	int stream;
	size_t len;
	char data[CHUNK_SIZE];
};

struct step_out {
	struct step_job *job;
	struct chunk *cur;    /* NULL: nothing pending */
	uint64_t cur_ns;      /* when cur was started */
	/* step_redirect(): */
	int fd;               /* -1: stream 1 goes to the loop */
	char *path, *tmp;     /* the target and the temporary file */
	struct buf fbuf;      /* bytes not yet written to fd */
	int write_err;        /* errno of the first failed write; 0: none */
	const char *dir;      /* the task's dir: relative paths are below it; NULL: cwd */
};

struct step_job {
	struct pool_work work;
	struct pool *pool;
	const struct step_def *def;
	int argc;
	char **argv;          /* a private copy, NULL-terminated */
	const struct step_job_ops *ops;
	void *data;
	int status;           /* written by the worker before its completion */
	atomic_int cancelled;
	char *dir;            /* a private copy, or NULL */
	uv_mutex_t lock;
	uv_cond_t cond;       /* signalled: a chunk was consumed, or cancelled */
	unsigned inflight;    /* under lock: chunks posted, not yet consumed */
	struct step_out out;  /* the worker's only */
};

static bool is_cancelled(const struct step_job *j)
{
	return atomic_load_explicit(&j->cancelled, memory_order_relaxed) != 0;
}

/* Loop thread: one chunk of a job's output arrives. */
static void chunk_deliver(struct pool_msg *m)
{
	struct chunk *c = (struct chunk *)m;
	struct step_job *j = c->job;
	j->ops->output(j, c->stream, c->data, c->len);
	free(c);
	uv_mutex_lock(&j->lock);
	j->inflight--;
	uv_cond_signal(&j->cond);
	uv_mutex_unlock(&j->lock);
}

/* Worker: hands the pending chunk to the loop, first waiting while too many
 * are unconsumed. A cancelled job's output is dropped. */
static void flush(struct step_out *o)
{
	struct step_job *j = o->job;
	struct chunk *c = o->cur;
	if (!c)
		return;
	o->cur = NULL;
	uv_mutex_lock(&j->lock);
	while (j->inflight >= MAX_INFLIGHT && !is_cancelled(j))
		uv_cond_wait(&j->cond, &j->lock);
	bool drop = is_cancelled(j);
	if (!drop)
		j->inflight++;
	uv_mutex_unlock(&j->lock);
	if (drop) {
		free(c);
		return;
	}
	c->msg.deliver = chunk_deliver;
	pool_post(j->pool, &c->msg);
}

static void file_flush(struct step_out *o)
{
	if (o->write_err || !o->fbuf.len)
		return;
	o->write_err = -write_full(o->fd, o->fbuf.p, o->fbuf.len);
	buf_reset(&o->fbuf);
	if (o->write_err)
		step_error_errno(o, o->write_err, "cannot write '%s'", o->path);
}

int step_write(struct step_out *o, int stream, const char *data, size_t len)
{
	if (is_cancelled(o->job))
		return -1;
	if (stream == 1 && o->fd >= 0) {
		if (o->write_err)
			return -1;
		buf_add(&o->fbuf, data, len);
		if (o->fbuf.len >= CHUNK_SIZE)
			file_flush(o);
		return o->write_err ? -1 : 0;
	}
	if (o->cur && o->cur->stream != stream)
		flush(o);
	while (len) {
		if (!o->cur) {
			o->cur = xmalloc(sizeof *o->cur);
			o->cur->job = o->job;
			o->cur->stream = stream;
			o->cur->len = 0;
			o->cur_ns = now_ns();
		}
		size_t n = CHUNK_SIZE - o->cur->len;
		if (n > len)
			n = len;
		memcpy(o->cur->data + o->cur->len, data, n);
		o->cur->len += n;
		data += n;
		len -= n;
		if (o->cur->len == CHUNK_SIZE)
			flush(o);
	}
	return is_cancelled(o->job) ? -1 : 0;
}

static void verror(struct step_out *o, int err, const char *fmt, va_list ap)
{
	struct buf b;
	buf_init(&b);
	buf_addf(&b, "weft: %s: ", o->job->def->name);
	va_list aq;
	va_copy(aq, ap);
	int n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		abort();
	char *msg = xmalloc((size_t)n + 1);
	vsnprintf(msg, (size_t)n + 1, fmt, ap);
	buf_adds(&b, msg);
	free(msg);
	if (err) {
		char tmp[256];
		/* GNU strerror_r: strerror() may use a static buffer. */
		buf_addf(&b, ": %s", strerror_r(err, tmp, sizeof tmp));
	}
	buf_add(&b, "\n", 1);
	step_write(o, 2, b.p, b.len);
	buf_release(&b);
}

void step_error(struct step_out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verror(o, 0, fmt, ap);
	va_end(ap);
}

void step_error_errno(struct step_out *o, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verror(o, err, fmt, ap);
	va_end(ap);
}

int step_poll(struct step_out *o)
{
	if (o->cur && now_ns() - o->cur_ns >= FLUSH_AFTER_NS)
		flush(o);
	return is_cancelled(o->job);
}

char *step_path(const struct step_out *o, const char *path)
{
	if (!o->dir || !*o->dir || path[0] == '/')
		return xstrdup(path);
	return xasprintf("%s/%s", o->dir, path);
}

int step_redirect(struct step_out *o, const char *name)
{
	if (o->fd >= 0)
		abort();
	char *full = step_path(o, name);
	const char *path = full;
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path + 1) : 0;
	/* Beside the target, so that rename() is atomic. */
	char *tmp = xasprintf("%.*s.%s.weft-XXXXXX", dirlen, path, path + dirlen);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		step_error_errno(o, errno, "cannot write '%s'", name);
		free(tmp);
		free(full);
		return -1;
	}
	if (fchmod(fd, 0644) < 0) {
		step_error_errno(o, errno, "cannot write '%s'", name);
		close(fd);
		unlink(tmp);
		free(tmp);
		free(full);
		return -1;
	}
	o->fd = fd;
	o->tmp = tmp;
	o->path = full;
	return 0;
}

/* Worker: after run(). Commits or removes the --output file and hands the
 * last chunk over. Returns the job's status. */
static int out_finish(struct step_out *o, int status)
{
	bool cancelled = is_cancelled(o->job);
	/* A cancelled job's output file is not committed, so it must not
	 * look successful, even if run() got to its end. */
	if ((status != STEP_OK && status != STEP_NONE) || cancelled)
		status = STEP_ERROR;
	if (o->fd >= 0) {
		file_flush(o);
		if (close(o->fd) < 0 && !o->write_err && errno != EINTR) {
			o->write_err = errno;
			step_error_errno(o, o->write_err, "cannot write '%s'", o->path);
		}
		o->fd = -1;
		if (o->write_err)
			status = STEP_ERROR;
		if (status == STEP_ERROR || cancelled) {
			unlink(o->tmp);
		} else if (rename(o->tmp, o->path) < 0) {
			step_error_errno(o, errno, "cannot write '%s'", o->path);
			unlink(o->tmp);
			status = STEP_ERROR;
		}
	}
	flush(o);
	return status;
}

static void job_work(struct pool_work *w)
{
	struct step_job *j = (struct step_job *)w;
	int status = j->def->run(j->argc, j->argv, &j->out);
	j->status = out_finish(&j->out, status);
}

static void job_free(struct step_job *j)
{
	for (int i = 0; i < j->argc; i++)
		free(j->argv[i]);
	free(j->argv);
	free(j->out.path);
	free(j->out.tmp);
	free(j->dir);
	buf_release(&j->out.fbuf);
	uv_cond_destroy(&j->cond);
	uv_mutex_destroy(&j->lock);
	free(j);
}

static void job_after(struct pool_work *w)
{
	struct step_job *j = (struct step_job *)w;
	j->ops->done(j, j->status);
	job_free(j);
}

int step_job_start(struct pool *pool, const struct step_def *def, int argc, char *const *argv, const char *dir,
		   const struct step_job_ops *ops, void *data, struct step_job **out)
{
	struct step_job *j = xcalloc(1, sizeof *j);
	j->dir = dir ? xstrdup(dir) : NULL;
	j->work.work = job_work;
	j->work.after = job_after;
	j->pool = pool;
	j->def = def;
	j->argc = argc;
	j->argv = xcalloc((size_t)argc + 1, sizeof *j->argv);
	for (int i = 0; i < argc; i++)
		j->argv[i] = xstrdup(argv[i]);
	j->ops = ops;
	j->data = data;
	atomic_init(&j->cancelled, 0);
	if (uv_mutex_init(&j->lock) || uv_cond_init(&j->cond))
		abort();
	j->out.job = j;
	j->out.fd = -1;
	j->out.dir = j->dir;
	buf_init(&j->out.fbuf);
	int r = pool_submit(pool, &j->work);
	if (r < 0) {
		job_free(j);
		return r;
	}
	*out = j;
	return 0;
}

void step_job_cancel(struct step_job *j)
{
	atomic_store(&j->cancelled, 1);
	uv_mutex_lock(&j->lock);
	uv_cond_broadcast(&j->cond);
	uv_mutex_unlock(&j->lock);
}

void step_shell_args(struct buf *b, int n, char *const *words, const char *output)
{
	for (int i = 0; i < n; i++) {
		buf_adds(b, " ");
		shell_quote(b, words[i], strlen(words[i]));
	}
	if (output) {
		buf_adds(b, " > ");
		shell_quote(b, output, strlen(output));
	}
}

void *step_job_data(struct step_job *j)
{
	return j->data;
}
