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
	PART_TOTAL, /* --plus {##}: the number of jobs */
	PART_SEQ0,  /* --plus {0#}: {#} padded with zeros to the width of {##} */
	PART_SLOT0, /* --plus {0%}: {%} padded with zeros to the width of -j */
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
	/* --plus (GNU parallel's Perl, in words; X, Y, Z hold no '/' or '.'): */
	OP_PLUS_DIR,   /* {+/}: what {/} drops, without the last '/'; '' without one */
	OP_PLUS_EXT,   /* {+.}: after the last '.'; '' without one */
	OP_PLUS_EXT2,  /* {+..}: "X.Y" when it ends in ".X.Y", else '' */
	OP_PLUS_EXT3,  /* {+...}: "X.Y.Z" when it ends in ".X.Y.Z", else '' */
	OP_NOEXT2,     /* {..}: without a final ".X.Y" */
	OP_NOEXT3,     /* {...}: without a final ".X.Y.Z" */
	OP_BASE_NOEXT2, /* {/..} */
	OP_BASE_NOEXT3, /* {/...} */
};

/* Where a replacement string stands in the shell code, which decides how
 * its value is quoted so that the shell reads exactly its bytes back. */
enum quote_ctx {
	CTX_BARE,    /* outside quotes (also inside $(...) and `...`) */
	CTX_SINGLE,  /* inside '...' */
	CTX_DOUBLE,  /* inside "..." */
	CTX_HEREDOC, /* in the body of a here-document whose word is bare */
	CTX_RAW,     /* in the body of one whose word is quoted: nothing expands */
};

struct part {
	enum part_kind kind;
	enum quote_ctx ctx; /* PART_ARG only */
	size_t at;          /* PART_ARG: where it starts in tmpl.text */
	char *delim;        /* CTX_HEREDOC, CTX_RAW: the word that ends the body (owned) */
	bool delim_tabs;    /* ... after leading tabs (<<-) */
	unsigned bq;        /* PART_ARG: how many `...` it stands inside, */
	unsigned bq_dq;     /* and of those (bit 0 the innermost), which stand inside "..." */
	enum path_op op;   /* PART_ARG only */
	size_t pos;        /* PART_ARG: 0 for every arg ({}), else N of {N} */
	bool from_end;     /* PART_ARG: {-N}, the N'th arg from the last */
	size_t off, len;   /* PART_TEXT: the slice of tmpl.text */
	const struct tmpl_rpl *user; /* PART_ARG: --rpl's, applied to the arg first; NULL: none */
};

struct tmpl {
	char *text;        /* the words joined by spaces; owned */
	size_t len;
	struct part *parts;
	size_t nparts, cap;
	bool has_inputs;   /* any PART_ARG */
	bool has_any;      /* any replacement string, {#} and {%} included */
	bool plus;         /* --plus: its replacement strings too */
	unsigned long long total; /* {##} */
	unsigned jobs;     /* {0%}'s width */
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
static size_t parse_op(const char *s, size_t n, enum path_op *op, bool plus)
{
	static const struct {
		const char *text;
		enum path_op op;
	} ops[] = {
		/* The --plus forms first: "...}" before ".}". */
		{ "+/}", OP_PLUS_DIR }, { "+...}", OP_PLUS_EXT3 }, { "+..}", OP_PLUS_EXT2 }, { "+.}", OP_PLUS_EXT },
		{ "...}", OP_NOEXT3 }, { "..}", OP_NOEXT2 }, { "/...}", OP_BASE_NOEXT3 }, { "/..}", OP_BASE_NOEXT2 },
		{ "}", OP_NONE }, { ".}", OP_NOEXT }, { "/}", OP_BASE },
		{ "//}", OP_DIR }, { "/.}", OP_BASE_NOEXT },
	};
	for (size_t i = plus ? 0 : 8; i < sizeof ops / sizeof *ops; i++) {
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
static size_t parse_repl(const char *s, size_t n, struct part *p, bool plus)
{
	size_t i = 1;
	static const struct {
		const char *text;
		enum part_kind kind;
	} counts[] = {{"{##}", PART_TOTAL}, {"{0#}", PART_SEQ0}, {"{0%}", PART_SLOT0}};
	for (size_t k = 0; plus && k < sizeof counts / sizeof *counts; k++)
		if (n >= 4 && memcmp(s, counts[k].text, 4) == 0) {
			p->kind = counts[k].kind;
			return 4;
		}
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
	/* GNU parallel reads {N\s*X}: blanks, newlines too, may follow the
	 * number ({1 }, {2\n.}). */
	while (digits && i < n && strchr(" \t\n\r\f\v", s[i]) && s[i])
		i++;
	size_t l = parse_op(s + i, n - i, &p->op, plus);
	return l ? i + l : 0;
}

/* A small reader of sh's quoting, enough to know the context of each
 * replacement string: quotes, backslashes, $(...) and `...` (which open
 * a bare context again, even inside "..."), comments and here-documents.
 * What it cannot follow (unbalanced quotes) the shell rejects anyway. */
#define CTX_DEPTH 64

struct lexer {
	const char *s;
	size_t n, i;
	enum { L_BARE, L_SINGLE, L_DOUBLE, L_PAREN, L_BACKQ, L_BACKQ_DQ } stack[CTX_DEPTH];
	size_t parens[CTX_DEPTH]; /* L_PAREN: '(' open inside it */
	size_t depth;
	/* a here-document whose body starts at the next newline */
	bool heredoc_pending, heredoc_quoted, heredoc_tabs;
	char *heredoc_word;
};

static void lx_push(struct lexer *l, int k)
{
	if (l->depth + 1 < CTX_DEPTH) {
		l->stack[++l->depth] = k;
		l->parens[l->depth] = 0;
	}
}

static void lx_pop(struct lexer *l)
{
	if (l->depth > 0)
		l->depth--;
}

static bool word_start(const struct lexer *l)
{
	if (l->i == 0)
		return true;
	char c = l->s[l->i - 1];
	return c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '&' || c == '|' || c == '(' || c == ')';
}

/* At "<<" in bare code: reads the here-document's word. */
static void lx_heredoc_word(struct lexer *l)
{
	l->i += 2;
	l->heredoc_tabs = l->i < l->n && l->s[l->i] == '-';
	if (l->heredoc_tabs)
		l->i++;
	while (l->i < l->n && (l->s[l->i] == ' ' || l->s[l->i] == '\t'))
		l->i++;
	struct buf w;
	buf_init(&w);
	bool quoted = false;
	char q = 0;
	for (; l->i < l->n; l->i++) {
		char c = l->s[l->i];
		if (q) {
			if (c == q)
				q = 0;
			else
				buf_add(&w, &c, 1);
			continue;
		}
		if (c == '\'' || c == '"') {
			q = c;
			quoted = true;
		} else if (c == '\\' && l->i + 1 < l->n) {
			quoted = true;
			buf_add(&w, &l->s[++l->i], 1);
		} else if (strchr(" \t\n;&|<>()", c)) {
			break;
		} else {
			buf_add(&w, &c, 1);
		}
	}
	free(l->heredoc_word);
	l->heredoc_word = buf_take(&w);
	l->heredoc_quoted = quoted;
	l->heredoc_pending = true;
}

/* At the start of a here-document's body: returns where it ends (the
 * start of its closing line, or the end of the text). */
static size_t lx_heredoc_end(const struct lexer *l, size_t from)
{
	size_t wl = strlen(l->heredoc_word);
	for (size_t i = from; i < l->n;) {
		const char *nl = memchr(l->s + i, '\n', l->n - i);
		size_t end = nl ? (size_t)(nl - l->s) : l->n;
		size_t b = i;
		while (l->heredoc_tabs && b < end && l->s[b] == '\t')
			b++;
		if (end - b == wl && memcmp(l->s + b, l->heredoc_word, wl) == 0)
			return i;
		i = end + 1;
	}
	return l->n;
}

/* Sets the context of every PART_ARG of t. */
static void classify(struct tmpl *t)
{
	struct lexer l = {.s = t->text, .n = t->len};
	size_t next = 0; /* the next part to classify */
	size_t body_end = 0, body_ctx = CTX_BARE;
	bool in_body = false;
	while (next < t->nparts) {
		struct part *p = &t->parts[next];
		if (p->kind != PART_ARG) {
			next++;
			continue;
		}
		if (in_body && l.i >= body_end)
			in_body = false;
		if (l.i >= p->at || l.i >= l.n) {
			if (in_body) {
				p->ctx = body_ctx;
				p->delim = xstrdup(l.heredoc_word);
				p->delim_tabs = l.heredoc_tabs;
			} else
				switch (l.stack[l.depth]) {
				case L_SINGLE:
					p->ctx = CTX_SINGLE;
					break;
				case L_DOUBLE:
					p->ctx = CTX_DOUBLE;
					break;
				default:
					p->ctx = CTX_BARE;
					break;
				}
			for (size_t d = l.depth; d > 0 && p->bq < 32; d--) {
				if (l.stack[d] == L_BACKQ || l.stack[d] == L_BACKQ_DQ) {
					if (l.stack[d] == L_BACKQ_DQ)
						p->bq_dq |= 1u << p->bq;
					p->bq++;
				}
			}
			next++;
			continue;
		}
		char c = l.s[l.i];
		if (in_body) {
			l.i++;
			continue;
		}
		switch (l.stack[l.depth]) {
		case L_SINGLE:
			if (c == '\'')
				lx_pop(&l);
			l.i++;
			break;
		case L_DOUBLE:
			if (c == '"') {
				lx_pop(&l);
			} else if (c == '\\') {
				l.i++;
			} else if (c == '$' && l.i + 1 < l.n && l.s[l.i + 1] == '(') {
				l.i++;
				lx_push(&l, L_PAREN);
			} else if (c == '`') {
				lx_push(&l, L_BACKQ_DQ);
			}
			l.i++;
			break;
		default: /* bare code: L_BARE, L_PAREN, L_BACKQ, L_BACKQ_DQ */
			if (c == '\'') {
				lx_push(&l, L_SINGLE);
			} else if (c == '"') {
				lx_push(&l, L_DOUBLE);
			} else if (c == '\\') {
				l.i++;
			} else if (c == '#' && word_start(&l)) {
				while (l.i + 1 < l.n && l.s[l.i + 1] != '\n')
					l.i++;
			} else if (c == '$' && l.i + 1 < l.n && l.s[l.i + 1] == '(') {
				l.i++;
				lx_push(&l, L_PAREN);
			} else if (c == '`') {
				if (l.stack[l.depth] == L_BACKQ || l.stack[l.depth] == L_BACKQ_DQ)
					lx_pop(&l);
				else
					lx_push(&l, L_BACKQ);
			} else if (c == '(' && l.stack[l.depth] == L_PAREN) {
				l.parens[l.depth]++;
			} else if (c == ')' && l.stack[l.depth] == L_PAREN) {
				if (l.parens[l.depth])
					l.parens[l.depth]--;
				else
					lx_pop(&l);
			} else if (c == '<' && l.i + 1 < l.n && l.s[l.i + 1] == '<' &&
				   !(l.i + 2 < l.n && l.s[l.i + 2] == '<')) {
				lx_heredoc_word(&l);
				continue;
			} else if (c == '\n' && l.heredoc_pending) {
				l.heredoc_pending = false;
				body_end = lx_heredoc_end(&l, l.i + 1);
				body_ctx = l.heredoc_quoted ? CTX_RAW : CTX_HEREDOC;
				in_body = true;
			}
			l.i++;
			break;
		}
	}
	free(l.heredoc_word);
}

struct tmpl *tmpl_new(char *const *words, size_t nwords)
{
	return tmpl_new_plus(words, nwords, false);
}

/* A user's replacement string at s: its length and *p, or 0. */
static size_t parse_user(const char *s, size_t n, struct part *p, const struct tmpl_rpl *rpls, size_t nrpls)
{
	for (size_t k = 0; k < nrpls; k++) {
		const struct tmpl_rpl *r = &rpls[k];
		size_t tl = strlen(r->tag), i = 0;
		struct buf b;
		buf_init(&b);
		if (tl <= n && memcmp(s, r->tag, tl) == 0) {
			i = tl;
			buf_adds(&b, r->alias ? r->alias : "{}");
		} else if (tl > 2 && r->tag[0] == '{' && r->tag[tl - 1] == '}' && n > 1 && s[0] == '{') {
			/* {NX} and {-NX} for a tag {X}. */
			size_t d = 1 + (s[1] == '-');
			while (d < n && s[d] >= '0' && s[d] <= '9')
				d++;
			size_t digits_end = d;
			bool has_digits = digits_end > 1 + (s[1] == '-');
			while (has_digits && d < n && s[d] && strchr(" \t\n\r\f\v", s[d]))
				d++;
			if (has_digits && d + tl - 1 <= n && memcmp(s + d, r->tag + 1, tl - 1) == 0 &&
			    (!r->alias || (r->alias[1] != '#' && r->alias[1] != '%'))) {
				i = d + tl - 1;
				buf_add(&b, s, digits_end);
				buf_adds(&b, r->alias ? r->alias + 1 : "}");
			}
		}
		size_t l = i ? parse_repl(b.p, b.len, p, true) : 0;
		buf_release(&b);
		if (l) {
			p->user = r->alias ? NULL : r;
			return i;
		}
	}
	return 0;
}

struct tmpl *tmpl_new_plus(char *const *words, size_t nwords, bool plus)
{
	return tmpl_new_rpl(words, nwords, plus, NULL, 0);
}

struct tmpl *tmpl_new_rpl(char *const *words, size_t nwords, bool plus, const struct tmpl_rpl *rpls, size_t nrpls)
{
	struct tmpl *t = xcalloc(1, sizeof *t);
	t->plus = plus;
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
		size_t l = parse_user(t->text + i, t->len - i, &p, rpls, nrpls);
		if (!l && t->text[i] == '{')
			l = parse_repl(t->text + i, t->len - i, &p, plus);
		if (!l) {
			i++;
			continue;
		}
		add_text(t, lit, i - lit);
		p.at = i;
		*add_part(t, p.kind) = p;
		t->has_any = true;
		if (p.kind == PART_ARG)
			t->has_inputs = true;
		i += l;
		lit = i;
	}
	add_text(t, lit, t->len - lit);
	classify(t);
	return t;
}

void tmpl_free(struct tmpl *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nparts; i++)
		free(t->parts[i].delim);
	free(t->text);
	free(t->parts);
	free(t);
}

bool tmpl_is_one_arg(const struct tmpl *t)
{
	return t->nparts == 1 && t->parts[0].kind == PART_ARG;
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

/* Whether s ends in k extensions ".X" (X without '/' or '.', maybe
 * empty), as GNU parallel's \.[^/.]*\.[^/.]*$ asks; *at gets where the
 * first of their dots is. */
static bool ends_in_exts(const char *s, size_t n, int k, size_t *at)
{
	size_t i = n;
	for (int e = 0; e < k; e++) {
		while (i > 0 && s[i - 1] != '.' && s[i - 1] != '/')
			i--;
		if (i == 0 || s[i - 1] != '.')
			return false;
		i--;
	}
	*at = i;
	return true;
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

/* Whether a line of s[0..n) would end the here-document of p. */
static bool ends_heredoc(const struct part *p, const char *s, size_t n)
{
	size_t wl = strlen(p->delim);
	for (size_t i = 0; i <= n;) {
		const char *nl = memchr(s + i, '\n', n - i);
		size_t end = nl ? (size_t)(nl - s) : n;
		size_t b = i;
		while (p->delim_tabs && b < end && s[b] == '\t')
			b++;
		if (end - b == wl && memcmp(s + b, p->delim, wl) == 0)
			return true;
		i = end + 1;
	}
	return false;
}

/* s[0..n) as the shell reads it back whole where p stands. In a
 * here-document nothing quotes a newline: a value with a line that would
 * end the document has its newlines turned into spaces. */
/* s[0..n) without its NUL bytes (no command can get them), a newline as a
 * space when flatten, and a backslash before \\ $ ` (and " when dq): what
 * double quotes, a here-document and a layer of `...` all need. */
static void add_escaped(struct buf *out, const char *s, size_t n, bool escape, bool dq, bool flatten)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\0')
			continue;
		if (c == '\n' && flatten)
			c = ' ';
		if (escape && (c == '\\' || c == '$' || c == '`' || (c == '"' && dq)))
			buf_add(out, "\\", 1);
		buf_add(out, &c, 1);
	}
}

static void quote_in(struct buf *out, const struct part *p, const char *s, size_t n)
{
	enum quote_ctx ctx = p->ctx;
	bool flatten = (ctx == CTX_HEREDOC || ctx == CTX_RAW) && memchr(s, '\n', n) && ends_heredoc(p, s, n);
	switch (ctx) {
	case CTX_BARE:
		shell_quote(out, s, n);
		return;
	case CTX_SINGLE:
		/* Only ' ends them: any other bytes go in as they are; else
		 * close the quotes, a quoted word, open them again. */
		if (!memchr(s, '\'', n)) {
			add_escaped(out, s, n, false, false, false);
			return;
		}
		buf_add(out, "'", 1);
		shell_quote(out, s, n);
		buf_add(out, "'", 1);
		return;
	case CTX_DOUBLE:
	case CTX_HEREDOC:
		add_escaped(out, s, n, true, ctx == CTX_DOUBLE, flatten);
		return;
	case CTX_RAW:
		add_escaped(out, s, n, false, false, flatten);
		return;
	}
}

/* As quote_in, then through each `...` around p, the innermost first:
 * the shell removes a backslash before \\ $ ` (and " inside "...") in
 * there before it reads the command inside, so each layer adds them. */
static void quote_for(struct buf *out, const struct part *p, const char *s, size_t n)
{
	if (!p->bq) {
		quote_in(out, p, s, n);
		return;
	}
	struct buf cur, next;
	buf_init(&cur);
	quote_in(&cur, p, s, n);
	for (unsigned k = 0; k < p->bq; k++) {
		buf_init(&next);
		add_escaped(&next, cur.p, cur.len, true, p->bq_dq & (1u << k), false);
		buf_release(&cur);
		cur = next;
	}
	if (cur.len)
		buf_add(out, cur.p, cur.len);
	buf_release(&cur);
}

static void add_arg(struct buf *out, const struct part *p, const char *s, size_t n, bool quote)
{
	if (p->user) {
		struct buf v;
		buf_init(&v);
		p->user->apply(p->user->ud, s, n, &v);
		if (quote)
			quote_for(out, p, v.p ? v.p : "", v.len);
		else
			buf_add(out, v.p ? v.p : "", v.len);
		buf_release(&v);
		return;
	}
	switch (p->op) {
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
	case OP_PLUS_DIR: {
		const char *slash = last_byte(s, n, '/');
		n = slash ? (size_t)(slash - s) : 0;
		break;
	}
	case OP_PLUS_EXT: {
		const char *dot = last_byte(s, n, '.');
		n = dot ? (size_t)(s + n - dot - 1) : 0;
		s = dot ? dot + 1 : s;
		break;
	}
	case OP_PLUS_EXT2:
	case OP_PLUS_EXT3: {
		size_t at;
		if (ends_in_exts(s, n, p->op == OP_PLUS_EXT2 ? 2 : 3, &at)) {
			s += at + 1;
			n -= at + 1;
		} else {
			n = 0;
		}
		break;
	}
	case OP_BASE_NOEXT2:
	case OP_BASE_NOEXT3:
		strip_dir(&s, &n);
		/* fall through */
	case OP_NOEXT2:
	case OP_NOEXT3: {
		size_t at;
		if (ends_in_exts(s, n, p->op == OP_NOEXT2 || p->op == OP_BASE_NOEXT2 ? 2 : 3, &at))
			n = at;
		break;
	}
	}
	if (quote)
		quote_for(out, p, s, n);
	else
		buf_add(out, s, n);
}

static void expand_arg(const struct part *p, const struct tmpl_input *in, struct buf *out, bool quote)
{
	if (p->pos == 0) {
		for (size_t i = 0; i < in->nargs; i++) {
			if (i)
				buf_add(out, " ", 1);
			add_arg(out, p, in->args[i], in->lens[i], quote);
		}
		return;
	}
	/* GNU parallel wraps {-N} past the first arg round to the end again;
	 * weft treats it as out of range, like {N} past the last. */
	if (p->pos > in->nargs)
		return;
	size_t i = p->from_end ? in->nargs - p->pos : p->pos - 1;
	add_arg(out, p, in->args[i], in->lens[i], quote);
}

/* GNU parallel's 1+int(log10(n)): the digits of n (1 for 0). */
static int digits(unsigned long long n)
{
	int d = 1;
	while (n >= 10) {
		n /= 10;
		d++;
	}
	return d;
}

void tmpl_set_counts(struct tmpl *t, unsigned long long total, unsigned jobs)
{
	t->total = total;
	t->jobs = jobs;
}

bool tmpl_uses_slot(const struct tmpl *t)
{
	for (size_t i = 0; i < t->nparts; i++)
		if (t->parts[i].kind == PART_SLOT || t->parts[i].kind == PART_SLOT0)
			return true;
	return false;
}

bool tmpl_needs_total(const struct tmpl *t)
{
	for (size_t i = 0; i < t->nparts; i++)
		if (t->parts[i].kind == PART_TOTAL || t->parts[i].kind == PART_SEQ0)
			return true;
	return false;
}

static void expand_part(const struct tmpl *t, const struct part *p, const struct tmpl_input *in,
			struct buf *out, bool quote)
{
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
	case PART_TOTAL:
		buf_addf(out, "%llu", t->total);
		break;
	case PART_SEQ0:
		buf_addf(out, "%0*llu", digits(t->total), in->seq);
		break;
	case PART_SLOT0:
		buf_addf(out, "%0*u", digits(t->jobs), in->slot);
		break;
	}
}

/* One word of the command, from text offset `from` in part `first` to
 * offset `to` in part `last`: once, or with -X once per input group when
 * it holds an arg's replacement string. */
struct groups {
	const size_t *end;
	size_t n;
};

static void expand_word(const struct tmpl *t, size_t first, size_t from, size_t last, size_t to,
			const struct tmpl_input *in, const struct groups *g, struct buf *out, bool quote)
{
	bool has_arg = false;
	for (size_t i = first; i <= last; i++)
		has_arg |= t->parts[i].kind == PART_ARG && t->parts[i].pos == 0;
	size_t reps = has_arg ? g->n : 1;
	for (size_t k = 0; k < reps; k++) {
		struct tmpl_input one = *in;
		if (has_arg) {
			size_t a = k ? g->end[k - 1] : 0;
			one.args = in->args + a;
			one.lens = in->lens + a;
			one.nargs = g->end[k] - a;
			buf_add(out, " ", k ? 1 : 0);
		}
		for (size_t i = first; i <= last; i++) {
			const struct part *p = &t->parts[i];
			if (p->kind != PART_TEXT) {
				/* {N} is the job's N'th arg in every copy. */
				expand_part(t, p, p->kind == PART_ARG && p->pos ? in : &one, out, quote);
				continue;
			}
			size_t s = i == first ? from : 0, e = i == last ? to : p->len;
			buf_add(out, t->text + p->off + s, e - s);
		}
	}
}

/* -X: the command cut into words at its spaces, each expanded by expand_word. */
void tmpl_expand_context(const struct tmpl *t, const struct tmpl_input *in, const size_t *tuple_end, size_t ntuples,
			 struct buf *out)
{
	if (ntuples < 2 || !t->has_inputs) {
		tmpl_expand(t, in, out);
		return;
	}
	struct groups gs = {tuple_end, ntuples}, *g = &gs;
	bool quote = true;
	size_t first = 0, from = 0;
	for (size_t i = 0; i < t->nparts; i++) {
		const struct part *p = &t->parts[i];
		if (p->kind != PART_TEXT)
			continue;
		const char *s = t->text + p->off;
		for (size_t c = 0; c < p->len; c++) {
			if (s[c] != ' ')
				continue;
			expand_word(t, first, from, i, c, in, g, out, quote);
			buf_add(out, " ", 1);
			first = i;
			from = c + 1;
		}
	}
	if (t->nparts)
		expand_word(t, first, from, t->nparts - 1,
			    t->parts[t->nparts - 1].kind == PART_TEXT ? t->parts[t->nparts - 1].len : 0, in, g, out, quote);
}

static void expand(const struct tmpl *t, const struct tmpl_input *in, struct buf *out, bool quote)
{
	for (size_t i = 0; i < t->nparts; i++)
		expand_part(t, &t->parts[i], in, out, quote);
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
