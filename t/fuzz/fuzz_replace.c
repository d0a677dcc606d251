/* libFuzzer target for replacement strings and shell quoting: templates and args from the input, expanded both ways.
 *
 * Input: TEMPLATE [NUL ARGS]. TEMPLATE is split at 0x01 bytes into the
 * command words; ARGS (which may hold NUL bytes) is split at 0x01 bytes
 * into the job's args.
 *
 * Properties checked besides "no crash, no leak, no UB":
 *   - shell_quote(x) is one word of the form quote.h promises: bare
 *     [A-Za-z0-9_./,:+=@%^-] bytes (never empty, a reserved word or
 *     NAME=...), or '...' segments joined by \' ; and decoding it as sh
 *     would gives x without its NUL bytes;
 *   - "{}" expands to one such word per arg, "{1}" and "{-1}" to the
 *     first and the last;
 *   - {.} {/} {//} {/.} give slices of the arg as tmpl.c describes them;
 *   - a template without '{' expands to its text, plus the quoted args
 *     when quoting. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "quote.h"
#include "tmpl.h"
#include "util.h"

#include "fuzz.h"

#define MAX_PARTS 256

static bool is_bare(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("_./,:+=@%^-", c));
}

static bool is_reserved(const char *s, size_t n)
{
	static const char *const words[] = {
		"!",     "{",     "}",    "[[",   "]]",    "case", "do",       "done",   "elif",
		"else",  "esac",  "fi",   "for",  "if",    "in",   "then",     "until",  "while",
		"function", "select", "time", "coproc",
	};
	for (size_t i = 0; i < sizeof words / sizeof *words; i++)
		if (strlen(words[i]) == n && memcmp(words[i], s, n) == 0)
			return true;
	return false;
}

static bool is_assignment(const char *s, size_t n)
{
	size_t i = 0;
	if (!n || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
		return false;
	for (i = 1; i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			      (s[i] >= '0' && s[i] <= '9') || s[i] == '_');
	     i++)
		;
	return i < n && s[i] == '=';
}

/* Reads one word at s[*i] as sh would, in the forms shell_quote() may
 * write, appending its bytes to out; stops before a space or the end.
 * Returns false for anything outside those forms. */
static bool decode_word(const char *s, size_t n, size_t *i, struct buf *out)
{
	size_t start = *i;
	bool quoted = false;
	buf_add(out, "", 0);
	while (*i < n && s[*i] != ' ') {
		char c = s[*i];
		if (c == '\'') {
			const char *e = memchr(s + *i + 1, '\'', n - *i - 1);
			if (!e)
				return false;
			buf_add(out, s + *i + 1, (size_t)(e - s - *i - 1));
			*i = (size_t)(e - s) + 1;
			quoted = true;
		} else if (c == '\\') {
			if (*i + 1 >= n || s[*i + 1] != '\'')
				return false;
			buf_add(out, "'", 1);
			*i += 2;
			quoted = true;
		} else if (is_bare((unsigned char)c)) {
			buf_add(out, &c, 1);
			(*i)++;
		} else {
			return false;
		}
	}
	size_t len = *i - start;
	if (!quoted && (len == 0 || is_reserved(s + start, len) || is_assignment(s + start, len)))
		return false;
	return true;
}

/* Decodes words joined by single spaces into words[], up to max; returns
 * their count, or -1 when s is not such a list. */
static int decode_words(const char *s, size_t n, struct buf *words, int max)
{
	int count = 0;
	size_t i = 0;
	while (i < n) {
		if (count == max)
			return -1;
		buf_init(&words[count]);
		if (!decode_word(s, n, &i, &words[count++]))
			goto bad;
		if (i < n && (s[i] != ' ' || ++i == n))
			goto bad;
	}
	return count;
bad:
	for (int k = 0; k < count; k++)
		buf_release(&words[k]);
	return -1;
}

/* x without its NUL bytes: what a command can receive. */
static void strip_nul(struct buf *out, const char *x, size_t n)
{
	buf_add(out, "", 0);
	for (size_t i = 0; i < n; i++)
		if (x[i])
			buf_add(out, &x[i], 1);
}

static bool same_bytes(const struct buf *b, const char *x, size_t n)
{
	return b->len == n && (n == 0 || memcmp(b->p, x, n) == 0);
}

static void check_quote(const char *x, size_t n)
{
	struct buf q, want, got;
	buf_init(&q);
	buf_init(&want);
	shell_quote(&q, x, n);
	strip_nul(&want, x, n);
	FUZZ_CHECK(q.len > 0);
	int k = decode_words(q.p, q.len, &got, 1);
	FUZZ_CHECK(k == 1);
	FUZZ_CHECK(same_bytes(&got, want.p, want.len));
	buf_release(&got);
	buf_release(&want);
	buf_release(&q);
}

static void expand_one(const char *word, const struct tmpl_input *in, bool quote, struct buf *out)
{
	char *words[] = {(char *)word};
	struct tmpl *t = tmpl_new(words, 1);
	buf_init(out);
	buf_add(out, "", 0);
	if (quote)
		tmpl_expand(t, in, out);
	else
		tmpl_expand_plain(t, in, out);
	tmpl_free(t);
}

static bool is_prefix(const struct buf *b, const char *x, size_t n)
{
	return b->len <= n && memcmp(b->p, x, b->len) == 0;
}

static bool is_suffix(const struct buf *b, const char *x, size_t n)
{
	return b->len <= n && memcmp(b->p, x + n - b->len, b->len) == 0;
}

/* The path forms of one arg, unquoted. */
static void check_paths(const char *x, size_t n)
{
	const char *args[] = {x};
	size_t lens[] = {n};
	struct tmpl_input in = {.args = args, .lens = lens, .nargs = 1, .seq = 1, .slot = 1};
	struct buf all, noext, base, dir, base_noext;
	expand_one("{}", &in, false, &all);
	expand_one("{.}", &in, false, &noext);
	expand_one("{/}", &in, false, &base);
	expand_one("{//}", &in, false, &dir);
	expand_one("{/.}", &in, false, &base_noext);

	FUZZ_CHECK(same_bytes(&all, x, n));
	FUZZ_CHECK(is_prefix(&noext, x, n));
	FUZZ_CHECK(noext.len == n || x[noext.len] == '.');
	FUZZ_CHECK(!memchr(x + noext.len, '/', n - noext.len));
	FUZZ_CHECK(is_suffix(&base, x, n) && !memchr(base.p, '/', base.len));
	FUZZ_CHECK(base.len == n || x[n - base.len - 1] == '/');
	FUZZ_CHECK(is_prefix(&base_noext, base.p, base.len));
	FUZZ_CHECK((dir.len == 1 && (dir.p[0] == '.' || dir.p[0] == '/')) ||
		   (is_prefix(&dir, x, n) && dir.len > 0 && dir.p[dir.len - 1] != '/'));

	buf_release(&all);
	buf_release(&noext);
	buf_release(&base);
	buf_release(&dir);
	buf_release(&base_noext);
}

/* "{}" gives every arg as one quoted word each; "{1}" and "{-1}" the
 * first and the last. */
static void check_words(const struct tmpl_input *in)
{
	static struct buf words[MAX_PARTS];
	struct buf out, want;
	expand_one("{}", in, true, &out);
	int k = decode_words(out.p, out.len, words, MAX_PARTS);
	FUZZ_CHECK(k == (int)in->nargs);
	for (int i = 0; i < k; i++) {
		buf_init(&want);
		strip_nul(&want, in->args[i], in->lens[i]);
		FUZZ_CHECK(same_bytes(&words[i], want.p, want.len));
		buf_release(&want);
		buf_release(&words[i]);
	}
	buf_release(&out);

	const char *const forms[] = {"{1}", "{-1}"};
	for (int f = 0; f < 2; f++) {
		expand_one(forms[f], in, true, &out);
		k = decode_words(out.p, out.len, words, 1);
		FUZZ_CHECK(k == (in->nargs ? 1 : 0));
		if (k == 1) {
			size_t a = f == 0 ? 0 : in->nargs - 1;
			buf_init(&want);
			strip_nul(&want, in->args[a], in->lens[a]);
			FUZZ_CHECK(same_bytes(&words[0], want.p, want.len));
			buf_release(&want);
			buf_release(&words[0]);
		}
		buf_release(&out);
	}
}

/* The fuzzed template: expands without trouble; without any '{' it is
 * plain text, and quoting appends the args. */
static void check_template(char **words, size_t nwords, const struct tmpl_input *in)
{
	struct tmpl *t = tmpl_new(words, nwords);
	struct buf text, quoted, plain;
	buf_init(&text);
	buf_init(&quoted);
	buf_init(&plain);
	buf_add(&text, "", 0);
	for (size_t i = 0; i < nwords; i++) {
		if (i)
			buf_add(&text, " ", 1);
		buf_adds(&text, words[i]);
	}
	tmpl_expand(t, in, &quoted);
	tmpl_expand_plain(t, in, &plain);
	if (!memchr(text.p, '{', text.len)) {
		FUZZ_CHECK(!tmpl_has_inputs(t));
		FUZZ_CHECK(same_bytes(&plain, text.p, text.len));
		for (size_t i = 0; i < in->nargs; i++) {
			if (i || text.len)
				buf_add(&text, " ", 1);
			shell_quote(&text, in->args[i], in->lens[i]);
		}
		FUZZ_CHECK(same_bytes(&quoted, text.p, text.len));
	}
	buf_release(&text);
	buf_release(&quoted);
	buf_release(&plain);
	tmpl_free(t);
}

/* Splits [p, p + n) at 0x01 into at most MAX_PARTS pieces. */
static size_t split(const char *p, size_t n, const char **v, size_t *lens)
{
	size_t count = 0;
	const char *end = p + n;
	for (;;) {
		const char *sep = memchr(p, 1, (size_t)(end - p));
		if (!sep || count == MAX_PARTS - 1) {
			v[count] = p;
			lens[count++] = (size_t)(end - p);
			return count;
		}
		v[count] = p;
		lens[count++] = (size_t)(sep - p);
		p = sep + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const char *nul = memchr(s, '\0', size);
	size_t tlen = nul ? (size_t)(nul - s) : size;

	check_quote(s, size);

	const char *wv[MAX_PARTS];
	size_t wlens[MAX_PARTS];
	size_t nwords = tlen ? split(s, tlen, wv, wlens) : 0;
	char **words = xcalloc(nwords + 1, sizeof *words);
	for (size_t i = 0; i < nwords; i++)
		words[i] = xstrndup(wv[i], wlens[i]);

	const char *args[MAX_PARTS];
	size_t lens[MAX_PARTS];
	size_t nargs = nul ? split(nul + 1, size - tlen - 1, args, lens) : 0;
	struct tmpl_input in = {
		.args = args, .lens = lens, .nargs = nargs,
		.seq = size ? (unsigned long long)size << (data[0] & 63) : 1,
		.slot = size ? data[size - 1] : 1,
	};
	for (size_t i = 0; i < nargs; i++) {
		check_quote(args[i], lens[i]);
		check_paths(args[i], lens[i]);
	}
	check_words(&in);
	check_template(words, nwords, &in);

	for (size_t i = 0; i < nwords; i++)
		free(words[i]);
	free(words);
	return 0;
}
