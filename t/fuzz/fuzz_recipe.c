/* libFuzzer target for the recipe loader: any bytes as weft.ini, then the views `weft -l` and `--graph` print (`-n` is a run now, with an executor that runs nothing).
 *
 * Properties checked besides "no crash, no leak, no UB":
 *   - recipe_load() of a readable file returns 0;
 *   - every diagnostic has a message and a line from 0 to the file's last;
 *   - d.errors counts exactly the entries that are not warnings;
 *   - loading the same bytes again gives the same diagnostics (no state
 *     left over from one load, inih's globals included);
 *   - a recipe without errors has every dep resolved and its default task
 *     defined, and graph_order() lists each selected task once, after its
 *     deps. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "graph.h"
#include "recipe.h"
#include "show.h"

#include "fuzz.h"

static struct fuzz_file file;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_file_open(&file, "weft.ini");
	/* The views print to stdout; libFuzzer reports on stderr. */
	if (!freopen("/dev/null", "w", stdout))
		abort();
	return 0;
}

/* Lines as getline() hands them to the loader: a last line without a
 * newline counts. */
static int count_lines(const uint8_t *data, size_t size)
{
	int n = 0;
	for (size_t i = 0; i < size; i++)
		n += data[i] == '\n';
	return n + (size && data[size - 1] != '\n');
}

static void check_diag(const struct diag *d, int nlines)
{
	size_t errors = 0;
	for (size_t i = 0; i < d->n; i++) {
		FUZZ_CHECK(d->v[i].msg != NULL);
		FUZZ_CHECK(d->v[i].line >= 0 && d->v[i].line <= nlines);
		errors += !d->v[i].warning;
	}
	FUZZ_CHECK(errors == d->errors);
}

static bool same_diag(const struct diag *a, const struct diag *b)
{
	if (a->n != b->n || a->errors != b->errors)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].line != b->v[i].line || a->v[i].warning != b->v[i].warning ||
		    strcmp(a->v[i].msg, b->v[i].msg) != 0)
			return false;
	return true;
}

/* What main() does with a good recipe and no targets, then every view. */
static void check_graph(struct recipe *r)
{
	struct graph *g = &r->graph;
	for (size_t i = 0; i < g->ntasks; i++) {
		struct task *t = g->tasks[i];
		FUZZ_CHECK(t->name && *t->name);
		FUZZ_CHECK(graph_find(g, t->name) == t);
		for (size_t k = 0; k < t->ndeps; k++)
			FUZZ_CHECK(t->deps[k] != NULL);
	}
	if (r->default_task)
		FUZZ_CHECK(graph_find(g, r->default_task) != NULL);
	if (!g->ntasks)
		return;
	graph_select(g, r->default_task ? graph_find(g, r->default_task) : g->tasks[0]);

	size_t n;
	struct task **order = graph_order(g, &n);
	FUZZ_CHECK(n == graph_count_selected(g));
	for (size_t i = 0; i < g->ntasks; i++)
		g->tasks[i]->mark = -1;
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(order[i]->selected && order[i]->mark == -1);
		order[i]->mark = (int)i;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < order[i]->ndeps; k++)
			FUZZ_CHECK(order[i]->deps[k]->mark >= 0 && (size_t)order[i]->deps[k]->mark < i);
	free(order);

	show_list(g);
	show_graph(g, false);
	show_graph(g, true);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_file_set(&file, data, size);
	int nlines = count_lines(data, size);

	struct recipe r;
	struct diag d;
	recipe_init(&r);
	diag_init(&d, "weft.ini");
	FUZZ_CHECK(recipe_load(&r, file.path, &d) == 0);
	check_diag(&d, nlines);

	struct recipe r2;
	struct diag d2;
	recipe_init(&r2);
	diag_init(&d2, "weft.ini");
	FUZZ_CHECK(recipe_load(&r2, file.path, &d2) == 0);
	FUZZ_CHECK(same_diag(&d, &d2));
	FUZZ_CHECK(r.graph.ntasks == r2.graph.ntasks);
	diag_release(&d2);
	recipe_release(&r2);

	if (!d.errors)
		check_graph(&r);
	diag_release(&d);
	recipe_release(&r);
	return 0;
}
