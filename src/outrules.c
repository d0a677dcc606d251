/* Output rules: a task's expect, fail-on, capture and error-format regexes, compiled once at load, and what they find in one job's output lines. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "outrules.h"

#include <pcre2.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "util.h"

const char *const outrule_keys[RULE_KINDS] = {"expect", "fail-on", "capture", "error-format"};

/* A named group of a pattern. */
struct group {
	char *name;
	uint32_t number;
};

struct rule {
	char *text;
	pcre2_code *re;
	pcre2_match_data *md; /* the loop thread's: every match happens there */
	struct group *groups; /* by group number */
	size_t ngroups;
};

struct outrules {
	struct rule rule[RULE_KINDS];
};

static int cmp_group(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	return x->number < y->number ? -1 : x->number > y->number;
}

/* The pattern's named groups, in the order they appear. */
static void read_groups(struct rule *r)
{
	uint32_t count = 0, size = 0;
	PCRE2_SPTR table = NULL;
	pcre2_pattern_info(r->re, PCRE2_INFO_NAMECOUNT, &count);
	pcre2_pattern_info(r->re, PCRE2_INFO_NAMEENTRYSIZE, &size);
	pcre2_pattern_info(r->re, PCRE2_INFO_NAMETABLE, &table);
	r->groups = xcalloc(count ? count : 1, sizeof *r->groups);
	for (uint32_t i = 0; i < count; i++) {
		PCRE2_SPTR e = table + (size_t)i * size;
		uint32_t number = (uint32_t)e[0] << 8 | e[1];
		/* (?J) allows one name on several groups: keep it once. */
		bool seen = false;
		for (size_t k = 0; k < r->ngroups; k++)
			seen |= strcmp(r->groups[k].name, (const char *)e + 2) == 0;
		if (seen)
			continue;
		r->groups[r->ngroups].name = xstrdup((const char *)e + 2);
		r->groups[r->ngroups++].number = number;
	}
	qsort(r->groups, r->ngroups, sizeof *r->groups, cmp_group);
}

static bool has_group(const struct rule *r, const char *name)
{
	for (size_t i = 0; i < r->ngroups; i++)
		if (strcmp(r->groups[i].name, name) == 0)
			return true;
	return false;
}

static void rule_release(struct rule *r)
{
	for (size_t i = 0; i < r->ngroups; i++)
		free(r->groups[i].name);
	free(r->groups);
	pcre2_match_data_free(r->md);
	pcre2_code_free(r->re);
	free(r->text);
	memset(r, 0, sizeof *r);
}

int outrules_set(struct outrules **rules, enum outrule_kind kind, const char *re, char **err)
{
	int code;
	PCRE2_SIZE off;
	pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF,
				      &code, &off, NULL);
	if (!c) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(code, msg, sizeof msg);
		*err = xasprintf("invalid regex for '%s': %s at offset %zu", outrule_keys[kind], (char *)msg, (size_t)off);
		return -1;
	}
	struct rule r = {.re = c};
	read_groups(&r);
	*err = NULL;
	if (kind == RULE_CAPTURE && !r.ngroups)
		*err = xasprintf("'capture' needs a named group, as in (?<passed>\\d+) passed");
	else if (kind == RULE_ERROR_FORMAT && (!has_group(&r, "file") || !has_group(&r, "message")))
		*err = xasprintf("'error-format' needs the named groups 'file' and 'message' ('line' and 'col' "
				 "may follow)");
	if (*err) {
		rule_release(&r);
		return -1;
	}
	/* Without JIT (not built in, or no memory) the interpreter matches. */
	pcre2_jit_compile(c, PCRE2_JIT_COMPLETE);
	r.md = pcre2_match_data_create_from_pattern(c, NULL);
	r.text = xstrdup(re);
	if (!*rules)
		*rules = xcalloc(1, sizeof **rules);
	rule_release(&(*rules)->rule[kind]);
	(*rules)->rule[kind] = r;
	return 0;
}

void outrules_free(struct outrules *rules)
{
	if (!rules)
		return;
	for (int k = 0; k < RULE_KINDS; k++)
		rule_release(&rules->rule[k]);
	free(rules);
}

const char *outrules_pattern(const struct outrules *rules, enum outrule_kind kind)
{
	return rules ? rules->rule[kind].text : NULL;
}

struct outcheck *outcheck_new(const struct outrules *rules)
{
	struct outcheck *c = xcalloc(1, sizeof *c);
	c->rules = rules;
	return c;
}

void outcheck_free(struct outcheck *c)
{
	if (!c)
		return;
	for (int s = 0; s < 2; s++)
		free(c->part[s]);
	free(c->fail_line);
	for (size_t i = 0; i < c->ncaptures; i++) {
		free(c->captures[i].name);
		free(c->captures[i].value);
	}
	free(c->captures);
	for (size_t i = 0; i < c->nnotes; i++) {
		free(c->notes[i].file);
		free(c->notes[i].message);
	}
	free(c->notes);
	free(c->why);
	free(c);
}

static bool match(const struct rule *r, const char *line, size_t len)
{
	return r->re && pcre2_match(r->re, (PCRE2_SPTR)line, len, 0, 0, r->md, NULL) >= 0;
}

/* The text of a named group in the last match; NULL when it took no part. */
static char *group_text(const struct rule *r, const char *line, const char *name)
{
	int n = pcre2_substring_number_from_name(r->re, (PCRE2_SPTR)name);
	if (n < 0)
		return NULL;
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md);
	if ((uint32_t)n >= pcre2_get_ovector_count(r->md) || ov[2 * n] == PCRE2_UNSET)
		return NULL;
	return xstrndup(line + ov[2 * n], ov[2 * n + 1] - ov[2 * n]);
}

static unsigned long group_number(const struct rule *r, const char *line, const char *name)
{
	char *s = group_text(r, line, name);
	unsigned long long v = 0;
	if (s && !parse_uint(s, ULONG_MAX, &v))
		v = 0;
	free(s);
	return (unsigned long)v;
}

static void set_capture(struct outcheck *c, const char *name, char *value)
{
	for (size_t i = 0; i < c->ncaptures; i++)
		if (strcmp(c->captures[i].name, name) == 0) {
			free(c->captures[i].value);
			c->captures[i].value = value;
			return;
		}
	c->captures = xrealloc(c->captures, (c->ncaptures + 1) * sizeof *c->captures);
	c->captures[c->ncaptures].name = xstrdup(name);
	c->captures[c->ncaptures++].value = value;
}

static void check_line(struct outcheck *c, const char *line, size_t len)
{
	const struct rule *r = c->rules->rule;
	if (!c->expect_seen && match(&r[RULE_EXPECT], line, len))
		c->expect_seen = true;
	if (!c->fail_line && match(&r[RULE_FAIL_ON], line, len))
		c->fail_line = xstrndup(line, len);
	const struct rule *cap = &r[RULE_CAPTURE];
	if (match(cap, line, len))
		for (size_t i = 0; i < cap->ngroups; i++) {
			char *v = group_text(cap, line, cap->groups[i].name);
			if (v)
				set_capture(c, cap->groups[i].name, v);
		}
	const struct rule *ef = &r[RULE_ERROR_FORMAT];
	if (match(ef, line, len)) {
		if (c->nnotes == OUTCHECK_MAX_NOTES) {
			c->notes_dropped++;
			return;
		}
		c->notes = xrealloc(c->notes, (c->nnotes + 1) * sizeof *c->notes);
		struct annotation *a = &c->notes[c->nnotes++];
		a->file = group_text(ef, line, "file");
		a->message = group_text(ef, line, "message");
		a->line = group_number(ef, line, "line");
		a->col = group_number(ef, line, "col");
		if (!a->file)
			a->file = xstrdup("");
		if (!a->message)
			a->message = xstrdup("");
	}
}

/* Adds bytes to the line being read on a stream, up to the bound. */
static void part_add(struct outcheck *c, int s, const char *p, size_t n)
{
	if (c->part_over[s])
		return;
	if (c->part_len[s] + n > OUTCHECK_MAX_LINE) {
		n = OUTCHECK_MAX_LINE - c->part_len[s];
		c->part_over[s] = true;
	}
	c->part[s] = xrealloc(c->part[s], c->part_len[s] + n + 1);
	memcpy(c->part[s] + c->part_len[s], p, n);
	c->part_len[s] += n;
}

static void part_flush(struct outcheck *c, int s)
{
	if (c->part_len[s] || c->part_over[s])
		check_line(c, c->part[s] ? c->part[s] : "", c->part_len[s]);
	c->part_len[s] = 0;
	c->part_over[s] = false;
}

void outcheck_feed(struct outcheck *c, int stream, const char *data, size_t len)
{
	int s = stream == 2;
	while (len) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) : len;
		if (nl && !c->part_len[s] && !c->part_over[s])
			check_line(c, data, n < OUTCHECK_MAX_LINE ? n : OUTCHECK_MAX_LINE); /* a whole line: no copy */
		else {
			part_add(c, s, data, n);
			if (nl)
				part_flush(c, s);
		}
		if (!nl)
			break;
		data += n + 1;
		len -= n + 1;
	}
}

void outcheck_judge(struct outcheck *c, struct job *j)
{
	part_flush(c, 0);
	part_flush(c, 1);
	if (j->result != JOB_OK)
		return;
	const struct rule *r = c->rules->rule;
	if (c->fail_line)
		c->why = xasprintf("its output matched fail-on: %s", c->fail_line);
	else if (r[RULE_EXPECT].re && !c->expect_seen)
		c->why = xasprintf("no line of its output matched expect: %s", r[RULE_EXPECT].text);
	if (c->why)
		j->result = JOB_RULE;
}
