/* Make-format dependency files: reading the rules gcc -MD and clang -MD write, as ninja's deps = gcc does, into the list of files a command read. */
#include "depfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "glob.h"
#include "hashtab.h"
#include "util.h"

/* The largest depfile read: a C file with thousands of headers writes a
 * few hundred KiB; past this it is not a depfile. */
#define DEPFILE_MAX (64u << 20)

struct lexer {
	char *p, *end;
	int line;
};

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* At p: a line ending ("\n" or "\r\n"); returns its length, or 0. */
static size_t eol(const struct lexer *lx, const char *p)
{
	if (p < lx->end && *p == '\n')
		return 1;
	if (p + 1 < lx->end && p[0] == '\r' && p[1] == '\n')
		return 2;
	return 0;
}

/* Skips blanks and backslash-newlines; stops at a line ending, a word or
 * the end. */
static void skip_blanks(struct lexer *lx)
{
	while (lx->p < lx->end) {
		size_t n;
		if (blank(*lx->p)) {
			lx->p++;
		} else if (*lx->p == '\\' && (n = eol(lx, lx->p + 1))) {
			lx->p += 1 + n;
			lx->line++;
		} else {
			break;
		}
	}
}

/* Reads one name at lx->p into w (unescaped). Sets *colon when the name
 * ends in a ':' that ends the targets (followed by a blank, a line ending
 * or the end). */
static void read_name(struct lexer *lx, struct buf *w, bool *colon)
{
	*colon = false;
	while (lx->p < lx->end) {
		char c = *lx->p;
		if (blank(c) || eol(lx, lx->p))
			break;
		if (c == '\\') {
			char *q = lx->p;
			while (q < lx->end && *q == '\\')
				q++;
			size_t n = (size_t)(q - lx->p);
			if (q < lx->end && blank(*q)) {
				/* 2N+1 backslashes and a blank: N and the blank;
				 * 2N: all of them, and the name ends. */
				for (size_t i = 0; i < (n & 1 ? n / 2 : n); i++)
					buf_add(w, "\\", 1);
				lx->p = q;
				if (!(n & 1))
					break;
				buf_add(w, q, 1);
				lx->p++;
				continue;
			}
			if (n == 1 && eol(lx, q))
				break; /* a continuation: skip_blanks() takes it */
			if (n == 1 && q < lx->end && *q == '#') {
				buf_add(w, "#", 1);
				lx->p = q + 1;
				continue;
			}
			buf_add(w, lx->p, n);
			lx->p = q;
			continue;
		}
		if (c == '$' && lx->p + 1 < lx->end && lx->p[1] == '$') {
			buf_add(w, "$", 1);
			lx->p += 2;
			continue;
		}
		if (c == ':') {
			char *q = lx->p + 1;
			if (q == lx->end || blank(*q) || eol(lx, q) || (*q == '\\' && eol(lx, q + 1))) {
				*colon = true;
				lx->p++;
				break;
			}
		}
		buf_add(w, &c, 1);
		lx->p++;
	}
}

int depfile_parse(char *text, size_t len, struct strlist *deps, int *line, char **msg)
{
	if (memchr(text, '\0', len)) {
		const char *nul = memchr(text, '\0', len);
		int n = 1;
		for (const char *p = text; p < nul; p++)
			n += *p == '\n';
		*line = n;
		*msg = xstrdup("NUL byte");
		return -1;
	}
	struct lexer lx = {text, text + len, 1};
	struct hashtab *seen = hashtab_new();
	struct buf w;
	buf_init(&w);
	int rc = 0;
	/* One rule per pass. */
	while (lx.p < lx.end && rc == 0) {
		int start = lx.line;
		size_t ntargets = 0;
		bool in_deps = false;
		for (;;) {
			skip_blanks(&lx);
			size_t n = eol(&lx, lx.p);
			if (lx.p >= lx.end || n) {
				lx.p += n;
				if (n)
					lx.line++;
				break;
			}
			if (*lx.p == '#' && !in_deps && ntargets == 0) {
				/* A comment line. */
				while (lx.p < lx.end && *lx.p != '\n')
					lx.p++;
				continue;
			}
			bool colon;
			buf_reset(&w);
			buf_add(&w, "", 0);
			read_name(&lx, &w, &colon);
			if (w.len && in_deps) {
				if (!hashtab_get(seen, w.p)) {
					strlist_add(deps, w.p);
					hashtab_put(seen, deps->v[deps->n - 1], deps);
				}
			} else if (w.len) {
				ntargets++;
			}
			if (!colon)
				continue;
			if (in_deps) {
				*line = lx.line;
				*msg = xstrdup("a second ':' in one rule");
				rc = -1;
				break;
			}
			if (ntargets == 0) {
				*line = lx.line;
				*msg = xstrdup("':' with no target before it");
				rc = -1;
				break;
			}
			in_deps = true;
		}
		if (rc == 0 && ntargets && !in_deps) {
			*line = start;
			*msg = xstrdup("expected ':' after the targets");
			rc = -1;
		}
	}
	buf_release(&w);
	hashtab_free(seen);
	return rc;
}

int depfile_read(const char *dir, const char *path, struct strlist *deps, char **msg)
{
	char *full = dir && *dir && path[0] != '/' ? xasprintf("%s/%s", dir, path) : xstrdup(path);
	/* Non-blocking: a FIFO is refused below, not waited on. */
	int fd = open(full, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	int err = fd < 0 ? errno : fstat(fd, &st) < 0 ? errno : !S_ISREG(st.st_mode) ? EINVAL
	                                                        : st.st_size > DEPFILE_MAX ? EFBIG
	                                                                                    : 0;
	char *text = NULL;
	size_t len = 0;
	if (!err) {
		text = xmalloc((size_t)st.st_size + 1);
		while (len < (size_t)st.st_size) {
			ssize_t n = read(fd, text + len, (size_t)st.st_size - len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				err = n < 0 ? errno : 0;
				break;
			}
			len += (size_t)n;
		}
	}
	if (fd >= 0)
		close(fd);
	int rc = 0;
	if (err) {
		*msg = xasprintf("cannot read depfile '%s': %s", path,
		                 err == EINVAL ? "not a regular file" : strerror(err));
		rc = -1;
	} else {
		int line;
		char *what;
		if (depfile_parse(text, len, deps, &line, &what) < 0) {
			*msg = xasprintf("depfile '%s' line %d: %s", path, line, what);
			free(what);
			rc = -1;
		} else {
			/* What it says goes into the record: the file is not
			 * needed again (ninja's deps = gcc). A bad one stays to
			 * be looked at. */
			unlink(full);
		}
	}
	free(text);
	free(full);
	return rc;
}
