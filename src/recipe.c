/* Reads a recipe (INI, through inih) into a graph of tasks and settings; reports every mistake with file:line. */
#include "recipe.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "duration.h"
#include "outrules.h"
#include "step.h"
#include "tmpl.h"
#include "util.h"

/* inih cuts section and key names at this length without a word. */
#define MAX_NAME 49

enum section { SEC_NONE, SEC_WEFT, SEC_VARS, SEC_ENV, SEC_TASK, SEC_BAD };

struct seen {
	char *key;
	int line;
};

struct parser {
	FILE *f;
	struct recipe *r;
	struct diag *d;
	int lineno;        /* line the reader handed to inih last */
	bool indented;     /* that line starts with white space */
	bool have_key;     /* a key was seen in this section, so inih continues it */
	enum section kind;
	struct task *task; /* SEC_TASK: the task being read */
	char *prev_key;    /* the last key, which an indented line continues */
	bool prev_ok;      /* that key was accepted */
	struct seen *seen; /* keys of this section, for duplicates */
	size_t nseen, seen_cap;
	char *line;        /* the line read: at most ini_max_line bytes of it */
	size_t line_cap;
	size_t total;      /* bytes read from the file */
	char tail[2];      /* the last two bytes of the line read */
	bool stopped;      /* too large, or too many errors: no more lines */
};

/* A recipe is read up to this size, and up to DIAG_MAX_ERRORS errors:
 * past them it is no recipe (weft -f /dev/zero, a file of junk lines),
 * and reading on would only cost time and memory. */
#define RECIPE_MAX_SIZE (16u << 20)

/* Reads one line (its newline included when there is one) into p->line,
 * keeping at most cap bytes of it: the rest of a longer line is counted,
 * not kept. Returns its whole length, or -1 at the end of the file or
 * past RECIPE_MAX_SIZE. */
static ssize_t read_bounded(struct parser *p, size_t cap)
{
	if (!p->line) {
		p->line_cap = cap + 1;
		p->line = xmalloc(p->line_cap);
	}
	size_t n = 0;
	int c;
	p->tail[0] = p->tail[1] = 0;
	while ((c = getc_unlocked(p->f)) != EOF) {
		if (++p->total > RECIPE_MAX_SIZE)
			return -1;
		if (n < cap)
			p->line[n] = (char)c;
		n++;
		p->tail[0] = p->tail[1];
		p->tail[1] = (char)c;
		if (c == '\n')
			break;
	}
	if (n == 0)
		return -1;
	p->line[n < cap ? n : cap] = '\0';
	return (ssize_t)n;
}

static const char *const task_keys[] = {"desc",	   "run",     "step",    "deps",	  "dir", "timeout",
					 "foreach", "foreach-empty", "jobs", "console", "sources", "outputs", "depfile", "env.NAME",
					 "expect",  "fail-on", "capture", "error-format", NULL};
static const char *const weft_keys[] = {"default", "jobs", "shell", NULL};

static bool valid_task_name(const char *s)
{
	if (!*s || *s == '-')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_-.:", *s))
			return false;
	return true;
}

static bool valid_var_name(const char *s)
{
	if (!*s || isdigit((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static void clear_seen(struct parser *p)
{
	for (size_t i = 0; i < p->nseen; i++)
		free(p->seen[i].key);
	p->nseen = 0;
	free(p->prev_key);
	p->prev_key = NULL;
	p->prev_ok = false;
	p->have_key = false;
}

static const char *section_label(struct parser *p, char *out, size_t size)
{
	if (p->kind == SEC_TASK)
		snprintf(out, size, "task '%s'", p->task->name);
	else
		snprintf(out, size, "[%s]", p->kind == SEC_WEFT ? "weft" : p->kind == SEC_VARS ? "vars" : "env");
	return out;
}

/* A section header line, already checked to end in ']'. */
static void start_section(struct parser *p, const char *name, size_t len)
{
	clear_seen(p);
	char *s = xstrndup(name, len);
	/* inih trims the name too; do the same so both agree. */
	char *a = s, *e = s + strlen(s);
	while (isspace((unsigned char)*a))
		a++;
	while (e > a && isspace((unsigned char)e[-1]))
		*--e = '\0';
	p->task = NULL;
	if (strlen(a) > MAX_NAME) {
		diag_error(p->d, p->lineno, "name '%s' is too long (at most %d characters)", a, MAX_NAME);
		p->kind = SEC_BAD;
	} else if (strcmp(a, "weft") == 0) {
		p->kind = SEC_WEFT;
	} else if (strcmp(a, "vars") == 0) {
		p->kind = SEC_VARS;
	} else if (strcmp(a, "env") == 0) {
		p->kind = SEC_ENV;
	} else if (!valid_task_name(a)) {
		diag_error(p->d, p->lineno, "invalid task name '%s'", a);
		p->kind = SEC_BAD;
	} else {
		struct task *t = graph_add_task(&p->r->graph, a, p->lineno);
		if (!t) {
			diag_error(p->d, p->lineno, "duplicate task '%s' (first defined at line %d)", a,
				   graph_find(&p->r->graph, a)->line);
			p->kind = SEC_BAD;
		} else {
			p->kind = SEC_TASK;
			p->task = t;
		}
	}
	free(s);
}

/* Hands inih one line at a time, after the checks inih cannot make:
 * too long, NUL bytes, names it would cut, lines it would reject. */
static char *read_line(char *str, int num, void *stream)
{
	struct parser *p = stream;
	if (p->stopped)
		return NULL;
	if (p->d->errors >= DIAG_MAX_ERRORS) {
		diag_error(p->d, p->lineno, "too many errors (%d); stopped reading", DIAG_MAX_ERRORS);
		p->stopped = true;
		return NULL;
	}
	ssize_t n = read_bounded(p, (size_t)num);
	if (n < 0) {
		if (p->total > RECIPE_MAX_SIZE)
			diag_error(p->d, p->lineno + 1, "the recipe is too large (more than %u MiB); stopped reading",
				   RECIPE_MAX_SIZE >> 20);
		p->stopped = true;
		return NULL;
	}
	p->lineno++;
	char *s = p->line;
	size_t whole = (size_t)n;
	size_t len = whole < (size_t)num ? whole : (size_t)num;
	bool bad = false;

	if (len && s[len - 1] == '\n')
		len--;
	if (len && s[len - 1] == '\r')
		len--; /* CRLF: the CR is part of the line ending, not the line */
	if (p->lineno == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3;
		len -= 3;
	}
	if (whole > (size_t)num) {
		/* Not all of it was kept: its length without the line ending. */
		size_t full = whole - (p->tail[1] == '\n') - (p->tail[1] == '\n' && p->tail[0] == '\r');
		diag_error(p->d, p->lineno, "line is too long (%zu bytes; at most %d)", full, num - 2);
		bad = true;
	} else if (len > (size_t)num - 2) {
		diag_error(p->d, p->lineno, "line is too long (%zu bytes; at most %d)", len, num - 2);
		bad = true;
	} else if (memchr(s, '\0', len)) {
		diag_error(p->d, p->lineno, "NUL byte in line");
		bad = true;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	size_t lead = 0;
	while (lead < len && isspace((unsigned char)s[lead]))
		lead++;
	p->indented = lead > 0;
	const char *t = s + lead;
	size_t tlen = len - lead;

	if (!bad && tlen && !strchr(";#", *t) && !(p->indented && p->have_key)) {
		if (*t == '[') {
			if (t[tlen - 1] != ']') {
				diag_error(p->d, p->lineno, "unterminated section header");
				p->kind = SEC_BAD;
				clear_seen(p);
				bad = true;
			} else {
				start_section(p, t + 1, tlen - 2);
			}
		} else {
			size_t key = strcspn(t, "=:");
			if (key >= tlen) {
				diag_error(p->d, p->lineno, "expected '[section]', 'key = value' or a comment");
				bad = true;
			} else {
				while (key && isspace((unsigned char)t[key - 1]))
					key--;
				if (key > MAX_NAME) {
					diag_error(p->d, p->lineno, "name '%.*s' is too long (at most %d characters)",
						   (int)key, t, MAX_NAME);
					bad = true;
				} else {
					p->have_key = true;
				}
			}
		}
	}
	if (bad) {
		/* inih sees a comment, so its state (and ours) stays as it was. */
		strcpy(str, ";\n");
		return str;
	}
	memcpy(str, s, len);
	str[len] = '\n';
	str[len + 1] = '\0';
	return str;
}

static void add_deps(struct parser *p, const char *value)
{
	const char *s = value;
	while (*s) {
		s += strspn(s, " \t,");
		size_t n = strcspn(s, " \t,");
		if (!n)
			break;
		char *name = xstrndup(s, n);
		task_add_dep(p->task, name, p->lineno);
		free(name);
		s += n;
	}
}

/* An indented line under a key: more of its value. */
static void continue_key(struct parser *p, const char *name, const char *value)
{
	if (!p->prev_ok)
		return;
	if (p->kind == SEC_TASK && strcmp(name, "run") == 0) {
		struct task *t = p->task;
		char *joined = xasprintf("%s%s%s", t->run ? t->run : "", t->run && *t->run ? "\n" : "", value);
		free(t->run);
		t->run = joined;
		t->run_lines++;
		size_t k = strcspn(value, "=");
		if (value[k]) {
			char *key = xstrndup(value, k);
			char *e = key + strlen(key);
			while (e > key && isspace((unsigned char)e[-1]))
				*--e = '\0';
			for (const char *const *w = task_keys; *w; w++)
				if (strcmp(key, *w) == 0 || (strncmp(key, "env.", 4) == 0 && valid_var_name(key + 4))) {
					diag_warn(p->d, p->lineno,
						  "indented '%s' is part of the 'run' of task '%s'; unindent it to make it a key",
						  value, t->name);
					break;
				}
			free(key);
		}
	} else if (p->kind == SEC_TASK && strcmp(name, "deps") == 0) {
		add_deps(p, value);
	} else if (p->kind == SEC_TASK && (strcmp(name, "sources") == 0 || strcmp(name, "outputs") == 0)) {
		char ***v = *name == 's' ? &p->task->sources : &p->task->outputs;
		size_t *n = *name == 's' ? &p->task->nsources : &p->task->noutputs;
		size_t more;
		char **words = split_blanks(value, &more);
		*v = xrealloc(*v, (*n + more + 1) * sizeof **v);
		memcpy(*v + *n, words, (more + 1) * sizeof *words);
		*n += more;
		free(words);
	} else if (p->kind == SEC_TASK && strcmp(name, "desc") == 0) {
		char *joined = xasprintf("%s %s", p->task->desc, value);
		free(p->task->desc);
		p->task->desc = joined;
	} else {
		diag_error(p->d, p->lineno, "'%s' does not continue on an indented line", name);
	}
}

/* Splits a step's value into words as a shell would, without expanding
 * anything: blanks separate words; '...' keeps everything, "..." keeps
 * all but \" and \\, and a backslash outside quotes keeps the next
 * character. Returns the word count, or -1 for an unterminated quote. */
static int split_words(const char *s, char ***out)
{
	char **v = xcalloc(strlen(s) / 2 + 3, sizeof *v);
	int n = 0;
	struct buf w;
	buf_init(&w);
	for (;;) {
		s += strspn(s, " \t");
		if (!*s)
			break;
		buf_reset(&w);
		buf_add(&w, "", 0);
		while (*s && *s != ' ' && *s != '\t') {
			if (*s == '\'') {
				const char *e = strchr(s + 1, '\'');
				if (!e)
					goto bad;
				buf_add(&w, s + 1, (size_t)(e - s - 1));
				s = e + 1;
			} else if (*s == '"') {
				s++;
				while (*s && *s != '"') {
					if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
						s++;
					buf_add(&w, s++, 1);
				}
				if (!*s)
					goto bad;
				s++;
			} else if (*s == '\\' && s[1]) {
				buf_add(&w, s + 1, 1);
				s += 2;
			} else {
				buf_add(&w, s++, 1);
			}
		}
		v[n++] = xstrdup(w.p);
	}
	buf_release(&w);
	*out = v;
	return n;
bad:
	buf_release(&w);
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return -1;
}

/* step = NAME ARGS...: the step's words; checked once the whole task is
 * read (check_step), so a bad regex is a recipe error, not a failure at
 * run time. */
static bool step_key(struct parser *p, const char *value)
{
	struct task *t = p->task;
	char **argv;
	int argc = split_words(value, &argv);
	if (argc < 0) {
		diag_error(p->d, p->lineno, "unterminated quote in 'step'");
		return false;
	}
	const struct step_def *def = argc ? step_find(argv[0]) : NULL;
	if (!argc) {
		diag_error(p->d, p->lineno, "empty value for 'step' (use e.g. hash PATH..., grep PATTERN PATH...)");
	} else if (!def) {
		const char *names[16];
		size_t k = 0;
		for (; step_table[k] && k < 15; k++)
			names[k] = step_table[k]->name;
		names[k] = NULL;
		const char *hint = suggest_word(argv[0], names);
		if (hint)
			diag_error(p->d, p->lineno, "unknown step '%s' (did you mean '%s'?)", argv[0], hint);
		else
			diag_error(p->d, p->lineno, "unknown step '%s'", argv[0]);
	}
	if (!def) {
		for (int i = 0; i < argc; i++)
			free(argv[i]);
		free(argv);
		return false;
	}
	t->step = def;
	t->step_argv = argv;
	t->step_argc = argc;
	t->step_line = p->lineno;
	return true;
}

/* Whether the pattern uses the item ({} {.} {/} ...). */
static bool uses_item(const char *pattern)
{
	char *w[] = {(char *)pattern};
	struct tmpl *t = tmpl_new(w, 1);
	bool r = tmpl_has_inputs(t);
	tmpl_free(t);
	return r;
}

/* Sources, outputs and depfile may use the item only in a foreach task,
 * which is then checked item by item; a foreach task's depfile must be
 * the item's own, since its items run at once. */
static void check_item_patterns(struct task *t, struct diag *d)
{
	const struct {
		const char *key;
		char **v;
		size_t n;
		int line;
	} lists[] = {{"sources", t->sources, t->nsources, t->sources_line},
		     {"outputs", t->outputs, t->noutputs, t->outputs_line}};
	for (size_t l = 0; l < 2; l++)
		for (size_t i = 0; i < lists[l].n; i++) {
			if (!uses_item(lists[l].v[i]))
				continue;
			if (!t->foreach) {
				diag_error(d, lists[l].line,
					   "'%s' pattern '%s' uses a replacement string, but task '%s' has no 'foreach'",
					   lists[l].key, lists[l].v[i], t->name);
				break;
			}
			t->per_item = true;
		}
	if (!t->depfile)
		return;
	bool item = uses_item(t->depfile);
	if (item && !t->foreach)
		diag_error(d, t->depfile_line, "'depfile' '%s' uses a replacement string, but task '%s' has no 'foreach'",
			   t->depfile, t->name);
	else if (!item && t->foreach)
		diag_error(d, t->depfile_line,
			   "'depfile' of foreach task '%s' must name each item's own file (use e.g. {.}.d)", t->name);
	else if (item)
		t->per_item = true;
}

/* The step's own check of its words. A foreach task's step gets its item
 * later, so it is checked with a stand-in for it. */
static void check_step(struct task *t, struct diag *d)
{
	char **argv = xcalloc((size_t)t->step_argc + 2, sizeof *argv);
	int argc = 0;
	bool has_item = false;
	for (int i = 0; i < t->step_argc; i++) {
		argv[argc++] = t->step_argv[i];
		has_item |= strchr(t->step_argv[i], '{') != NULL;
	}
	if (t->foreach && !has_item)
		argv[argc++] = "ITEM";
	char *err = NULL;
	if (t->step->check(argc, argv, &err) < 0)
		diag_error(d, t->step_line, "step '%s': %s", t->step_argv[0], err ? err : "bad arguments");
	free(err);
	free(argv);
}

/* The output rule a key sets, or -1. */
static int rule_kind(const char *name)
{
	for (int k = 0; k < RULE_KINDS; k++)
		if (strcmp(name, outrule_keys[k]) == 0)
			return k;
	return -1;
}

static bool task_key(struct parser *p, const char *name, const char *value)
{
	struct task *t = p->task;
	if (strcmp(name, "desc") == 0) {
		t->desc = xstrdup(value);
	} else if (strcmp(name, "run") == 0) {
		t->run = xstrdup(value);
		t->run_lines = *value ? 1 : 0;
	} else if (strcmp(name, "deps") == 0) {
		add_deps(p, value);
	} else if (strcmp(name, "dir") == 0) {
		if (!*value) {
			diag_error(p->d, p->lineno, "empty value for 'dir' (use a directory, or leave the key out)");
			return false;
		}
		t->dir = xstrdup(value);
	} else if (strcmp(name, "timeout") == 0) {
		if (duration_parse(value, &t->timeout_ms) < 0) {
			diag_error(p->d, p->lineno, "invalid duration '%s' for 'timeout' (use e.g. 90s, 5m, 1h)", value);
			return false;
		}
	} else if (strcmp(name, "step") == 0) {
		return step_key(p, value);
	} else if (strcmp(name, "sources") == 0 || strcmp(name, "outputs") == 0) {
		/* The patterns may all be on indented lines below the key:
		 * whether there are any is checked once the task is read. */
		size_t n;
		char **words = split_blanks(value, &n);
		if (*name == 's') {
			t->sources = words;
			t->nsources = n;
			t->sources_line = p->lineno;
		} else {
			t->outputs = words;
			t->noutputs = n;
			t->outputs_line = p->lineno;
		}
	} else if (strcmp(name, "depfile") == 0) {
		if (!*value) {
			diag_error(p->d, p->lineno, "empty value for 'depfile' (use e.g. {.}.d, or leave the key out)");
			return false;
		}
		t->depfile = xstrdup(value);
		t->depfile_line = p->lineno;
	} else if (strcmp(name, "foreach") == 0) {
		if ((strncmp(value, "lines:", 6) == 0 && !value[6]) || (strncmp(value, "cmd:", 4) == 0 && !value[4]) ||
		    !*value) {
			diag_error(p->d, p->lineno, "empty value for 'foreach' (use a glob, lines:FILE, cmd:COMMAND or words)");
			return false;
		}
		t->foreach = xstrdup(value);
	} else if (strcmp(name, "foreach-empty") == 0) {
		if (strcmp(value, "warn") == 0)
			t->foreach_empty = FOREACH_EMPTY_WARN;
		else if (strcmp(value, "error") == 0)
			t->foreach_empty = FOREACH_EMPTY_ERROR;
		else if (strcmp(value, "ok") == 0)
			t->foreach_empty = FOREACH_EMPTY_OK;
		else {
			diag_error(p->d, p->lineno, "invalid value '%s' for 'foreach-empty' (error, warn or ok)", value);
			return false;
		}
		t->foreach_empty_line = p->lineno;
	} else if (strcmp(name, "jobs") == 0) {
		if (parse_count(value, &t->jobs) < 0) {
			diag_error(p->d, p->lineno, "invalid value '%s' for 'jobs' (a number from 1)", value);
			return false;
		}
	} else if (strcmp(name, "console") == 0) {
		if (strcmp(value, "true") == 0 || strcmp(value, "false") == 0) {
			t->console = strcmp(value, "true") == 0;
		} else {
			diag_error(p->d, p->lineno, "invalid value '%s' for 'console' (true or false)", value);
			return false;
		}
	} else if (rule_kind(name) >= 0) {
		char *err;
		if (outrules_set(&t->rules, (enum outrule_kind)rule_kind(name), value, &err) < 0) {
			diag_error(p->d, p->lineno, "%s", err);
			free(err);
			return false;
		}
		if (!t->rules_line)
			t->rules_line = p->lineno;
	} else if (strncmp(name, "env.", 4) == 0) {
		if (!valid_var_name(name + 4)) {
			diag_error(p->d, p->lineno, "invalid variable name '%s'", name + 4);
			return false;
		}
		task_set_env(t, name + 4, value);
	} else {
		const char *hint = suggest_word(name, task_keys);
		if (hint)
			diag_error(p->d, p->lineno, "unknown key '%s' in task '%s' (did you mean '%s'?)", name,
				   t->name, hint);
		else
			diag_error(p->d, p->lineno, "unknown key '%s' in task '%s'", name, t->name);
		return false;
	}
	return true;
}

static bool weft_key(struct parser *p, const char *name, const char *value)
{
	struct recipe *r = p->r;
	if (strcmp(name, "default") == 0) {
		/* A later [weft] section wins, as [vars] and [env] do. */
		free(r->default_task);
		r->default_task = xstrdup(value);
		r->default_line = p->lineno;
	} else if (strcmp(name, "jobs") == 0) {
		if (parse_count(value, &r->jobs) < 0) {
			diag_error(p->d, p->lineno, "invalid value '%s' for 'jobs' (a number from 1)", value);
			return false;
		}
	} else if (strcmp(name, "shell") == 0) {
		if (!*value) {
			diag_error(p->d, p->lineno, "empty value for 'shell'");
			return false;
		}
		free(r->shell);
		r->shell = xstrdup(value);
	} else {
		const char *hint = suggest_word(name, weft_keys);
		if (hint)
			diag_error(p->d, p->lineno, "unknown key '%s' in [weft] (did you mean '%s'?)", name, hint);
		else
			diag_error(p->d, p->lineno, "unknown key '%s' in [weft]", name);
		return false;
	}
	return true;
}

/* NAME = VALUE, or NAME ?= VALUE (inih hands over the name "NAME ?"), in
 * [vars] or [env]. */
static bool var_key(struct parser *p, const char *name, const char *value)
{
	size_t len = strlen(name);
	bool soft = len && name[len - 1] == '?';
	char *bare = xstrndup(name, soft ? len - 1 : len);
	for (size_t n = strlen(bare); n && (bare[n - 1] == ' ' || bare[n - 1] == '\t');)
		bare[--n] = '\0';
	bool ok = valid_var_name(bare);
	if (!ok)
		diag_error(p->d, p->lineno, "invalid variable name '%s'", bare);
	else
		var_defs_set(p->kind == SEC_VARS ? &p->r->var_defs : &p->r->env_defs, bare, value, p->lineno, soft);
	free(bare);
	return ok;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parser *p = user;
	(void)section;
	if (p->indented && p->prev_key && strcmp(name, p->prev_key) == 0) {
		if (p->kind == SEC_TASK)
			continue_key(p, name, value);
		else if (p->kind != SEC_NONE && p->kind != SEC_BAD && p->prev_ok)
			diag_error(p->d, p->lineno, "'%s' does not continue on an indented line", name);
		return 1;
	}
	free(p->prev_key);
	p->prev_key = xstrdup(name);
	p->prev_ok = false;
	if (p->kind == SEC_NONE) {
		diag_error(p->d, p->lineno, "key '%s' outside of any section", name);
		return 1;
	}
	if (p->kind == SEC_BAD)
		return 1;
	for (size_t i = 0; i < p->nseen; i++)
		if (strcmp(p->seen[i].key, name) == 0) {
			char label[128];
			diag_error(p->d, p->lineno, "duplicate key '%s' in %s (first at line %d)", name,
				   section_label(p, label, sizeof label), p->seen[i].line);
			return 1;
		}
	grow(&p->seen, &p->seen_cap, p->nseen + 1, sizeof *p->seen);
	p->seen[p->nseen].key = xstrdup(name);
	p->seen[p->nseen].line = p->lineno;
	p->nseen++;

	switch (p->kind) {
	case SEC_TASK:
		p->prev_ok = task_key(p, name, value);
		break;
	case SEC_WEFT:
		p->prev_ok = weft_key(p, name, value);
		break;
	case SEC_VARS:
	case SEC_ENV:
		p->prev_ok = var_key(p, name, value);
		break;
	default:
		break;
	}
	return 1;
}

void recipe_init(struct recipe *r)
{
	memset(r, 0, sizeof *r);
	graph_init(&r->graph);
}

static void kv_free(struct kv *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].value);
	}
	free(v);
}

void recipe_release(struct recipe *r)
{
	graph_release(&r->graph);
	free(r->default_task);
	free(r->shell);
	kv_free(r->vars, r->nvars);
	kv_free(r->env, r->nenv);
	var_defs_release(&r->var_defs);
	var_defs_release(&r->env_defs);
	memset(r, 0, sizeof *r);
}

int recipe_load(struct recipe *r, const char *path, struct diag *d)
{
	struct parser p;
	memset(&p, 0, sizeof p);
	/* "e": close-on-exec, so the recipe never leaks into a job. */
	p.f = fopen(path, "re");
	if (!p.f)
		return -errno;
	struct stat st;
	if (fstat(fileno(p.f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(p.f);
		return -EISDIR;
	}
	p.r = r;
	p.d = d;
	/* Debian's inih exposes its options as variables: read whole lines
	 * (up to our limit) into one heap buffer, and keep ';' and '#' inside
	 * values, where shell commands need them. */
	ini_use_stack = false;
	ini_allow_realloc = false;
	ini_max_line = RECIPE_MAX_LINE + 2;
	ini_initial_alloc = RECIPE_MAX_LINE + 2;
	ini_allow_inline_comments = false;
	ini_allow_multiline = true;
	ini_stop_on_first_error = false;
	ini_parse_stream(read_line, &p, on_key, &p);
	if (ferror(p.f))
		diag_error(d, 0, "read error");
	fclose(p.f);
	clear_seen(&p);
	free(p.seen);
	free(p.line);

	vars_expand(&r->var_defs, &r->env_defs, r->cli, r->ncli, d, &r->vars, &r->nvars, &r->env, &r->nenv);
	graph_resolve(&r->graph, d);
	for (size_t i = 0; i < r->graph.ntasks; i++) {
		struct task *t = r->graph.tasks[i];
		if (t->step && t->run)
			diag_error(d, t->line, "task '%s' has both 'run' and 'step'", t->name);
		if (t->step)
			check_step(t, d);
		if (t->sources && !t->nsources)
			diag_error(d, t->sources_line, "empty value for 'sources' (use file names or glob patterns)");
		if (t->outputs && !t->noutputs)
			diag_error(d, t->outputs_line, "empty value for 'outputs' (use file names or glob patterns)");
		check_item_patterns(t, d);
		if (t->rules_line && !t->step && !(t->run && *t->run))
			diag_error(d, t->rules_line, "output rules in task '%s', which runs nothing (it has no 'run' or 'step')",
				   t->name);
		if (t->foreach_empty_line && !t->foreach)
			diag_error(d, t->foreach_empty_line, "'foreach-empty' in task '%s', which has no 'foreach'", t->name);
		if (t->foreach && t->run && *t->run) {
			char *words[] = {t->run};
			t->tmpl = tmpl_new(words, 1);
		}
	}
	if (r->default_task && !graph_find(&r->graph, r->default_task))
		diag_error(d, r->default_line, "default task '%s' does not exist", r->default_task);
	return 0;
}

char *recipe_find(void)
{
	struct buf b;
	buf_init(&b);
	for (int up = 0; up < 256; up++) {
		buf_reset(&b);
		for (int i = 0; i < up; i++)
			buf_adds(&b, "../");
		buf_adds(&b, "weft.ini");
		/* A weft.ini in any form (a dangling link, a directory) stops
		 * the search: loading it then says what is wrong, rather than a
		 * parent's recipe running in its place. */
		struct stat st;
		if (lstat(b.p, &st) == 0)
			return buf_take(&b);
		buf_reset(&b);
		for (int i = 0; i < up; i++)
			buf_adds(&b, "../");
		buf_adds(&b, ".");
		char *real = realpath(b.p, NULL);
		bool root = !real || strcmp(real, "/") == 0;
		free(real);
		if (root)
			break;
	}
	buf_release(&b);
	return NULL;
}
