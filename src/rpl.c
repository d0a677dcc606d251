/* --rpl: GNU parallel's replacement strings of the user's, for the Perl expressions that need no Perl: its own strings' expressions and chains of s/REGEX/TEXT/ run with PCRE2. */
#include "rpl.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct subst {
	pcre2_code *re;
	char *repl;
	uint32_t opts;       /* PCRE2_SUBSTITUTE_GLOBAL for /g */
};

struct rpl {
	struct tmpl_rpl r;
	char *tag;
	struct subst *subs;
	size_t nsubs;
	pcre2_match_data *md;
};

/* GNU parallel's own strings, as it defines them (20221122's source, and
 * its manual's forms with + for *), with spaces and ;s taken out. */
static const char *const known[][2] = {
	{"", "{}"},
	{"1$_=$job->seq()", "{#}"}, {"1$_=seq()", "{#}"}, {"$_=seq()", "{#}"}, {"$_=$job->seq()", "{#}"},
	{"1$_=$job->slot()", "{%}"}, {"1$_=slot()", "{%}"}, {"$_=slot()", "{%}"}, {"$_=$job->slot()", "{%}"},
	{"1$_=total_jobs()", "{##}"}, {"$_=total_jobs()", "{##}"},
	{"s:.*/::", "{/}"},
	{"$Global::use{\"File::Basename\"}||=eval\"useFile::Basename1\"$_=dirname($_)", "{//}"},
	{"s:.*/::s:\\.[^/.]*$::", "{/.}"}, {"s:.*/::s:\\.[^/.]+$::", "{/.}"},
	{"s:\\.[^/.]*$::", "{.}"}, {"s:\\.[^/.]+$::", "{.}"},
	{"s:/[^/]*$::||s:.*$::", "{+/}"},
	{"s:.*\\.::||s:.*$::", "{+.}"},
	{"s:.*\\.([^/.]*\\.[^/.]*)$:$1:||s:.*$::", "{+..}"}, {"s:.*\\.([^/.]+\\.[^/.]+)$:$1:||s:.*$::", "{+..}"},
	{"s:.*\\.([^/.]*\\.[^/.]*\\.[^/.]*)$:$1:||s:.*$::", "{+...}"},
	{"s:.*\\.([^/.]+\\.[^/.]+\\.[^/.]+)$:$1:||s:.*$::", "{+...}"},
	{"s:\\.[^/.]*\\.[^/.]*$::", "{..}"}, {"s:\\.[^/.]+\\.[^/.]+$::", "{..}"},
	{"s:\\.[^/.]*\\.[^/.]*\\.[^/.]*$::", "{...}"}, {"s:\\.[^/.]+\\.[^/.]+\\.[^/.]+$::", "{...}"},
	{"s:.*/::s:\\.[^/.]*\\.[^/.]*$::", "{/..}"}, {"s:.*/::s:\\.[^/.]+\\.[^/.]+$::", "{/..}"},
	{"s:.*/::s:\\.[^/.]*\\.[^/.]*\\.[^/.]*$::", "{/...}"}, {"s:.*/::s:\\.[^/.]+\\.[^/.]+\\.[^/.]+$::", "{/...}"},
};

static void apply(const void *ud, const char *s, size_t n, struct buf *out)
{
	const struct rpl *rp = ud;
	struct buf cur;
	buf_init(&cur);
	buf_add(&cur, s, n);
	for (size_t i = 0; i < rp->nsubs; i++) {
		const struct subst *sb = &rp->subs[i];
		PCRE2_SIZE len = cur.len * 2 + 256;
		for (;;) {
			char *res = xmalloc(len + 1);
			PCRE2_SIZE got = len;
			int rc = pcre2_substitute(sb->re, (PCRE2_SPTR)(cur.p ? cur.p : ""), cur.len, 0,
						  sb->opts | PCRE2_SUBSTITUTE_EXTENDED | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH |
							  PCRE2_SUBSTITUTE_UNSET_EMPTY,
						  rp->md, NULL, (PCRE2_SPTR)sb->repl, PCRE2_ZERO_TERMINATED,
						  (PCRE2_UCHAR *)res, &got);
			if (rc == PCRE2_ERROR_NOMEMORY) {
				free(res);
				len = got;
				continue;
			}
			if (rc > 0) {
				buf_reset(&cur);
				buf_add(&cur, res, got);
			}
			free(res);
			break;
		}
	}
	buf_add(out, cur.p ? cur.p : "", cur.len);
	buf_release(&cur);
}

/* Reads s<d>REGEX<d>TEXT<d>FLAGS at *p (Perl's delimiters: any
 * punctuation; \<d> stands for <d>). Returns 0, or -1 with *why. */
static int parse_subst(const char **p, struct subst *sb, const char **why)
{
	const char *s = *p;
	if (*s != 's' || !s[1] || strchr(" \t\n", s[1]) || (s[1] >= 'a' && s[1] <= 'z') ||
	    (s[1] >= 'A' && s[1] <= 'Z') || (s[1] >= '0' && s[1] <= '9') || strchr("({[<", s[1])) {
		*why = "it can hold only s/REGEX/TEXT/ substitutions or GNU parallel's own strings' expressions";
		return -1;
	}
	char d = s[1];
	struct buf part[2];
	s += 2;
	for (int k = 0; k < 2; k++) {
		buf_init(&part[k]);
		for (; *s && *s != d; s++) {
			if (*s == '\\' && s[1] == d)
				s++;
			else if (*s == '\\' && s[1])
				buf_add(&part[k], s++, 1);
			buf_add(&part[k], s, 1);
		}
		buf_add(&part[k], "", 0);
		if (*s != d) {
			buf_release(&part[0]);
			buf_release(&part[1]);
			*why = "an s/REGEX/TEXT/ is not closed";
			return -1;
		}
		s++;
	}
	uint32_t copts = 0;
	sb->opts = 0;
	for (; *s && !strchr("; \t\n|", *s); s++) {
		switch (*s) {
		case 'g': sb->opts |= PCRE2_SUBSTITUTE_GLOBAL; break;
		case 'i': copts |= PCRE2_CASELESS; break;
		case 's': copts |= PCRE2_DOTALL; break;
		case 'm': copts |= PCRE2_MULTILINE; break;
		case 'x': copts |= PCRE2_EXTENDED; break;
		default:
			*why = "s/// can take only the flags g, i, s, m and x";
			buf_release(&part[0]);
			buf_release(&part[1]);
			return -1;
		}
	}
	/* In Perl's TEXT, @ interpolates and $ takes any variable: only $N and ${N} are plain. */
	const char *t = part[1].p;
	for (size_t i = 0; t[i] && !*why; i++)
		if (t[i] == '@' || (t[i] == '$' && !(t[i + 1] >= '0' && t[i + 1] <= '9') && t[i + 1] != '{'))
			*why = "s///'s TEXT can hold $1, $2... but no other Perl variable";
	int err;
	PCRE2_SIZE off;
	sb->re = *why ? NULL : pcre2_compile((PCRE2_SPTR)part[0].p, PCRE2_ZERO_TERMINATED, copts, &err, &off, NULL);
	if (!sb->re && !*why)
		*why = "PCRE2 cannot read an s/REGEX/TEXT/'s REGEX";
	buf_release(&part[0]);
	sb->repl = buf_take(&part[1]);
	if (*why) {
		free(sb->repl);
		return -1;
	}
	*p = s;
	return 0;
}

int rpl_new(const char *spec, struct rpl **out, const char **why)
{
	*why = NULL;
	size_t tl = strcspn(spec, " \t\n");
	if (!tl) {
		*why = "it must be a tag, a space and the expression";
		return -1;
	}
	struct rpl *rp = xcalloc(1, sizeof *rp);
	rp->tag = xstrndup(spec, tl);
	rp->r.tag = rp->tag;
	const char *expr = spec + tl + (spec[tl] != '\0');
	/* GNU parallel's own expressions, whatever the spaces and ;s. */
	struct buf bare;
	buf_init(&bare);
	buf_add(&bare, "", 0);
	for (const char *c = expr; *c; c++)
		if (!strchr(" \t\n;", *c))
			buf_add(&bare, c, 1);
	for (size_t i = 0; i < sizeof known / sizeof *known && !rp->r.alias; i++)
		if (strcmp(bare.p, known[i][0]) == 0)
			rp->r.alias = known[i][1];
	buf_release(&bare);
	if (strchr(rp->tag, '(') && strchr(rp->tag, ')'))
		*why = "a tag with (...) in it is a pattern";
	for (const char *p = expr; !rp->r.alias && !*why;) {
		p += strspn(p, " \t\n;");
		if (!*p)
			break;
		rp->subs = xrealloc(rp->subs, (rp->nsubs + 1) * sizeof *rp->subs);
		if (parse_subst(&p, &rp->subs[rp->nsubs], why) == 0)
			rp->nsubs++;
	}
	if (*why) {
		rpl_free(rp);
		return -1;
	}
	if (!rp->r.alias) {
		rp->r.apply = apply;
		rp->r.ud = rp;
		rp->md = pcre2_match_data_create(32, NULL);
	}
	*out = rp;
	return 0;
}

const struct tmpl_rpl *rpl_tmpl(const struct rpl *rp)
{
	return &rp->r;
}

void rpl_free(struct rpl *rp)
{
	if (!rp)
		return;
	for (size_t i = 0; i < rp->nsubs; i++) {
		pcre2_code_free(rp->subs[i].re);
		free(rp->subs[i].repl);
	}
	free(rp->subs);
	if (rp->md)
		pcre2_match_data_free(rp->md);
	free(rp->tag);
	free(rp);
}
