/* The job log (--joblog): one line per finished job in GNU parallel's format, appended so a killed run can be resumed. */
#include "joblog.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "escape.h"
#include "util.h"

static const char header[] = "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n";

/* Closes a torn line; no record ends in two tabs (see joblog.h). */
static const char seal[] = "\t\t\n";

struct joblog {
	int fd;
	int torn_tail; /* 1: the file ends in a torn line, which the next write closes first */
};

/* One write() of the whole line, so that a kill leaves either all of it or
 * a prefix without the final newline, which readers skip as torn. A short
 * write is not finished with a second write(): another process appending
 * to the file could land between the two and glue its line onto ours. */
static int write_line(struct joblog *jl, const char *p, size_t n)
{
	ssize_t w;
	do
		w = write(jl->fd, p, n);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -errno;
	if ((size_t)w < n) {
		/* POSIX: a short write to a file means there was no room for the
		 * rest (a full device, a quota, RLIMIT_FSIZE). */
		if (w > 0)
			jl->torn_tail = 1;
		return -ENOSPC;
	}
	jl->torn_tail = 0;
	return 0;
}

/* A non-empty log that does not end in a newline was cut short: mid-record
 * (the next append closes the line), or mid-header (finish the header, so
 * that line 1 is the header GNU parallel expects). fd is write-only, so
 * the end is read through a second open of path, checked to be the same
 * file. */
static int check_tail(struct joblog *jl, const char *path, const struct stat *st)
{
	int rfd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (rfd < 0)
		return -errno;
	struct stat rst;
	int err = 0;
	char tail[sizeof header];
	int whole = st->st_size < (off_t)sizeof header - 1;
	size_t n = whole ? (size_t)st->st_size : 1;
	ssize_t r;
	if (fstat(rfd, &rst) < 0)
		err = -errno;
	else if (rst.st_dev != st->st_dev || rst.st_ino != st->st_ino)
		err = -EAGAIN;
	else if ((r = pread(rfd, tail, n, st->st_size - (off_t)n)) < 0)
		err = -errno;
	else if ((size_t)r == n && tail[n - 1] != '\n') {
		if (whole && memcmp(tail, header, n) == 0)
			err = write_line(jl, header + n, sizeof header - 1 - n);
		else
			jl->torn_tail = 1;
	}
	close(rfd);
	return err;
}

int joblog_open(struct joblog **out, const char *path, bool truncate)
{
	int fd = open(path, O_CREAT | O_APPEND | O_WRONLY | O_CLOEXEC | O_NOFOLLOW | (truncate ? O_TRUNC : 0), 0644);
	struct stat target;
	int err0 = errno;
	/* A link to what is not a regular file (a device, a fifo), or one of
	 * the system's own in /dev (/dev/stderr, /dev/fd/3), cannot be used
	 * to clobber a file: write there, never truncating. */
	if (fd < 0 && errno == ELOOP && stat(path, &target) == 0 && !S_ISDIR(target.st_mode) &&
	    (!S_ISREG(target.st_mode) || strncmp(path, "/dev/", 5) == 0))
		fd = open(path, O_APPEND | O_WRONLY | O_CLOEXEC);
	else if (fd < 0)
		errno = err0;
	if (fd < 0)
		return -errno;
	struct joblog *jl = xcalloc(1, sizeof *jl);
	jl->fd = fd;
	struct stat st;
	int err = 0;
	if (fstat(fd, &st) < 0)
		err = -errno;
	else if (st.st_size == 0)
		err = write_line(jl, header, sizeof header - 1);
	else if (S_ISREG(st.st_mode))
		err = check_tail(jl, path, &st);
	if (err) {
		joblog_close(jl);
		return err;
	}
	*out = jl;
	return 0;
}

/* What the log escapes in a command: as GNU parallel, not '\r'. */
static const char escaped[] = "\\\t\n";

int joblog_append(struct joblog *jl, const struct joblog_rec *r)
{
	const char *host = r->host ? r->host : ":";
	if (!*host || strpbrk(host, "\t\n") || !r->command || r->signal < 0 || !isfinite(r->start) ||
	    !isfinite(r->runtime))
		return -EINVAL;
	/* GNU parallel cuts the runtime to milliseconds rather than rounding;
	 * the 1e-7 keeps 0.003 (which is 2.99999... ms in binary) at 0.003. */
	double runtime = r->runtime;
	if (runtime > -1e12 && runtime < 1e12)
		runtime = (double)(long long)(runtime * 1000 + 1e-7) / 1000;
	struct buf b;
	buf_init(&b);
	if (jl->torn_tail)
		buf_add(&b, seal, sizeof seal - 1);
	buf_addf(&b, "%llu\t%s\t%.3f\t%10.3f\t%llu\t%llu\t%d\t%d\t", r->seq, host, r->start, runtime, r->send,
		 r->receive, r->exitval, r->signal);
	escape_add(&b, r->command, escaped);
	buf_add(&b, "\n", 1);
	int err = write_line(jl, b.p, b.len);
	buf_release(&b);
	return err;
}

void joblog_close(struct joblog *jl)
{
	if (!jl)
		return;
	close(jl->fd);
	free(jl);
}

/* Fields are [s, s + n), not NUL-terminated: a line may hold NUL bytes. */

static int parse_ull(const char *s, size_t n, unsigned long long *v)
{
	unsigned long long x = 0;
	if (!n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		unsigned d = (unsigned)(s[i] - '0');
		if (x > (~0ULL - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

static int parse_int(const char *s, size_t n, int neg_ok, int *v)
{
	int neg = n && *s == '-' && neg_ok;
	unsigned long long x;
	if (parse_ull(s + neg, n - (size_t)neg, &x) < 0 || x > (unsigned long long)INT_MAX + (unsigned)neg)
		return -1;
	*v = neg ? (int)-(long long)x : (int)x;
	return 0;
}

/* Seconds as parallel prints them: [spaces][-]digits[.digits]. */
static int parse_secs(const char *s, size_t n, double *v)
{
	while (n && *s == ' ')
		s++, n--;
	char tmp[64];
	size_t i = 0, digits = 0;
	if (!n || n >= sizeof tmp)
		return -1;
	if (s[i] == '-')
		i++;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (i < n && s[i] == '.' && digits) {
		size_t frac = 0;
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			frac++;
		if (!frac)
			return -1;
	}
	/* More than 15 digits before the point is no time weft or GNU
	 * parallel writes (and %.3f of it would not fit this reader). */
	if (!digits || i != n || digits > 15)
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	*v = strtod(tmp, NULL);
	return 0;
}

/* Undoes escape_add(); also reads parallel's NUL-for-newline. A backslash
 * before any other byte is kept, as is the byte. */
static void unescape(struct buf *b, const char *s, size_t n)
{
	const char *end = s + n, *run = s;
	for (; s < end; s++) {
		char c;
		int d;
		if (*s == '\0')
			c = '\n';
		else if (*s == '\\' && s + 1 < end && (d = escape_decode(s[1], escaped)) >= 0)
			c = (char)d;
		else
			continue;
		buf_add(b, run, (size_t)(s - run));
		buf_add(b, &c, 1);
		if (*s == '\\')
			s++;
		run = s + 1;
	}
	buf_add(b, run, (size_t)(end - run));
}

static const char *const field_names[] = {"Seq", "Host", "Starttime", "JobRuntime", "Send", "Receive", "Exitval", "Signal"};

/* Parses line [p, p + n) (no newline) into r and cmd; returns NULL, or why
 * it is not a record, in why. */
static const char *parse_record(const char *p, size_t n, struct joblog_rec *r, struct buf *host, struct buf *cmd,
				struct buf *why)
{
	const char *f[8];
	size_t len[8];
	const char *s = p, *end = p + n;
	for (int i = 0; i < 8; i++) {
		const char *tab = memchr(s, '\t', (size_t)(end - s));
		if (!tab) {
			buf_addf(why, "expected 9 tab-separated fields, found %d", i + 1);
			return why->p;
		}
		f[i] = s;
		len[i] = (size_t)(tab - s);
		s = tab + 1;
	}
	int bad = -1;
	if (parse_ull(f[0], len[0], &r->seq) < 0)
		bad = 0;
	else if (!len[1] || memchr(f[1], '\0', len[1]))
		bad = 1;
	else if (parse_secs(f[2], len[2], &r->start) < 0)
		bad = 2;
	else if (parse_secs(f[3], len[3], &r->runtime) < 0)
		bad = 3;
	else if (parse_ull(f[4], len[4], &r->send) < 0)
		bad = 4;
	else if (parse_ull(f[5], len[5], &r->receive) < 0)
		bad = 5;
	else if (parse_int(f[6], len[6], 1, &r->exitval) < 0)
		bad = 6;
	else if (parse_int(f[7], len[7], 0, &r->signal) < 0)
		bad = 7;
	if (bad >= 0) {
		int shown = len[bad] > 40 ? 40 : (int)len[bad];
		buf_addf(why, "bad %s '%.*s%s'", field_names[bad], shown, f[bad], shown < (int)len[bad] ? "..." : "");
		return why->p;
	}
	buf_add(host, f[1], len[1]);
	unescape(cmd, s, (size_t)(end - s));
	r->host = host->p;
	r->command = cmd->p ? cmd->p : "";
	return NULL;
}

int joblog_read(const char *path, void (*cb)(void *ud, const struct joblog_rec *r),
		void (*bad_cb)(void *ud, unsigned long line, const char *why), void *ud, unsigned *torn)
{
	if (torn)
		*torn = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	FILE *f = fdopen(fd, "r");
	if (!f) {
		int err = -errno;
		close(fd);
		return err;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long lineno = 0;
	struct buf host, cmd, why;
	buf_init(&host);
	buf_init(&cmd);
	buf_init(&why);
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (line[n - 1] != '\n') {
			/* Unterminated: the write of the last record was cut short. */
			if (torn)
				(*torn)++;
			break;
		}
		n--;
		if (n >= 2 && line[n - 1] == '\t' && line[n - 2] == '\t') {
			if (torn)
				(*torn)++;
			continue;
		}
		if ((size_t)n == sizeof header - 2 && memcmp(line, header, (size_t)n) == 0)
			continue;
		struct joblog_rec r;
		buf_reset(&host);
		buf_reset(&cmd);
		buf_reset(&why);
		const char *bad = parse_record(line, (size_t)n, &r, &host, &cmd, &why);
		if (bad) {
			if (bad_cb)
				bad_cb(ud, lineno, bad);
		} else if (cb) {
			cb(ud, &r);
		}
	}
	int err = ferror(f) ? -errno : 0;
	free(line);
	buf_release(&host);
	buf_release(&cmd);
	buf_release(&why);
	fclose(f);
	return err;
}
