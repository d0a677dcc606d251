/* Tasks and their dependencies: lookup, selection, cycle check, order. Plain data, no I/O. */
#include "graph.h"

#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "hashtab.h"
#include "outrules.h"
#include "tmpl.h"
#include "util.h"

void graph_init(struct graph *g)
{
	g->tasks = NULL;
	g->ntasks = g->cap = 0;
	g->byname = hashtab_new();
}

static void task_free(struct task *t)
{
	free(t->name);
	free(t->desc);
	free(t->run);
	for (size_t i = 0; i < t->ndeps; i++)
		free(t->dep_names[i]);
	free(t->dep_names);
	free(t->dep_lines);
	free(t->deps);
	free(t->rdeps);
	free(t->dir);
	free(t->foreach);
	free_words(t->sources);
	free_words(t->outputs);
	free(t->depfile);
	outrules_free(t->rules);
	for (int i = 0; i < t->step_argc; i++)
		free(t->step_argv[i]);
	free(t->step_argv);
	tmpl_free(t->tmpl);
	for (size_t i = 0; i < t->nenv; i++) {
		free(t->env[i].name);
		free(t->env[i].value);
	}
	free(t->env);
	free(t);
}

void graph_release(struct graph *g)
{
	for (size_t i = 0; i < g->ntasks; i++)
		task_free(g->tasks[i]);
	free(g->tasks);
	hashtab_free(g->byname);
	g->tasks = NULL;
	g->ntasks = g->cap = 0;
	g->byname = NULL;
}

struct task *graph_add_task(struct graph *g, const char *name, int line)
{
	if (graph_find(g, name))
		return NULL;
	struct task *t = xcalloc(1, sizeof *t);
	t->name = xstrdup(name);
	t->line = line;
	t->index = g->ntasks;
	grow(&g->tasks, &g->cap, g->ntasks + 1, sizeof *g->tasks);
	g->tasks[g->ntasks++] = t;
	hashtab_put(g->byname, t->name, t);
	return t;
}

struct task *graph_find(const struct graph *g, const char *name)
{
	return hashtab_get(g->byname, name);
}

void task_add_dep(struct task *t, const char *name, int line)
{
	size_t cap = t->deps_cap;
	grow(&t->dep_names, &t->deps_cap, t->ndeps + 1, sizeof *t->dep_names);
	if (cap != t->deps_cap)
		t->dep_lines = xrealloc(t->dep_lines, t->deps_cap * sizeof *t->dep_lines);
	t->dep_names[t->ndeps] = xstrdup(name);
	t->dep_lines[t->ndeps] = line;
	t->ndeps++;
}

void task_set_env(struct task *t, const char *name, const char *value)
{
	for (size_t i = 0; i < t->nenv; i++)
		if (strcmp(t->env[i].name, name) == 0) {
			free(t->env[i].value);
			t->env[i].value = xstrdup(value);
			return;
		}
	grow(&t->env, &t->env_cap, t->nenv + 1, sizeof *t->env);
	t->env[t->nenv].name = xstrdup(name);
	t->env[t->nenv].value = xstrdup(value);
	t->nenv++;
}

static const char *const reserved[] = {"weft", "vars", "env"};

static bool is_reserved(const char *name)
{
	for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
		if (strcmp(name, reserved[i]) == 0)
			return true;
	return false;
}

enum { WHITE, GREY, BLACK };

/* Unknown deps past this many get no "did you mean". */
#define GRAPH_MAX_HINTS 100

/* Depth-first walk; a GREY task met again closes a cycle, printed from the stack. */
static void find_cycles(struct task *t, struct task ***stack, size_t *depth, size_t *cap,
			struct diag *d, size_t *errors)
{
	t->mark = GREY;
	grow(stack, cap, *depth + 1, sizeof **stack);
	(*stack)[(*depth)++] = t;
	for (size_t i = 0; i < t->ndeps; i++) {
		struct task *u = t->deps[i];
		if (!u)
			continue;
		if (u->mark == GREY) {
			struct buf b;
			buf_init(&b);
			size_t from = *depth;
			while (from > 0 && (*stack)[from - 1] != u)
				from--;
			for (size_t k = from - 1; k < *depth; k++)
				buf_addf(&b, "%s -> ", (*stack)[k]->name);
			buf_adds(&b, u->name);
			/* Point at the deps line of the task that starts the cycle. */
			struct task *first = (*stack)[from - 1];
			struct task *next = from < *depth ? (*stack)[from] : u;
			int line = first->line;
			for (size_t k = 0; k < first->ndeps; k++)
				if (first->deps[k] == next) {
					line = first->dep_lines[k];
					break;
				}
			diag_error(d, line, "dependency cycle: %s", b.p);
			buf_release(&b);
			(*errors)++;
		} else if (u->mark == WHITE) {
			find_cycles(u, stack, depth, cap, d, errors);
		}
	}
	(*depth)--;
	t->mark = BLACK;
}

size_t graph_resolve(struct graph *g, struct diag *d)
{
	size_t errors = 0;
	for (size_t i = 0; i < g->ntasks; i++) {
		struct task *t = g->tasks[i];
		t->deps = xcalloc(t->ndeps, sizeof *t->deps);
		for (size_t k = 0; k < t->ndeps; k++) {
			const char *name = t->dep_names[k];
			struct task *u = graph_find(g, name);
			if (u) {
				/* A repeated dep counts once. */
				if (u->named_by == t)
					continue;
				u->named_by = t;
				t->deps[k] = u;
				grow(&u->rdeps, &u->rdeps_cap, u->nrdeps + 1, sizeof *u->rdeps);
				u->rdeps[u->nrdeps++] = t;
				continue;
			}
			errors++;
			/* Past the last one told, only counted. */
			if (d->errors > DIAG_MAX_ERRORS)
				continue;
			if (d->errors == DIAG_MAX_ERRORS) {
				diag_error(d, t->dep_lines[k], "too many errors (%d); stopped checking deps", DIAG_MAX_ERRORS);
				continue;
			}
			if (is_reserved(name)) {
				diag_error(d, t->dep_lines[k], "'%s' is a reserved section, not a task", name);
				continue;
			}
			/* A guess looks at every task: only the first ones get one. */
			const char *hint = errors <= GRAPH_MAX_HINTS ? graph_suggest(g, name) : NULL;
			if (hint)
				diag_error(d, t->dep_lines[k],
					   "task '%s' depends on unknown task '%s' (did you mean '%s'?)",
					   t->name, name, hint);
			else
				diag_error(d, t->dep_lines[k], "task '%s' depends on unknown task '%s'",
					   t->name, name);
		}
	}
	struct task **stack = NULL;
	size_t depth = 0, cap = 0;
	for (size_t i = 0; i < g->ntasks; i++)
		g->tasks[i]->mark = WHITE;
	for (size_t i = 0; i < g->ntasks && d->errors < DIAG_MAX_ERRORS; i++)
		if (g->tasks[i]->mark == WHITE)
			find_cycles(g->tasks[i], &stack, &depth, &cap, d, &errors);
	free(stack);
	return errors;
}

void graph_select(struct graph *g, struct task *t)
{
	(void)g;
	if (t->selected)
		return;
	t->selected = true;
	for (size_t i = 0; i < t->ndeps; i++)
		if (t->deps[i])
			graph_select(g, t->deps[i]);
}

size_t graph_count_selected(const struct graph *g)
{
	size_t n = 0;
	for (size_t i = 0; i < g->ntasks; i++)
		n += g->tasks[i]->selected;
	return n;
}

static void order_visit(struct task *t, struct task **out, size_t *n)
{
	if (t->mark)
		return;
	t->mark = 1;
	for (size_t i = 0; i < t->ndeps; i++)
		if (t->deps[i])
			order_visit(t->deps[i], out, n);
	out[(*n)++] = t;
}

struct task **graph_order(const struct graph *g, size_t *n)
{
	struct task **out = xcalloc(g->ntasks, sizeof *out);
	*n = 0;
	for (size_t i = 0; i < g->ntasks; i++)
		g->tasks[i]->mark = 0;
	for (size_t i = 0; i < g->ntasks; i++)
		if (g->tasks[i]->selected)
			order_visit(g->tasks[i], out, n);
	return out;
}

const char *graph_suggest(const struct graph *g, const char *name)
{
	const char **names = xmalloc((g->ntasks + 1) * sizeof *names);
	for (size_t i = 0; i < g->ntasks; i++)
		names[i] = g->tasks[i]->name;
	names[g->ntasks] = NULL;
	const char *hint = suggest_word(name, names);
	free(names);
	return hint;
}
