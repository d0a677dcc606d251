/* The grep step: lines of files that match a PCRE2 pattern, printed the way `grep -n` and `grep -c` print them. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "../step.h"
#include "../util.h"

/*
 * step = grep [-c] [-v] [-i] [-n] [--output=FILE] [--] PATTERN PATH...
 *
 *   -n             accepted and ignored: lines are always numbered (grep -n)
 *   -c             print the number of selected lines per PATH (grep -c)
 *   -v             select the lines that do not match (grep -v)
 *   -i             ignore ASCII case (grep -i in the C locale)
 *   --output=FILE  write to FILE instead of stdout; FILE is replaced
 *                  atomically, and only when the status is 0 or 1
 *   --             ends the options (for a PATTERN that starts with '-')
 *   Flags combine: -cv is -c -v.
 *
 * PATTERN is a Perl-compatible regular expression (PCRE2, JIT-compiled,
 * byte mode: what `LC_ALL=C grep -P` matches), tried against each line
 * without its newline. A pattern that does not compile, or that contains a
 * newline, is a recipe error: "invalid regex 'a(': missing closing
 * parenthesis at offset 2".
 *
 * Output is `grep -n`'s: "LINE:TEXT" for one PATH, "PATH:LINE:TEXT" for
 * several; with -c, "COUNT" or "PATH:COUNT". A last line without a newline
 * is printed with one. The status is grep's: 0 when a line was selected,
 * 1 when none was, 2 when a PATH could not be read (reported as
 * "weft: grep: cannot read 'PATH': REASON"; the other PATHs are still read).
 *
 * Binary files, as GNU grep in the C locale: a file is binary once a NUL
 * byte has been read from it. From the read in which the first NUL shows up,
 * NUL also ends a line, and lines are no longer printed: at the first
 * selected line grep stops reading the file and says
 * "weft: grep: binary file 'PATH' matches" on stderr (the status counts
 * it as a match). Lines selected before that read are printed as text.
 * With -c nothing is said and counting goes on, NUL-ended lines included.
 * Both read 96 KiB at a time, so a file whose first NUL is in its first
 * 96 KiB gives grep's output exactly; further in, the read boundaries drift
 * apart and the number of lines printed (or counted) before may differ by
 * a few. A line is matched whole, so a line longer than 96 KiB grows the
 * buffer: the longest line bounds memory, as in grep.
 *
 * Like grep, a PATH that opens but cannot be read (a directory) still
 * gets its "PATH:COUNT" line with -c, after the error.
 */

#define READ_SIZE (96 * 1024)

struct args {
	bool count, invert, icase;
	const char *output;  /* NULL: stdout */
	const char *pattern;
	int first;           /* argv index of the first PATH */
};

static int parse(int argc, char *const *argv, struct args *a, char **err)
{
	memset(a, 0, sizeof *a);
	int i = 1;
	for (; i < argc; i++) {
		const char *s = argv[i];
		if (strcmp(s, "--") == 0) {
			i++;
			break;
		}
		if (strncmp(s, "--output=", 9) == 0) {
			if (!s[9]) {
				*err = xstrdup("option '--output=' needs a file name");
				return -1;
			}
			a->output = s + 9;
			continue;
		}
		if (s[0] != '-' || !s[1])
			break;
		if (s[1] == '-') {
			*err = xasprintf("unknown option '%s'", s);
			return -1;
		}
		for (const char *f = s + 1; *f; f++) {
			if (*f == 'c') {
				a->count = true;
			} else if (*f == 'v') {
				a->invert = true;
			} else if (*f == 'i') {
				a->icase = true;
			} else if (*f == 'n') {
				/* always on */
			} else {
				*err = xasprintf("unknown option '-%c'", *f);
				return -1;
			}
		}
	}
	if (i >= argc) {
		*err = xstrdup("no pattern given");
		return -1;
	}
	a->pattern = argv[i++];
	if (i >= argc) {
		*err = xstrdup("no files to search");
		return -1;
	}
	a->first = i;
	return 0;
}

/* Returns the compiled pattern, or NULL and sets *err. */
static pcre2_code *compile(const struct args *a, char **err)
{
	if (strchr(a->pattern, '\n')) {
		*err = xasprintf("invalid regex '%s': a pattern cannot contain a newline", a->pattern);
		return NULL;
	}
	int ec;
	PCRE2_SIZE off;
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)a->pattern, PCRE2_ZERO_TERMINATED,
					 a->icase ? PCRE2_CASELESS : 0, &ec, &off, NULL);
	if (!code) {
		PCRE2_UCHAR msg[256];
		if (pcre2_get_error_message(ec, msg, sizeof msg) < 0)
			strcpy((char *)msg, "unknown error");
		*err = xasprintf("invalid regex '%s': %s at offset %zu", a->pattern, (char *)msg, (size_t)off);
	}
	return code;
}

static int check(int argc, char *const *argv, char **err)
{
	struct args a;
	if (parse(argc, argv, &a, err) < 0)
		return -1;
	pcre2_code *code = compile(&a, err);
	if (!code)
		return -1;
	pcre2_code_free(code);
	return 0;
}

/* One job's state, on its worker thread. */
struct grep {
	struct args a;
	struct step_out *out;
	pcre2_code *code;
	bool jit;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *stack;
	bool names;             /* several PATHs: prefix lines with PATH: */
	char *rbuf;
	size_t rcap;
	struct buf line;        /* an output line being put together */
	/* The file being read: */
	const char *path;
	unsigned long lineno, count;
	bool binary;            /* a NUL has been read */
	bool binary_match;
};

/* 1: matches, 0: does not, -1: the match failed (reported). */
static int match(struct grep *g, const char *s, size_t n)
{
	int r = g->jit ? pcre2_jit_match(g->code, (PCRE2_SPTR)s, n, 0, 0, g->md, g->mctx)
		       : pcre2_match(g->code, (PCRE2_SPTR)s, n, 0, 0, g->md, g->mctx);
	if (r >= 0)
		return 1;
	if (r == PCRE2_ERROR_NOMATCH)
		return 0;
	PCRE2_UCHAR msg[256];
	if (pcre2_get_error_message(r, msg, sizeof msg) < 0)
		strcpy((char *)msg, "unknown error");
	step_error(g->out, "cannot match in '%s' at line %lu: %s", g->path, g->lineno, (char *)msg);
	return -1;
}

static void add_ulong(struct buf *b, unsigned long v)
{
	char d[24];
	size_t i = sizeof d;
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	buf_add(b, d + i, sizeof d - i);
}

enum { LINE_NEXT, LINE_DONE /* stop reading this file */, LINE_FAILED, LINE_STOP /* stop the step */ };

/* A line without its newline. */
static int grep_line(struct grep *g, const char *s, size_t n)
{
	g->lineno++;
	if (g->binary) {
		/* As grep does once a file is binary: NUL ends a line too, and
		 * unless counting, the first selected line ends the file. */
		const char *end = s + n;
		for (;;) {
			const char *z = memchr(s, '\0', (size_t)(end - s));
			const char *e = z ? z : end;
			int m = match(g, s, (size_t)(e - s));
			if (m < 0)
				return LINE_FAILED;
			if (m != g->a.invert) {
				if (g->a.count) {
					g->count++;
				} else {
					g->binary_match = true;
					return LINE_DONE;
				}
			}
			if (!z)
				return LINE_NEXT;
			s = z + 1;
		}
	}
	int m = match(g, s, n);
	if (m < 0)
		return LINE_FAILED;
	if (m == g->a.invert)
		return LINE_NEXT;
	g->count++;
	if (g->a.count)
		return LINE_NEXT;
	buf_reset(&g->line);
	if (g->names) {
		buf_adds(&g->line, g->path);
		buf_add(&g->line, ":", 1);
	}
	add_ulong(&g->line, g->lineno);
	buf_add(&g->line, ":", 1);
	buf_add(&g->line, s, n);
	buf_add(&g->line, "\n", 1);
	return step_write(g->out, 1, g->line.p, g->line.len) < 0 ? LINE_STOP : LINE_NEXT;
}

enum file_result { FILE_OK, FILE_FAILED, FILE_STOP };

static enum file_result grep_file(struct grep *g, const char *path)
{
	g->path = path;
	g->lineno = g->count = 0;
	g->binary = g->binary_match = false;
	char *full = step_path(g->out, path);
	int fd = open_read(full);
	free(full);
	if (fd < 0) {
		step_error_errno(g->out, -fd, "cannot read '%s'", path);
		return FILE_FAILED;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	enum file_result res = FILE_OK;
	int r = LINE_NEXT;
	size_t len = 0; /* bytes of an unfinished line at the start of rbuf */
	for (;;) {
		if (step_poll(g->out)) {
			res = FILE_STOP;
			break;
		}
		if (len == g->rcap) {
			/* One line fills the buffer: it must be whole to be matched. */
			g->rcap *= 2;
			g->rbuf = xrealloc(g->rbuf, g->rcap);
		}
		/* Bounded waits, as in hash: a FIFO's writer may never come. */
		ssize_t n = read_wait(fd, g->rbuf + len, g->rcap - len, STEP_WAIT_MS);
		if (n == -EAGAIN)
			continue;
		if (n < 0) {
			step_error_errno(g->out, (int)-n, "cannot read '%s'", path);
			res = FILE_FAILED;
			break;
		}
		if (n == 0)
			break;
		if (!g->binary && memchr(g->rbuf + len, '\0', (size_t)n))
			g->binary = true;
		char *s = g->rbuf, *end = g->rbuf + len + n, *nl;
		while (r == LINE_NEXT && (nl = memchr(s, '\n', (size_t)(end - s)))) {
			r = grep_line(g, s, (size_t)(nl - s));
			s = nl + 1;
		}
		if (r != LINE_NEXT)
			break;
		len = (size_t)(end - s);
		memmove(g->rbuf, s, len);
	}
	if (res == FILE_OK && r == LINE_NEXT && len)
		r = grep_line(g, g->rbuf, len);
	if (r == LINE_FAILED)
		res = FILE_FAILED;
	else if (r == LINE_STOP)
		res = FILE_STOP;
	if (res != FILE_STOP && g->a.count) {
		buf_reset(&g->line);
		if (g->names) {
			buf_adds(&g->line, path);
			buf_add(&g->line, ":", 1);
		}
		add_ulong(&g->line, g->count);
		buf_add(&g->line, "\n", 1);
		if (step_write(g->out, 1, g->line.p, g->line.len) < 0)
			res = FILE_STOP;
	} else if (res == FILE_OK && g->binary_match) {
		step_error(g->out, "binary file '%s' matches", path);
	}
	close(fd);
	return res;
}

static int run(int argc, char *const *argv, struct step_out *out)
{
	struct grep g;
	memset(&g, 0, sizeof g);
	g.out = out;
	char *err = NULL;
	if (parse(argc, argv, &g.a, &err) < 0 || !(g.code = compile(&g.a, &err))) {
		step_error(out, "%s", err);
		free(err);
		return STEP_ERROR;
	}
	/* Without JIT (a system that forbids executable memory, say) the
	 * interpreter gives the same answers, only slower. */
	g.jit = pcre2_jit_compile(g.code, PCRE2_JIT_COMPLETE) == 0;
	g.md = pcre2_match_data_create(1, NULL);
	g.mctx = pcre2_match_context_create(NULL);
	if (!g.md || !g.mctx)
		abort(); /* only malloc can fail */
	if (g.jit) {
		g.stack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
		if (g.stack)
			pcre2_jit_stack_assign(g.mctx, NULL, g.stack);
	}
	g.names = argc - g.a.first > 1;
	g.rcap = READ_SIZE;
	g.rbuf = xmalloc(g.rcap);
	buf_init(&g.line);

	int status = STEP_NONE;
	bool failed = false;
	if (g.a.output && step_redirect(out, g.a.output) < 0) {
		failed = true;
		goto done;
	}
	for (int i = g.a.first; i < argc; i++) {
		enum file_result r = grep_file(&g, argv[i]);
		if (r == FILE_STOP) {
			failed = true;
			break;
		}
		if (r == FILE_FAILED)
			failed = true;
		else if (g.count || g.binary_match)
			status = STEP_OK;
	}
done:
	free(g.rbuf);
	buf_release(&g.line);
	pcre2_jit_stack_free(g.stack);
	pcre2_match_context_free(g.mctx);
	pcre2_match_data_free(g.md);
	pcre2_code_free(g.code);
	return failed ? STEP_ERROR : status;
}

/* GNU grep in the C locale with -P prints the same lines; with --output,
 * its output goes to the file (written as it comes, not replaced whole). */
static void shell(int argc, char *const *argv, struct buf *b)
{
	struct args a;
	char *err = NULL;
	if (parse(argc, argv, &a, &err) < 0) {
		free(err);
		return;
	}
	buf_addf(b, "LC_ALL=C grep -P -n%s%s%s --", a.count ? "c" : "", a.invert ? "v" : "", a.icase ? "i" : "");
	step_shell_args(b, argc - (a.first - 1), argv + (a.first - 1), a.output);
}

const struct step_def step_grep = {
	.name = "grep",
	.usage = "grep [-c] [-v] [-i] [-n] [--output=FILE] [--] PATTERN PATH...",
	.check = check,
	.run = run,
	.shell = shell,
};
