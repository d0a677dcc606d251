/* Command templates, for weft exec and foreach tasks alike: GNU parallel's replacement strings ({} {.} {/} {//} {/.} {#} {%} {N...}) expanded and shell-quoted per input. */
#include "tmpl.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "quote.h"
#include "util.h"

enum part_kind {
	PART_TEXT, /* template text, copied as is */
	PART_ARG,  /* {} {.} {/} {//} {/.} and {N...} */
	PART_SEQ,  /* {#} */
	PART_SLOT, /* {%} */
};

/* What a replacement string does to an arg, as GNU parallel 20221122 does
 * it (checked against `parallel --dry-run`):
 *
 *   {.}   drop the last '.' and all after it, when no '/' follows that '.':
 *         a/b.c -> a/b, a/b.tar.gz -> a/b.tar, x. -> x, .. -> .,
 *         a.b/c -> a.b/c, a/b.c/ -> a/b.c/. Dot-files are not kept:
 *         .bashrc -> '', a/.bashrc -> a/.
 *   {/}   what follows the last '/' (not basename(1)): a/b.c -> b.c,
 *         a/b/ -> '', / -> '', a//b -> b, b.c -> b.c.
 *   {//}  dirname(1), as Perl's File::Basename: b.c -> ., '' -> .,
 *         a/./b -> a/., a/b/ -> a, a.b/ -> ., / -> /, // -> /, //a -> /,
 *         /a -> /, a//b// -> a.
 *   {/.}  {/} then {.}: a/b.c -> b, a/.bashrc -> '', a/b/ -> '', .. -> .
 *
 * All work on bytes. One known difference: GNU parallel does {/} with the
 * Perl regex s:.*\/::, whose '.' stops at a newline, so for "a\nb/c" it
 * gives "a\nc"; weft gives "c", what follows the last '/'. */
enum path_op {
	OP_NONE,
	OP_NOEXT,      /* {.} */
	OP_BASE,       /* {/} */
	OP_DIR,        /* {//} */
	OP_BASE_NOEXT, /* {/.} */
};

struct part {
	enum part_kind kind;
	enum path_op op;   /* PART_ARG only */
	size_t pos;        /* PART_ARG: 0 for every arg ({}), else N of {N} */
	bool from_end;     /* PART_ARG: {-N}, the N'th arg from the last */
	size_t off, len;   /* PART_TEXT: the slice of tmpl.text */
};

struct tmpl {
	char *text;        /* the words joined by spaces; owned */
	size_t len;
	struct part *parts;
	size_t nparts, cap;
	bool has_inputs;   /* any PART_ARG */
	bool has_any;      /* any replacement string, {#} and {%} included */
};

static struct part *add_part(struct tmpl *t, enum part_kind kind)
{
	grow(&t->parts, &t->cap, t->nparts + 1, sizeof *t->parts);
	struct part *p = &t->parts[t->nparts++];
	memset(p, 0, sizeof *p);
	p->kind = kind;
	return p;
}

static void add_text(struct tmpl *t, size_t off, size_t len)
{
	if (len == 0)
		return;
	if (t->nparts && t->parts[t->nparts - 1].kind == PART_TEXT) {
		struct part *last = &t->parts[t->nparts - 1];
		if (last->off + last->len == off) {
			last->len += len;
			return;
		}
	}
	struct part *p = add_part(t, PART_TEXT);
	p->off = off;
	p->len = len;
}

/* The path suffix of a replacement string, up to and including its '}':
 * "}", ".}", "/}", "//}" or "/.}". Returns the length used, or 0. */
static size_t parse_op(const char *s, size_t n, enum path_op *op)
{
	static const struct {
		const char *text;
		enum path_op op;
	} ops[] = {
		{ "}", OP_NONE }, { ".}", OP_NOEXT }, { "/}", OP_BASE },
		{ "//}", OP_DIR }, { "/.}", OP_BASE_NOEXT },
	};
	for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
		size_t l = strlen(ops[i].text);
		if (l <= n && memcmp(s, ops[i].text, l) == 0) {
			*op = ops[i].op;
			return l;
		}
	}
	return 0;
}

/* Tries to read a replacement string at s[0] == '{'. Returns its length and
 * fills *p, or returns 0 when the text there is literal. */
static size_t parse_repl(const char *s, size_t n, struct part *p)
{
	size_t i = 1;
	if (i < n && (s[i] == '#' || s[i] == '%') && i + 1 < n && s[i + 1] == '}') {
		p->kind = s[i] == '#' ? PART_SEQ : PART_SLOT;
		return 3;
	}
	p->kind = PART_ARG;
	p->pos = 0;
	p->from_end = false;
	if (i < n && s[i] == '-') {
		p->from_end = true;
		i++;
	}
	size_t digits = 0;
	while (i < n && s[i] >= '0' && s[i] <= '9') {
		size_t d = (size_t)(s[i] - '0');
		/* A position past SIZE_MAX can only be out of range: saturate. */
		p->pos = p->pos > (SIZE_MAX - d) / 10 ? SIZE_MAX : p->pos * 10 + d;
		digits++;
		i++;
	}
	if (p->from_end && digits == 0)
		return 0;
	/* {0} and {-0} are not GNU parallel's documented forms: keep them literal. */
	if (digits && p->pos == 0)
		return 0;
	size_t l = parse_op(s + i, n - i, &p->op);
	return l ? i + l : 0;
}

struct tmpl *tmpl_new(char *const *words, size_t nwords)
{
	struct tmpl *t = xcalloc(1, sizeof *t);
	struct buf text;
	buf_init(&text);
	for (size_t i = 0; i < nwords; i++) {
		if (i)
			buf_add(&text, " ", 1);
		buf_adds(&text, words[i]);
	}
	t->len = text.len;
	t->text = buf_take(&text);

	size_t lit = 0;
	for (size_t i = 0; i < t->len;) {
		struct part p = { .kind = PART_TEXT };
		size_t l = t->text[i] == '{' ? parse_repl(t->text + i, t->len - i, &p) : 0;
		if (!l) {
			i++;
			continue;
		}
		add_text(t, lit, i - lit);
		*add_part(t, p.kind) = p;
		t->has_any = true;
		if (p.kind == PART_ARG)
			t->has_inputs = true;
		i += l;
		lit = i;
	}
	add_text(t, lit, t->len - lit);
	return t;
}

void tmpl_free(struct tmpl *t)
{
	if (!t)
		return;
	free(t->text);
	free(t->parts);
	free(t);
}

bool tmpl_has_inputs(const struct tmpl *t)
{
	return t->has_inputs;
}

static const char *last_byte(const char *s, size_t n, char c)
{
	for (size_t i = n; i > 0; i--)
		if (s[i - 1] == c)
			return s + i - 1;
	return NULL;
}

static void strip_ext(const char *s, size_t *n)
{
	const char *dot = last_byte(s, *n, '.');
	if (dot && !memchr(dot, '/', (size_t)(s + *n - dot)))
		*n = (size_t)(dot - s);
}

static void strip_dir(const char **s, size_t *n)
{
	const char *slash = last_byte(*s, *n, '/');
	if (slash) {
		*n -= (size_t)(slash + 1 - *s);
		*s = slash + 1;
	}
}

/* POSIX dirname(1), with "//" read as "/" as GNU parallel prints it. */
static void dir_name(const char **s, size_t *n)
{
	const char *p = *s;
	size_t l = *n;
	while (l > 1 && p[l - 1] == '/')
		l--;
	while (l > 0 && p[l - 1] != '/')
		l--;
	if (l == 0) {
		*s = ".";
		*n = 1;
		return;
	}
	while (l > 1 && p[l - 1] == '/')
		l--;
	if (l == 1 && p[0] == '/') {
		*s = "/";
		*n = 1;
		return;
	}
	*n = l;
}

static void add_arg(struct buf *out, enum path_op op, const char *s, size_t n, bool quote)
{
	switch (op) {
	case OP_NONE:
		break;
	case OP_NOEXT:
		strip_ext(s, &n);
		break;
	case OP_BASE:
		strip_dir(&s, &n);
		break;
	case OP_DIR:
		dir_name(&s, &n);
		break;
	case OP_BASE_NOEXT:
		strip_dir(&s, &n);
		strip_ext(s, &n);
		break;
	}
	if (quote)
		shell_quote(out, s, n);
	else
		buf_add(out, s, n);
}

static void expand_arg(const struct part *p, const struct tmpl_input *in, struct buf *out, bool quote)
{
	if (p->pos == 0) {
		for (size_t i = 0; i < in->nargs; i++) {
			if (i)
				buf_add(out, " ", 1);
			add_arg(out, p->op, in->args[i], in->lens[i], quote);
		}
		return;
	}
	/* GNU parallel wraps {-N} past the first arg round to the end again;
	 * weft treats it as out of range, like {N} past the last. */
	if (p->pos > in->nargs)
		return;
	size_t i = p->from_end ? in->nargs - p->pos : p->pos - 1;
	add_arg(out, p->op, in->args[i], in->lens[i], quote);
}

static void expand(const struct tmpl *t, const struct tmpl_input *in, struct buf *out, bool quote)
{
	for (size_t i = 0; i < t->nparts; i++) {
		const struct part *p = &t->parts[i];
		switch (p->kind) {
		case PART_TEXT:
			buf_add(out, t->text + p->off, p->len);
			break;
		case PART_ARG:
			expand_arg(p, in, out, quote);
			break;
		case PART_SEQ:
			buf_addf(out, "%llu", in->seq);
			break;
		case PART_SLOT:
			buf_addf(out, "%u", in->slot);
			break;
		}
	}
	if (t->has_any || !quote)
		return;
	for (size_t i = 0; i < in->nargs; i++) {
		if (i || t->len)
			buf_add(out, " ", 1);
		shell_quote(out, in->args[i], in->lens[i]);
	}
}

void tmpl_expand(const struct tmpl *t, const struct tmpl_input *in, struct buf *out)
{
	expand(t, in, out, true);
}

void tmpl_expand_plain(const struct tmpl *t, const struct tmpl_input *in, struct buf *out)
{
	expand(t, in, out, false);
}
