/* GNU make's jobserver, both sides: reading MAKEFLAGS, taking and giving back tokens, and serving weft's own -j slots to its jobs. */
#include "jobserver.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"
#include "util.h"

/*
 * Tokens are read and written on descriptions weft opens itself (the fifo
 * by its path, make's R,W through /dev/fd), non-blocking and close-on-exec:
 * the descriptions make shares with its other children keep their mode
 * (making them non-blocking would break make and every other client).
 */
struct jobserver {
	bool server;
	int rfd, wfd;        /* weft's own: non-blocking, close-on-exec */
	int pass[2];         /* R,W every job inherits; -1: none (fifo style) */
	char *dir, *fifo;    /* server: its private directory and fifo */
	unsigned pool;       /* server: tokens when no job runs (-j minus 1) */
	uv_poll_t poll;
	bool attached, watching;
	void (*ready)(void *);
	void *ud;
};

static bool is_jobs_word(const char *w, unsigned *n)
{
	if (strncmp(w, "-j", 2) != 0)
		return false;
	unsigned long long v = 0;
	const char *end = w[2] ? parse_uint(w + 2, 100000, &v) : w + 2;
	if (!end || *end)
		return false;
	*n = (unsigned)v;
	return true;
}

static bool is_auth_word(const char *w, const char **value)
{
	static const char *const keys[] = {"--jobserver-auth=", "--jobserver-fds="};
	for (size_t i = 0; i < 2; i++)
		if (strncmp(w, keys[i], strlen(keys[i])) == 0) {
			*value = w + strlen(keys[i]);
			return true;
		}
	return false;
}

void makeflags_parse(const char *s, struct makeflags *mf)
{
	memset(mf, 0, sizeof *mf);
	mf->rfd = mf->wfd = -1;
	if (!s)
		return;
	size_t n;
	char **w = split_blanks(s, &n);
	/* make puts its flag letters first, without a dash (" -j3 ..." when
	 * there are none: the word then starts with one). */
	if (n && w[0][0] != '-' && !strchr(w[0], '=')) {
		mf->dry_run = strchr(w[0], 'n') != NULL;
		mf->keep_going = strchr(w[0], 'k') != NULL;
	}
	for (size_t i = 0; i < n && strcmp(w[i], "--") != 0; i++) {
		const char *v;
		unsigned j;
		if (is_jobs_word(w[i], &j)) {
			mf->jobs = j;
		} else if (is_auth_word(w[i], &v)) {
			free(mf->fifo);
			mf->fifo = NULL;
			int r, wr;
			char end;
			if (strncmp(v, "fifo:", 5) == 0 && v[5]) {
				mf->auth = MF_AUTH_FIFO;
				mf->fifo = xstrdup(v + 5);
			} else if (sscanf(v, "%d,%d%c", &r, &wr, &end) == 2) {
				mf->auth = r < 0 || wr < 0 ? MF_AUTH_OFF : MF_AUTH_FDS;
				mf->rfd = r;
				mf->wfd = wr;
			} else {
				mf->auth = MF_AUTH_OFF; /* a style weft does not know */
			}
		}
	}
	free_words(w);
}

void makeflags_release(struct makeflags *mf)
{
	free(mf->fifo);
	mf->fifo = NULL;
}

char *makeflags_with_auth(const char *s, unsigned jobs, const char *auth)
{
	size_t n;
	char **w = split_blanks(s ? s : "", &n);
	struct buf b;
	buf_init(&b);
	size_t i = 0;
	if (n && w[0][0] != '-' && !strchr(w[0], '='))
		buf_adds(&b, w[i++]);
	for (; i < n && strcmp(w[i], "--") != 0; i++) {
		const char *v;
		unsigned j;
		if (is_auth_word(w[i], &v) || (jobs && is_jobs_word(w[i], &j)))
			continue;
		buf_addf(&b, " %s", w[i]);
	}
	if (jobs)
		buf_addf(&b, " -j%u", jobs);
	buf_addf(&b, " --jobserver-auth=%s", auth);
	for (; i < n; i++)
		buf_addf(&b, " %s", w[i]);
	free_words(w);
	return buf_take(&b);
}

int jobserver_style_parse(const char *s, enum jobserver_style *out)
{
	if (strcmp(s, "pipe") == 0)
		*out = JS_STYLE_PIPE;
	else if (strcmp(s, "fifo") == 0)
		*out = JS_STYLE_FIFO;
	else
		return -1;
	return 0;
}

static bool is_pipe_fd(int fd)
{
	struct stat st;
	return fd >= 0 && fcntl(fd, F_GETFD) >= 0 && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

static struct jobserver *js_new(void)
{
	struct jobserver *js = xcalloc(1, sizeof *js);
	js->rfd = js->wfd = js->pass[0] = js->pass[1] = -1;
	return js;
}

/* A private description of path (a fifo, or /dev/fd/N). */
static int open_private(const char *path, int flags)
{
	int fd;
	do
		fd = open(path, flags | O_NONBLOCK | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : fd;
}

/* Opens weft's own ends; 0 or -errno. */
static int open_ends(struct jobserver *js, const char *rpath, const char *wpath)
{
	/* The read end first: opening a fifo to write fails while nobody reads. */
	js->rfd = open_private(rpath, O_RDONLY);
	if (js->rfd < 0)
		return js->rfd;
	js->wfd = open_private(wpath, O_WRONLY);
	return js->wfd < 0 ? js->wfd : 0;
}

/* fd, moved above 9 (a cluster's runner has its link on fd 3) and closed on
 * exec; every child gets it back through proc_pass_fds(). */
static int high_fd(int fd)
{
	int h = fcntl(fd, F_DUPFD_CLOEXEC, 10);
	if (h < 0)
		abort();
	return h;
}

static void export_auth(const char *auth, unsigned jobs)
{
	char *mf = makeflags_with_auth(getenv("MAKEFLAGS"), jobs, auth);
	setenv("MAKEFLAGS", mf, 1);
	free(mf);
}

static void pass_fds(struct jobserver *js)
{
	proc_pass_fds(js->pass[0], js->pass[1]);
}

static int join(const struct makeflags *mf, struct jobserver **out, char **warning)
{
	struct jobserver *js = js_new();
	int err;
	if (mf->auth == MF_AUTH_FIFO) {
		err = open_ends(js, mf->fifo, mf->fifo);
		if (err < 0) {
			*warning = xasprintf("cannot open the jobserver fifo '%s' that MAKEFLAGS names: %s; running one job at a time",
					     mf->fifo, strerror(-err));
			jobserver_free(js);
			return err;
		}
		/* The jobs find it by its path, in MAKEFLAGS as it is. */
		*out = js;
		return 0;
	}
	if (!is_pipe_fd(mf->rfd) || !is_pipe_fd(mf->wfd)) {
		*warning = xasprintf("make's jobserver (fds %d,%d in MAKEFLAGS) is not open here: mark the make rule that runs weft "
				     "with '+' or use $(MAKE); running one job at a time",
				     mf->rfd, mf->wfd);
		jobserver_free(js);
		return -EBADF;
	}
	char rpath[32], wpath[32];
	snprintf(rpath, sizeof rpath, "/dev/fd/%d", mf->rfd);
	snprintf(wpath, sizeof wpath, "/dev/fd/%d", mf->wfd);
	err = open_ends(js, rpath, wpath);
	if (err < 0) {
		*warning = xasprintf("cannot open make's jobserver (fds %d,%d): %s; running one job at a time", mf->rfd,
				     mf->wfd, strerror(-err));
		jobserver_free(js);
		return err;
	}
	/* The jobs share make's jobserver as a make below make would; they
	 * get it on purpose, through fds weft chose. */
	js->pass[0] = high_fd(mf->rfd);
	js->pass[1] = high_fd(mf->wfd);
	char auth[32];
	snprintf(auth, sizeof auth, "%d,%d", js->pass[0], js->pass[1]);
	export_auth(auth, 0);
	pass_fds(js);
	*out = js;
	return 0;
}

static int fill(struct jobserver *js, unsigned n)
{
	char tokens[256];
	memset(tokens, '+', sizeof tokens);
	while (n) {
		size_t k = n < sizeof tokens ? n : sizeof tokens;
		ssize_t w = write(js->wfd, tokens, k);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN && js->server) {
			/* -j beyond what a fifo holds (64 KiB): the pool is what fits. */
			js->pool -= n;
			return 0;
		}
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		n -= (unsigned)w;
	}
	return 0;
}

/* The pipe style without a name in the file system (a temporary
 * directory costs a run that runs nothing more than the rest of its
 * start): a pipe whose ends the jobs inherit, blocking (make 4.3 reads
 * its R so), and weft's own non-blocking descriptions of it, opened
 * through /proc/self/fd. Returns 0 or -errno (no /proc: the caller makes
 * a fifo instead). */
static int serve_pipe(struct jobserver *js, unsigned jobs)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	char rpath[32], wpath[32];
	snprintf(rpath, sizeof rpath, "/proc/self/fd/%d", p[0]);
	snprintf(wpath, sizeof wpath, "/proc/self/fd/%d", p[1]);
	int err = open_ends(js, rpath, wpath);
	if (!err)
		err = fill(js, js->pool);
	if (err) {
		for (int i = 0; i < 2; i++)
			close(p[i]);
		if (js->rfd >= 0)
			close(js->rfd);
		if (js->wfd >= 0)
			close(js->wfd);
		js->rfd = js->wfd = -1;
		js->pool = jobs - 1;
		return err;
	}
	js->pass[0] = high_fd(p[0]);
	js->pass[1] = high_fd(p[1]);
	close(p[0]);
	close(p[1]);
	char auth[32];
	snprintf(auth, sizeof auth, "%d,%d", js->pass[0], js->pass[1]);
	export_auth(auth, jobs);
	pass_fds(js);
	return 0;
}

static int serve(unsigned jobs, enum jobserver_style style, struct jobserver **out)
{
	struct jobserver *js = js_new();
	js->server = true;
	js->pool = jobs - 1;
	if (style == JS_STYLE_PIPE && serve_pipe(js, jobs) == 0) {
		*out = js;
		return 0;
	}
	const char *tmp = getenv("TMPDIR");
	js->dir = xasprintf("%s/weft-jobserver.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int err = 0;
	if (!mkdtemp(js->dir)) {
		err = -errno;
		free(js->dir);
		js->dir = NULL;
		goto fail;
	}
	js->fifo = xasprintf("%s/fifo", js->dir);
	if (mkfifo(js->fifo, 0600) < 0) {
		err = -errno;
		goto fail;
	}
	if ((err = open_ends(js, js->fifo, js->fifo)) < 0 || (err = fill(js, js->pool)) < 0)
		goto fail;
	if (style == JS_STYLE_FIFO) {
		char *auth = xasprintf("fifo:%s", js->fifo);
		export_auth(auth, jobs);
		free(auth);
	} else {
		/* Blocking descriptions of the same fifo for the jobs: make 4.3
		 * reads its R with a blocking read. */
		int r = open_private(js->fifo, O_RDONLY), w = r < 0 ? r : open_private(js->fifo, O_WRONLY);
		if (r < 0 || w < 0) {
			err = r < 0 ? r : w;
			if (r >= 0)
				close(r);
			goto fail;
		}
		fcntl(r, F_SETFL, fcntl(r, F_GETFL) & ~O_NONBLOCK);
		fcntl(w, F_SETFL, fcntl(w, F_GETFL) & ~O_NONBLOCK);
		js->pass[0] = high_fd(r);
		js->pass[1] = high_fd(w);
		close(r);
		close(w);
		char auth[32];
		snprintf(auth, sizeof auth, "%d,%d", js->pass[0], js->pass[1]);
		export_auth(auth, jobs);
		pass_fds(js);
		/* Every end is open: the fifo needs no name now, and a weft
		 * killed by SIGKILL leaves nothing in the temporary directory. */
		unlink(js->fifo);
		rmdir(js->dir);
		free(js->fifo);
		free(js->dir);
		js->fifo = js->dir = NULL;
	}
	*out = js;
	return 0;
fail:
	jobserver_free(js);
	return err;
}

void jobserver_setup(const struct makeflags *mf, bool jobs_forced, enum jobserver_style style, unsigned *jobs,
		     struct jobserver **out, char **warning)
{
	*out = NULL;
	*warning = NULL;
	/* Whatever weft does with make's fds, no job gets them by accident. */
	if (mf->auth == MF_AUTH_FDS)
		for (int i = 0; i < 2; i++) {
			int fd = i ? mf->wfd : mf->rfd;
			int fl = fcntl(fd, F_GETFD);
			if (fl >= 0)
				fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
		}
	bool client = !jobs_forced && (mf->auth == MF_AUTH_FDS || mf->auth == MF_AUTH_FIFO);
	if (client && join(mf, out, warning) == 0) {
		/* make's -j bounds the slots; its tokens decide how many are used. */
		if (mf->jobs)
			*jobs = mf->jobs;
		return;
	}
	if (client)
		*jobs = 1;
	int err = serve(*jobs, style, out);
	if (err < 0 && !*warning)
		*warning = xasprintf("cannot make a jobserver for the jobs: %s", strerror(-err));
}

void jobserver_free(struct jobserver *js)
{
	if (!js)
		return;
	proc_pass_fds(-1, -1);
	int fds[] = {js->rfd, js->wfd, js->pass[0], js->pass[1]};
	for (size_t i = 0; i < 4; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (js->fifo)
		unlink(js->fifo);
	if (js->dir)
		rmdir(js->dir);
	free(js->fifo);
	free(js->dir);
	free(js);
}

bool jobserver_is_server(const struct jobserver *js)
{
	return js && js->server;
}

static void poll_cb(uv_poll_t *h, int status, int events)
{
	struct jobserver *js = h->data;
	(void)status;
	(void)events;
	jobserver_unwatch(js);
	js->ready(js->ud);
}

void jobserver_attach(struct jobserver *js, uv_loop_t *loop, void (*ready)(void *), void *ud)
{
	js->ready = ready;
	js->ud = ud;
	if (uv_poll_init(loop, &js->poll, js->rfd) < 0)
		abort();
	js->poll.data = js;
	/* A job always runs while weft waits for a token (it holds the
	 * implicit one): the poll alone never keeps the loop going. */
	uv_unref((uv_handle_t *)&js->poll);
	js->attached = true;
}

void jobserver_detach(struct jobserver *js)
{
	if (!js->attached)
		return;
	js->attached = js->watching = false;
	uv_close((uv_handle_t *)&js->poll, NULL);
}

int jobserver_take(struct jobserver *js)
{
	unsigned char c;
	ssize_t n;
	do
		n = read(js->rfd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n == 1)
		return c;
	/* EAGAIN: other clients have them all. (EOF cannot be: weft holds a
	 * write end of the fifo, and make one of its pipe.) */
	if (js->attached && !js->watching) {
		js->watching = true;
		uv_poll_start(&js->poll, UV_READABLE, poll_cb);
	}
	return -1;
}

void jobserver_give(struct jobserver *js, int token)
{
	if (token < 0 || token == JS_IMPLICIT)
		return;
	unsigned char c = (unsigned char)token;
	ssize_t n;
	do
		n = write(js->wfd, &c, 1);
	while (n < 0 && errno == EINTR);
}

void jobserver_unwatch(struct jobserver *js)
{
	if (js->watching) {
		js->watching = false;
		uv_poll_stop(&js->poll);
	}
}

void jobserver_idle(struct jobserver *js)
{
	if (!js->server)
		return;
	/* No job runs, and the whole group of every job that ran is gone: all
	 * of the pool should be in the fifo. Count it, and fill what is missing. */
	unsigned char c[256];
	ssize_t n;
	while ((n = read(js->rfd, c, sizeof c)) > 0 || (n < 0 && errno == EINTR))
		;
	fill(js, js->pool);
}

void jobserver_pass_on(void)
{
	struct makeflags mf;
	makeflags_parse(getenv("MAKEFLAGS"), &mf);
	if (mf.auth == MF_AUTH_FDS && is_pipe_fd(mf.rfd) && is_pipe_fd(mf.wfd)) {
		fcntl(mf.rfd, F_SETFD, FD_CLOEXEC);
		fcntl(mf.wfd, F_SETFD, FD_CLOEXEC);
		proc_pass_fds(mf.rfd, mf.wfd);
	}
	makeflags_release(&mf);
}
