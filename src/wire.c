/* The wire form of a run's events: JSON Lines, one object per event, as --events writes them; one encoder and one decoder. */
#include "wire.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "outrules.h"
#include "step.h"

/* --- Encoding --- */

void wire_add_str(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	buf_add(b, "\"", 1);
	size_t run = 0; /* bytes copied as they are, pending */
	for (size_t i = 0; i < n;) {
		unsigned c = p[i];
		size_t ok = c >= 0x20 && c != '"' && c != '\\' && c != 0x7f ? utf8_len(p + i, n - i) : 0;
		if (ok) {
			i += ok;
			run += ok;
			continue;
		}
		buf_add(b, s + i - run, run);
		run = 0;
		switch (c) {
		case '"':
			buf_add(b, "\\\"", 2);
			break;
		case '\\':
			buf_add(b, "\\\\", 2);
			break;
		case '\n':
			buf_add(b, "\\n", 2);
			break;
		case '\t':
			buf_add(b, "\\t", 2);
			break;
		case '\r':
			buf_add(b, "\\r", 2);
			break;
		default: {
			char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			buf_add(b, u, 6);
			break;
		}
		}
		i++;
	}
	buf_add(b, s + n - run, run);
	buf_add(b, "\"", 1);
}

void wire_add_captures(struct buf *b, const struct capture *c, size_t n)
{
	buf_add(b, "{", 1);
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_add(b, ",", 1);
		wire_add_str(b, c[i].name, strlen(c[i].name));
		buf_add(b, ":", 1);
		wire_add_str(b, c[i].value, strlen(c[i].value));
	}
	buf_add(b, "}", 1);
}

static void key(struct buf *b, const char *k)
{
	buf_add(b, ",\"", 2);
	buf_adds(b, k);
	buf_add(b, "\":", 2);
}

static void key_str(struct buf *b, const char *k, const char *v)
{
	key(b, k);
	wire_add_str(b, v, strlen(v));
}

static void key_num(struct buf *b, const char *k, unsigned long long v)
{
	key(b, k);
	buf_add_uint(b, v);
}

static void key_words(struct buf *b, const char *k, char *const *v, size_t n)
{
	key(b, k);
	buf_add(b, "[", 1);
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_add(b, ",", 1);
		wire_add_str(b, v[i], strlen(v[i]));
	}
	buf_add(b, "]", 1);
}

static const char *const type_names[] = {
	[EV_RUN_START] = "run-start", [EV_QUEUED] = "queued",   [EV_STARTED] = "started",
	[EV_OUTPUT] = "output",       [EV_FINISHED] = "finished", [EV_RETRY] = "finished",
	[EV_SKIPPED] = "skipped",     [EV_MESSAGE] = "message",  [EV_TICK] = NULL,
	[EV_RUN_END] = "run-end",     [EV_STOP] = "stop",       [EV_EXPECT] = NULL,
};
static const char *const result_names[] = {
	[JOB_PENDING] = "pending", [JOB_OK] = "ok",           [JOB_EXIT] = "exit",
	[JOB_SIGNAL] = "signal",   [JOB_TIMEOUT] = "timeout", [JOB_SPAWN_ERROR] = "spawn-error",
	[JOB_RULE] = "rule",
};
static const char *const level_names[] = {[MSG_INFO] = "info", [MSG_WARNING] = "warning", [MSG_ERROR] = "error"};

static size_t nwords(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

/* The names of the tasks a task depends on, each once, for reports that
 * draw the dependency graph after the run. */
static void add_deps(struct buf *b, const struct task *t)
{
	size_t n = 0;
	for (size_t i = 0; i < t->ndeps; i++) {
		bool seen = false;
		for (size_t k = 0; k < i && !seen; k++)
			seen = strcmp(t->dep_names[k], t->dep_names[i]) == 0;
		if (seen)
			continue;
		buf_adds(b, n++ ? "," : ",\"deps\":[");
		wire_add_str(b, t->dep_names[i], strlen(t->dep_names[i]));
	}
	if (n)
		buf_add(b, "]", 1);
}

/* What a job's output rules found: why they failed it, its captures,
 * its annotations. */
static void add_check(struct buf *b, const struct outcheck *c)
{
	if (c->why)
		key_str(b, "why", c->why);
	if (c->ncaptures) {
		key(b, "captures");
		wire_add_captures(b, c->captures, c->ncaptures);
	}
	if (c->nnotes) {
		key(b, "annotations");
		for (size_t i = 0; i < c->nnotes; i++) {
			const struct annotation *a = &c->notes[i];
			buf_add(b, i ? ",{" : "[{", 2);
			buf_adds(b, "\"file\":");
			wire_add_str(b, a->file, strlen(a->file));
			buf_addf(b, ",\"line\":%lu,\"col\":%lu,\"message\":", a->line, a->col);
			wire_add_str(b, a->message, strlen(a->message));
			buf_add(b, "}", 1);
		}
		buf_add(b, "]", 1);
	}
}

/* ".NNNNNN": the six decimals of a duration, without printf's cost. */
static void six_decimals(char out[8], uint64_t us)
{
	out[0] = '.';
	for (int i = 6; i >= 1; i--, us /= 10)
		out[i] = (char)('0' + us % 10);
	out[7] = '\0';
}

void wire_encode(const struct event *e, uint64_t t_us, struct buf *b)
{
	const struct job *j = e->job;
	if (e->type == EV_TICK || e->type == EV_EXPECT)
		return;
	buf_adds(b, "{\"event\":\"");
	buf_adds(b, type_names[e->type]);
	buf_adds(b, "\",\"t\":");
	buf_add_uint(b, t_us);
	if (j && j->id)
		key_num(b, "id", j->id);
	switch (e->type) {
	case EV_RUN_START:
		key_num(b, "schema", WIRE_SCHEMA);
		key_str(b, "version", e->run->version);
		key_words(b, "argv", e->run->argv, nwords(e->run->argv));
		key_num(b, "jobs", e->run->jobs);
		break;
	case EV_QUEUED:
		key_str(b, "name", j->name ? j->name : "");
		if (j->task) {
			key_str(b, "task", j->task->name);
			add_deps(b, j->task);
		}
		if (j->item)
			key_str(b, "item", j->item);
		if (j->seq)
			key_num(b, "seq", j->seq);
		if (j->step)
			key_words(b, "step", j->step_argv, (size_t)j->step_argc);
		else if (j->cmd)
			key_str(b, "command", j->cmd);
		break;
	case EV_STARTED:
		key_num(b, "slot", j->slot);
		if (j->pid)
			key_num(b, "pid", (unsigned long long)j->pid);
		if (j->runner)
			key_num(b, "runner", j->runner);
		if (!j->step && j->cmd && !j->decided)
			key_str(b, "command", j->cmd);
		break;
	case EV_OUTPUT:
		key_num(b, "stream", (unsigned long long)e->stream);
		key(b, "data");
		wire_add_str(b, e->data, e->len);
		break;
	case EV_FINISHED:
	case EV_RETRY: {
		key_str(b, "result", result_names[j->result]);
		if (j->result == JOB_EXIT)
			key_num(b, "exit", (unsigned long long)j->exit_code);
		if (j->result == JOB_SIGNAL)
			key_num(b, "signal", (unsigned long long)j->term_signal);
		if (j->result == JOB_SPAWN_ERROR) {
			key_num(b, "errno", (unsigned long long)-j->spawn_error);
			key_str(b, "error", strerror(-j->spawn_error));
		}
		uint64_t us = j->end_ns > j->start_ns ? (j->end_ns - j->start_ns) / 1000 : 0;
		char frac[8];
		six_decimals(frac, us % 1000000);
		buf_adds(b, ",\"duration\":");
		buf_add_uint(b, us / 1000000);
		buf_add(b, frac, 7);
		if (j->up_to_date)
			buf_adds(b, ",\"up_to_date\":true");
		if (j->interrupted)
			buf_adds(b, ",\"interrupted\":true");
		if (e->type == EV_RETRY)
			buf_adds(b, ",\"retry\":true");
		if (j->check)
			add_check(b, j->check);
		break;
	}
	case EV_SKIPPED:
		key(b, "why");
		wire_add_str(b, e->data ? e->data : "", e->data ? e->len : 0);
		break;
	case EV_MESSAGE:
		key_str(b, "level", level_names[e->level]);
		key(b, "text");
		wire_add_str(b, e->data, e->len);
		break;
	case EV_RUN_END:
		key_num(b, "queued", e->run->queued);
		key_num(b, "ok", e->run->ok);
		key_num(b, "failed", e->run->failed);
		key_num(b, "stopped", e->run->stopped);
		key_num(b, "skipped", e->run->skipped);
		key_num(b, "up_to_date", e->run->up_to_date);
		key_num(b, "exit", (unsigned long long)e->run->exit_status);
		key_num(b, "signal", (unsigned long long)e->run->signal);
		break;
	case EV_STOP:
		key_str(b, "how", e->data);
		break;
	case EV_TICK:
	case EV_EXPECT:
		break;
	}
	buf_add(b, "}\n", 2);
}

void wire_encode_job(const struct job *j, struct buf *b)
{
	struct event e = {.type = EV_QUEUED, .job = (struct job *)j};
	wire_encode(&e, 0, b);
	b->len -= 2; /* reopen the object: "}\n" */
	if (j->cmd_lines > 1)
		key_num(b, "lines", (unsigned long long)j->cmd_lines);
	if (j->dir)
		key_str(b, "dir", j->dir);
	if (j->timeout_ms)
		key_num(b, "timeout", j->timeout_ms);
	if (j->envp)
		key_words(b, "env", j->envp, nwords(j->envp));
	buf_add(b, "}\n", 2);
}

void wire_encode_stop(unsigned long long id, const char *how, struct buf *b)
{
	struct job j = {.id = id};
	struct event e = {.type = EV_STOP, .job = &j, .data = how};
	wire_encode(&e, 0, b);
}

/* --- Decoding --- */

/* V_PAIRS: an object whose values are all strings, as words: key, value,
 * key, value. V_OTHER: any other JSON value, read and ignored, so that a
 * field a later weft adds does not make its events unreadable. */
enum val_kind { V_STR, V_NUM, V_TRUE, V_FALSE, V_NULL, V_WORDS, V_PAIRS, V_OTHER };

struct field {
	const char *key;      /* decoded, owned by the event */
	size_t keylen;
	enum val_kind kind;
	const char *str;      /* V_STR: decoded, owned; V_NUM: the text as written */
	size_t len;
	char **words;         /* V_WORDS: NULL-terminated, owned */
	size_t nwords;            /* V_PAIRS: twice the pairs */
};

/* Every string of an event is decoded into one block, the arena, which
 * the event owns: a decoded string and its NUL never take more bytes
 * than its quoted form, so a block as long as the line holds them all
 * (parse_list gives back what it took before parse_other reads the same
 * bytes again). */
struct parser {
	const char *p, *end;
	struct wire_event *w;
	char *arena;
	size_t used, cap;
};

static void own(struct wire_event *w, char *s)
{
	grow(&w->owned, &w->owned_cap, w->nowned + 1, sizeof *w->owned);
	w->owned[w->nowned++] = s;
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r' || *ps->p == '\n'))
		ps->p++;
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Writes cp as UTF-8 at d; returns the bytes written. */
static size_t put_utf8(char *d, unsigned cp)
{
	if (cp < 0x800) {
		d[0] = (char)(0xc0 | cp >> 6), d[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		d[0] = (char)(0xe0 | cp >> 12), d[1] = (char)(0x80 | (cp >> 6 & 0x3f)), d[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	d[0] = (char)(0xf0 | cp >> 18), d[1] = (char)(0x80 | (cp >> 12 & 0x3f)), d[2] = (char)(0x80 | (cp >> 6 & 0x3f)),
	d[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A string at ps->p (its opening quote): decoded into the arena. */
static int parse_str(struct parser *ps, const char **out, size_t *outlen)
{
	if (ps->p >= ps->end || *ps->p != '"')
		return -1;
	const char *open = ps->p++;
	char *d = ps->arena + ps->used;
	size_t n = 0;
	while (ps->p < ps->end && *ps->p != '"') {
		unsigned char c = (unsigned char)*ps->p;
		if (c < 0x20)
			return -1;
		if (c != '\\') {
			const char *start = ps->p;
			while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\' && (unsigned char)*ps->p >= 0x20)
				ps->p++;
			memcpy(d + n, start, (size_t)(ps->p - start));
			n += (size_t)(ps->p - start);
			continue;
		}
		if (++ps->p >= ps->end)
			return -1;
		char e = *ps->p++;
		switch (e) {
		case '"': d[n++] = '"'; break;
		case '\\': d[n++] = '\\'; break;
		case '/': d[n++] = '/'; break;
		case 'b': d[n++] = '\b'; break;
		case 'f': d[n++] = '\f'; break;
		case 'n': d[n++] = '\n'; break;
		case 'r': d[n++] = '\r'; break;
		case 't': d[n++] = '\t'; break;
		case 'u': {
			unsigned cp;
			if (ps->end - ps->p < 4 || hex4(ps->p, &cp) < 0)
				return -1;
			ps->p += 4;
			if (cp <= 0xff) {
				/* 0x80..0xff: a byte that was not UTF-8 (see wire_encode). */
				d[n++] = (char)cp;
				break;
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				unsigned lo;
				if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' || hex4(ps->p + 2, &lo) < 0 ||
				    lo < 0xdc00 || lo > 0xdfff)
					return -1;
				ps->p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				return -1;
			}
			n += put_utf8(d + n, cp);
			break;
		}
		default:
			return -1;
		}
	}
	if (ps->p >= ps->end)
		return -1;
	ps->p++;
	/* The quoted form had room for the string and its NUL; more is a bug. */
	if (n + 1 > (size_t)(ps->p - open) || ps->used + n + 1 > ps->cap)
		abort();
	d[n] = '\0';
	ps->used += n + 1;
	*outlen = n;
	*out = d;
	return 0;
}

/* A number as weft writes them: digits, then optionally '.' and digits. */
static int parse_num(struct parser *ps, struct field *f)
{
	const char *s = ps->p;
	while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
		ps->p++;
	if (ps->p == s || ps->p - s > 20)
		return -1;
	if (ps->p < ps->end && *ps->p == '.') {
		const char *frac = ++ps->p;
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
		if (ps->p == frac || ps->p - frac > 6)
			return -1;
	}
	f->kind = V_NUM;
	f->str = s;
	f->len = (size_t)(ps->p - s);
	return 0;
}

/* After an element of an array or object: 1 at a ',' (another follows),
 * 0 at its close (read past it), -1 at anything else. */
static int next_or_close(struct parser *ps, char close)
{
	skip_ws(ps);
	if (ps->p < ps->end && (*ps->p == ',' || *ps->p == close))
		return *ps->p++ == ',';
	return -1;
}

/* An array of strings (V_WORDS), or with pairs an object whose values
 * are all strings (V_PAIRS), at ps->p (its '[' or '{'). */
static int parse_list(struct parser *ps, bool pairs, struct field *f)
{
	char close = pairs ? '}' : ']';
	size_t used = ps->used;
	ps->p++;
	char **v = NULL;
	size_t n = 0, cap = 0;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
	} else {
		for (;;) {
			const char *s;
			size_t len;
			skip_ws(ps);
			if (parse_str(ps, &s, &len) < 0 || strlen(s) != len)
				goto bad;
			grow(&v, &cap, n + 3, sizeof *v);
			v[n++] = (char *)s;
			if (pairs) {
				skip_ws(ps);
				if (ps->p >= ps->end || *ps->p++ != ':')
					goto bad;
				skip_ws(ps);
				if (parse_str(ps, &s, &len) < 0 || strlen(s) != len)
					goto bad;
				v[n++] = (char *)s;
			}
			int more = next_or_close(ps, close);
			if (more < 0)
				goto bad;
			if (!more)
				break;
		}
	}
	grow(&v, &cap, n + 1, sizeof *v);
	v[n] = NULL;
	own(ps->w, (char *)v);
	f->kind = pairs ? V_PAIRS : V_WORDS;
	f->words = v;
	f->nwords = n;
	return 0;
bad:
	free(v);
	ps->used = used;
	return -1;
}

/* Nesting deeper than this is not an event. */
#define WIRE_MAX_DEPTH 32

/* At least one digit. */
static int skip_digits(struct parser *ps)
{
	const char *s = ps->p;
	while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
		ps->p++;
	return ps->p > s ? 0 : -1;
}

/* Reads past any JSON value at ps->p. */
static int skip_value(struct parser *ps, int depth)
{
	skip_ws(ps);
	if (ps->p >= ps->end || depth > WIRE_MAX_DEPTH)
		return -1;
	char c = *ps->p;
	if (c == '"') {
		const char *s;
		size_t len;
		return parse_str(ps, &s, &len);
	}
	if (c == '[' || c == '{') {
		char close = c == '[' ? ']' : '}';
		ps->p++;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			return 0;
		}
		for (;;) {
			if (c == '{') {
				skip_ws(ps);
				if (ps->p >= ps->end || *ps->p != '"' || skip_value(ps, depth + 1) < 0)
					return -1;
				skip_ws(ps);
				if (ps->p >= ps->end || *ps->p++ != ':')
					return -1;
			}
			if (skip_value(ps, depth + 1) < 0)
				return -1;
			int more = next_or_close(ps, close);
			if (more <= 0)
				return more;
		}
	}
	static const char *const words[] = {"true", "false", "null"};
	for (size_t i = 0; i < 3; i++) {
		size_t n = strlen(words[i]);
		if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, words[i], n) == 0) {
			ps->p += n;
			return 0;
		}
	}
	/* A number: -?digits(.digits)?([eE][+-]?digits)? */
	if (*ps->p == '-')
		ps->p++;
	if (skip_digits(ps) < 0)
		return -1;
	if (ps->p < ps->end && *ps->p == '.') {
		ps->p++;
		if (skip_digits(ps) < 0)
			return -1;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (skip_digits(ps) < 0)
			return -1;
	}
	return 0;
}

/* A value that none of the kinds above describes: read, kept as V_OTHER. */
static int parse_other(struct parser *ps, const char *at, struct field *f)
{
	ps->p = at;
	if (skip_value(ps, 0) < 0)
		return -1;
	f->kind = V_OTHER;
	return 0;
}

static int parse_value(struct parser *ps, struct field *f)
{
	skip_ws(ps);
	if (ps->p >= ps->end)
		return -1;
	size_t left = (size_t)(ps->end - ps->p);
	const char *at = ps->p;
	switch (*ps->p) {
	case '"':
		f->kind = V_STR;
		return parse_str(ps, &f->str, &f->len);
	case '[':
		return parse_list(ps, false, f) == 0 ? 0 : parse_other(ps, at, f);
	case '{':
		return parse_list(ps, true, f) == 0 ? 0 : parse_other(ps, at, f);
	case 't':
		if (left < 4 || memcmp(ps->p, "true", 4) != 0)
			return -1;
		ps->p += 4;
		f->kind = V_TRUE;
		return 0;
	case 'f':
		if (left < 5 || memcmp(ps->p, "false", 5) != 0)
			return -1;
		ps->p += 5;
		f->kind = V_FALSE;
		return 0;
	case 'n':
		if (left < 4 || memcmp(ps->p, "null", 4) != 0)
			return -1;
		ps->p += 4;
		f->kind = V_NULL;
		return 0;
	default:
		return parse_num(ps, f) == 0 ? 0 : parse_other(ps, at, f);
	}
}

struct fields {
	struct field *v;
	size_t n, cap;
};

static const struct field *find(const struct fields *fs, const char *k)
{
	size_t kl = strlen(k);
	const struct field *hit = NULL;
	for (size_t i = 0; i < fs->n; i++)
		if (fs->v[i].keylen == kl && memcmp(fs->v[i].key, k, kl) == 0)
			hit = &fs->v[i];
	return hit;
}

/* Unsigned number field k (whole; max caps it): 0 and *out, 1 when absent, -1 when wrong. */
static int get_num(const struct fields *fs, const char *k, unsigned long long max, unsigned long long *out)
{
	const struct field *f = find(fs, k);
	if (!f)
		return 1;
	if (f->kind != V_NUM || memchr(f->str, '.', f->len))
		return -1;
	unsigned long long v = 0;
	for (size_t i = 0; i < f->len; i++) {
		unsigned d = (unsigned)(f->str[i] - '0');
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* Seconds with up to 6 decimals, as microseconds. */
static int get_us(const struct fields *fs, const char *k, uint64_t *out)
{
	const struct field *f = find(fs, k);
	if (!f || f->kind != V_NUM)
		return -1;
	uint64_t whole = 0, frac = 0;
	size_t i = 0;
	for (; i < f->len && f->str[i] != '.'; i++) {
		if (whole > UINT64_MAX / 1000000 / 10)
			return -1;
		whole = whole * 10 + (uint64_t)(f->str[i] - '0');
	}
	unsigned digits = 0;
	if (i < f->len)
		for (i++; i < f->len; i++, digits++)
			frac = frac * 10 + (uint64_t)(f->str[i] - '0');
	for (; digits < 6; digits++)
		frac *= 10;
	*out = whole * 1000000 + frac;
	return 0;
}

/* String field k without NUL bytes: 0 and *out, 1 when absent, -1 when wrong. */
static int get_str(const struct fields *fs, const char *k, const char **out)
{
	const struct field *f = find(fs, k);
	if (!f)
		return 1;
	if (f->kind != V_STR || strlen(f->str) != f->len)
		return -1;
	*out = f->str;
	return 0;
}

static int get_bool(const struct fields *fs, const char *k, bool *out)
{
	const struct field *f = find(fs, k);
	*out = false;
	if (!f)
		return 0;
	if (f->kind != V_TRUE && f->kind != V_FALSE)
		return -1;
	*out = f->kind == V_TRUE;
	return 0;
}

/* Why the output rules failed a job, and its captures, as the check a
 * report reads (its annotations are not kept). */
static int get_check(const struct fields *fs, struct wire_event *w)
{
	const struct field *caps = find(fs, "captures");
	if (get_str(fs, "why", (const char **)&w->check.why) < 0 || (caps && caps->kind != V_PAIRS))
		return -1;
	if (caps && caps->nwords) {
		w->check.ncaptures = caps->nwords / 2;
		w->check.captures = xcalloc(w->check.ncaptures, sizeof *w->check.captures);
		own(w, (char *)w->check.captures);
		for (size_t i = 0; i < w->check.ncaptures; i++) {
			w->check.captures[i].name = caps->words[2 * i];
			w->check.captures[i].value = caps->words[2 * i + 1];
		}
	}
	if (w->check.why || w->check.ncaptures)
		w->job.check = &w->check;
	return 0;
}

static int name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

#define NAMES(a) (sizeof(a) / sizeof *(a))

static int fill(struct wire_event *w, const struct fields *fs)
{
	struct event *e = &w->ev;
	struct job *j = &w->job;
	const char *type;
	unsigned long long n;
	if (get_str(fs, "event", &type) != 0 || get_num(fs, "t", UINT64_MAX, &n) != 0)
		return -1;
	w->t_us = n;
	int t = name_index(type_names, NAMES(type_names), type);
	if (t < 0)
		return -1;
	e->type = (enum event_type)t;
	int r = get_num(fs, "id", UINT64_MAX, &n);
	if (r < 0 || (r == 0 && !n))
		return -1;
	j->id = r == 0 ? n : 0;
	bool job_event = e->type != EV_RUN_START && e->type != EV_RUN_END && e->type != EV_MESSAGE;
	if (job_event && !j->id)
		return -1;
	if ((e->type == EV_RUN_START || e->type == EV_RUN_END) && j->id)
		return -1;
	if (j->id)
		e->job = j;
	switch (e->type) {
	case EV_RUN_START: {
		const struct field *argv = find(fs, "argv");
		if (get_num(fs, "schema", UINT64_MAX, &n) != 0 || n != WIRE_SCHEMA)
			return -1;
		if (get_str(fs, "version", &w->run.version) != 0 || !argv || argv->kind != V_WORDS)
			return -1;
		w->run.argv = argv->words;
		if (get_num(fs, "jobs", UINT_MAX, &n) != 0)
			return -1;
		w->run.jobs = (unsigned)n;
		e->run = &w->run;
		return 0;
	}
	case EV_QUEUED: {
		if (get_str(fs, "name", &j->name) != 0)
			return -1;
		const char *task = NULL;
		if (get_str(fs, "task", &task) < 0 || get_str(fs, "item", &j->item) < 0)
			return -1;
		if (task) {
			w->task_stub.name = (char *)task;
			j->task = &w->task_stub;
			const struct field *deps = find(fs, "deps");
			if (deps && deps->kind != V_WORDS)
				return -1;
			if (deps) {
				w->task_stub.dep_names = deps->words;
				w->task_stub.ndeps = deps->nwords;
			}
		}
		if ((r = get_num(fs, "seq", UINT64_MAX, &n)) < 0 || (r == 0 && !n))
			return -1;
		j->seq = r == 0 ? n : 0;
		const struct field *step = find(fs, "step");
		if (step) {
			if (step->kind != V_WORDS || !step->nwords || step->nwords > INT_MAX || find(fs, "command"))
				return -1;
			j->step = step_find(step->words[0]);
			if (!j->step)
				return -1;
			j->step_argv = step->words;
			j->step_argc = (int)step->nwords;
		} else if (get_str(fs, "command", &j->cmd) < 0) {
			return -1;
		}
		/* What a cluster's runner needs besides (wire_encode_job). */
		j->cmd_lines = 1;
		if ((r = get_num(fs, "lines", INT_MAX, &n)) < 0 || (r == 0 && n < 2))
			return -1;
		if (r == 0)
			j->cmd_lines = (int)n;
		if (get_str(fs, "dir", &j->dir) < 0)
			return -1;
		if ((r = get_num(fs, "timeout", UINT64_MAX, &n)) < 0 || (r == 0 && !n))
			return -1;
		j->timeout_ms = r == 0 ? n : 0;
		const struct field *env = find(fs, "env");
		if (env && env->kind != V_WORDS)
			return -1;
		j->envp = env ? env->words : NULL;
		return 0;
	}
	case EV_STOP: {
		const char *how;
		if (get_str(fs, "how", &how) != 0 || (strcmp(how, "graceful") && strcmp(how, "hard") && strcmp(how, "timeout") &&
						     strcmp(how, "unqueue") && strcmp(how, "go")))
			return -1;
		e->data = how;
		e->len = strlen(how);
		return 0;
	}
	case EV_STARTED:
		if (get_num(fs, "slot", UINT_MAX, &n) != 0 || !n)
			return -1;
		j->slot = (unsigned)n;
		if ((r = get_num(fs, "pid", INT_MAX, &n)) < 0 || (r == 0 && !n))
			return -1;
		j->pid = r == 0 ? (int)n : 0;
		if ((r = get_num(fs, "runner", UINT_MAX, &n)) < 0 || (r == 0 && !n))
			return -1;
		j->runner = r == 0 ? (unsigned)n : 0;
		return get_str(fs, "command", &j->cmd) < 0 ? -1 : 0;
	case EV_OUTPUT: {
		const struct field *d = find(fs, "data");
		if (get_num(fs, "stream", 2, &n) != 0 || n < 1 || !d || d->kind != V_STR)
			return -1;
		e->stream = (int)n;
		e->data = d->str;
		e->len = d->len;
		return 0;
	}
	case EV_FINISHED: {
		const char *res;
		bool retry, b;
		if (get_str(fs, "result", &res) != 0 || (t = name_index(result_names, NAMES(result_names), res)) <= 0)
			return -1;
		j->result = (enum job_result)t;
		if ((r = get_num(fs, "exit", 255, &n)) < 0 || (r == 0) != (j->result == JOB_EXIT) || (r == 0 && !n))
			return -1;
		j->exit_code = r == 0 ? (int)n : 0;
		if ((r = get_num(fs, "signal", 127, &n)) < 0 || (r == 0) != (j->result == JOB_SIGNAL) || (r == 0 && !n))
			return -1;
		j->term_signal = r == 0 ? (int)n : 0;
		if ((r = get_num(fs, "errno", 4095, &n)) < 0 || (r == 0) != (j->result == JOB_SPAWN_ERROR) ||
		    (r == 0 && !n))
			return -1;
		j->spawn_error = r == 0 ? -(int)n : 0;
		uint64_t us;
		if (get_us(fs, "duration", &us) < 0 || us > UINT64_MAX / 1000)
			return -1;
		j->start_ns = 0;
		j->end_ns = us * 1000;
		if (get_bool(fs, "up_to_date", &j->up_to_date) < 0 || get_bool(fs, "interrupted", &b) < 0 ||
		    get_bool(fs, "retry", &retry) < 0)
			return -1;
		j->interrupted = b;
		if (retry)
			e->type = EV_RETRY;
		return get_check(fs, w);
	}
	case EV_SKIPPED: {
		const struct field *why = find(fs, "why");
		if (!why || why->kind != V_STR)
			return -1;
		e->data = why->str;
		e->len = why->len;
		return 0;
	}
	case EV_MESSAGE: {
		const char *level;
		const struct field *text = find(fs, "text");
		if (get_str(fs, "level", &level) != 0 || (t = name_index(level_names, NAMES(level_names), level)) < 0)
			return -1;
		if (!text || text->kind != V_STR)
			return -1;
		e->level = (enum msg_level)t;
		e->data = text->str;
		e->len = text->len;
		return 0;
	}
	case EV_RUN_END: {
		unsigned long long *counts[] = {&w->run.queued, &w->run.ok, &w->run.failed,
						&w->run.stopped, &w->run.skipped, &w->run.up_to_date};
		static const char *const names[] = {"queued", "ok", "failed", "stopped", "skipped", "up_to_date"};
		for (size_t i = 0; i < NAMES(names); i++)
			if (get_num(fs, names[i], UINT64_MAX, counts[i]) != 0)
				return -1;
		if (get_num(fs, "exit", 255, &n) != 0)
			return -1;
		w->run.exit_status = (int)n;
		if (get_num(fs, "signal", 127, &n) != 0)
			return -1;
		w->run.signal = (int)n;
		e->run = &w->run;
		return 0;
	}
	default:
		return -1;
	}
}

int wire_decode(const char *line, size_t len, struct wire_event *w)
{
	memset(w, 0, sizeof *w);
	struct parser ps = {line, line + len, w, xmalloc(len + 1), 0, len + 1};
	own(w, ps.arena);
	struct fields fs = {0};
	skip_ws(&ps);
	if (ps.p >= ps.end || *ps.p++ != '{')
		goto bad;
	skip_ws(&ps);
	if (ps.p < ps.end && *ps.p == '}') {
		ps.p++;
	} else {
		for (;;) {
			struct field f = {0};
			skip_ws(&ps);
			if (parse_str(&ps, &f.key, &f.keylen) < 0)
				goto bad;
			skip_ws(&ps);
			if (ps.p >= ps.end || *ps.p++ != ':')
				goto bad;
			if (parse_value(&ps, &f) < 0)
				goto bad;
			grow(&fs.v, &fs.cap, fs.n + 1, sizeof *fs.v);
			fs.v[fs.n++] = f;
			int more = next_or_close(&ps, '}');
			if (more < 0)
				goto bad;
			if (!more)
				break;
		}
	}
	skip_ws(&ps);
	if (ps.p != ps.end || fill(w, &fs) < 0)
		goto bad;
	free(fs.v);
	return 0;
bad:
	free(fs.v);
	wire_event_release(w);
	return -EINVAL;
}

void wire_event_release(struct wire_event *w)
{
	for (size_t i = 0; i < w->nowned; i++)
		free(w->owned[i]);
	free(w->owned);
	memset(w, 0, sizeof *w);
}
