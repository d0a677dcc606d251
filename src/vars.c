/* Recipe variables: ${NAME} references expanded when the recipe is read, NAME ?= defaults that the environment overrides, undefined names and cycles reported at file:line. */
#include "vars.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "graph.h"
#include "util.h"

void var_defs_set(struct var_defs *d, const char *name, const char *value, int line, bool soft)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->v[i].name, name) == 0) {
			free(d->v[i].value);
			d->v[i].value = xstrdup(value);
			d->v[i].line = line;
			d->v[i].soft = soft;
			return;
		}
	grow(&d->v, &d->cap, d->n + 1, sizeof *d->v);
	d->v[d->n++] = (struct var_def){xstrdup(name), xstrdup(value), line, soft};
}

void var_defs_release(struct var_defs *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].name);
		free(d->v[i].value);
	}
	free(d->v);
	memset(d, 0, sizeof *d);
}

enum state { UNSEEN, EXPANDING, DONE };

/* One definition being given its value. */
struct slot {
	const struct var_def *def;
	enum state state;
	char *value;   /* DONE: the value; NULL after an error */
};

struct expander {
	struct slot *vars, *env;
	size_t nvars, nenv;
	const struct kv *cli;
	size_t ncli;
	struct diag *d;
	const char *chain[64]; /* the names being expanded, outermost first, for a cycle's message */
	size_t depth;
};

static const char *cli_value(const struct expander *x, const char *name)
{
	for (size_t i = x->ncli; i-- > 0;)
		if (strcmp(x->cli[i].name, name) == 0)
			return x->cli[i].value;
	return NULL;
}

static struct slot *find(struct slot *s, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s[i].def->name, name) == 0)
			return &s[i];
	return NULL;
}

static char *expand_slot(struct expander *x, struct slot *s, bool *failed);

/* NAME's value for a reference in `from`; NULL when it has none (an
 * error is said, unless NAME's own definition had one). */
static char *lookup(struct expander *x, const char *name, const struct var_def *from, bool *failed)
{
	const char *v = cli_value(x, name);
	if (v)
		return xstrdup(v);
	struct slot *s = find(x->vars, x->nvars, name);
	if (!s)
		s = find(x->env, x->nenv, name);
	if (s) {
		if (s->state == EXPANDING) {
			struct buf b;
			buf_init(&b);
			size_t k = 0;
			while (k < x->depth && strcmp(x->chain[k], name) != 0)
				k++;
			for (; k < x->depth; k++)
				buf_addf(&b, "%s -> ", x->chain[k]);
			buf_adds(&b, name);
			diag_error(x->d, from->line, "variable '%s' refers to itself: %s", name, b.p);
			buf_release(&b);
			*failed = true;
			return NULL;
		}
		char *val = expand_slot(x, s, failed);
		return val ? xstrdup(val) : NULL;
	}
	v = getenv(name);
	if (v)
		return xstrdup(v);
	diag_error(x->d, from->line, "undefined variable '%s' in the value of '%s' (set it in [vars], in the "
				     "environment, or as %s=VALUE on the command line)",
		   name, from->name, name);
	*failed = true;
	return NULL;
}

static bool name_char(char c, bool first)
{
	return c == '_' || isalpha((unsigned char)c) || (!first && isdigit((unsigned char)c));
}

static char *expand_value(struct expander *x, const struct var_def *def, bool *failed)
{
	struct buf b;
	buf_init(&b);
	buf_adds(&b, "");
	const char *p = def->value;
	while (*p) {
		if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
			buf_adds(&b, "${");
			p += 3;
			continue;
		}
		if (p[0] != '$' || p[1] != '{') {
			buf_add(&b, p, 1);
			p++;
			continue;
		}
		const char *n = p + 2, *e = n;
		while (*e && name_char(*e, e == n))
			e++;
		if (e == n || *e != '}') {
			const char *close = strchr(p, '}');
			int len = close ? (int)(close - p + 1) : (int)strlen(p);
			diag_error(x->d, def->line, "'%.*s' in the value of '%s' is not a ${NAME} reference (write $${ for a "
						    "literal ${)",
				   len, p, def->name);
			*failed = true;
			break;
		}
		char *name = xstrndup(n, (size_t)(e - n));
		char *val = lookup(x, name, def, failed);
		free(name);
		if (!val)
			break;
		buf_adds(&b, val);
		free(val);
		p = e + 1;
	}
	if (*failed) {
		buf_release(&b);
		return NULL;
	}
	return buf_take(&b);
}

static char *expand_slot(struct expander *x, struct slot *s, bool *failed)
{
	if (s->state == DONE) {
		if (!s->value)
			*failed = true;
		return s->value;
	}
	const struct var_def *def = s->def;
	const char *v = cli_value(x, def->name);
	const char *from_env = def->soft ? getenv(def->name) : NULL;
	if (v || from_env) {
		s->value = xstrdup(v ? v : from_env);
	} else if (x->depth == sizeof x->chain / sizeof *x->chain) {
		diag_error(x->d, def->line, "variable '%s' refers to more than %zu levels of variables", def->name,
			   x->depth);
		*failed = true;
	} else {
		s->state = EXPANDING;
		x->chain[x->depth++] = def->name;
		bool mine = false;
		s->value = expand_value(x, def, &mine);
		x->depth--;
		*failed |= mine;
	}
	s->state = DONE;
	return s->value;
}

static void fill(struct slot **out, size_t *n, const struct var_defs *defs)
{
	*n = defs->n;
	*out = xcalloc(defs->n ? defs->n : 1, sizeof **out);
	for (size_t i = 0; i < defs->n; i++)
		(*out)[i].def = &defs->v[i];
}

/* Hands the values over as kv pairs (an empty value where there was an error). */
static void give(struct slot *s, size_t n, struct kv **out, size_t *nout)
{
	*out = xcalloc(n ? n : 1, sizeof **out);
	*nout = n;
	for (size_t i = 0; i < n; i++) {
		(*out)[i].name = xstrdup(s[i].def->name);
		(*out)[i].value = s[i].value ? s[i].value : xstrdup("");
	}
}

void vars_expand(const struct var_defs *vars, const struct var_defs *env, const struct kv *cli, size_t ncli,
		 struct diag *d, struct kv **out_vars, size_t *nout_vars, struct kv **out_env, size_t *nout_env)
{
	struct expander x = {.cli = cli, .ncli = ncli, .d = d};
	fill(&x.vars, &x.nvars, vars);
	fill(&x.env, &x.nenv, env);
	/* Each is reported once, where it is defined: a failure seen through
	 * a reference is not said again. */
	for (size_t i = 0; i < x.nvars; i++) {
		bool failed = false;
		expand_slot(&x, &x.vars[i], &failed);
	}
	for (size_t i = 0; i < x.nenv; i++) {
		bool failed = false;
		expand_slot(&x, &x.env[i], &failed);
	}
	give(x.vars, x.nvars, out_vars, nout_vars);
	give(x.env, x.nenv, out_env, nout_env);
	free(x.vars);
	free(x.env);
}
