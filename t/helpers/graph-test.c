/* Test driver for graph.c: builds a graph from a script on stdin and prints what the graph says about it.
 *
 *   graph-test < SCRIPT
 *
 * One command a line, words split at blanks; blank lines and lines that
 * start with '#' are skipped but counted, and a script line's number is the
 * "recipe line" of what it adds, so diagnostics point at it.
 *   task NAME [DEP...]   adds task NAME and its deps; prints "duplicate NAME"
 *                        when the name is taken (the graph refuses it)
 *   dep NAME DEP...      adds more deps to NAME, on this line
 *   resolve              graph_resolve: its diagnostics on stderr as
 *                        "weft.ini:LINE: MESSAGE", then "errors N" on stdout
 *   select NAME...       graph_select (after resolve)
 *   selected             "selected N: NAMES" in recipe order
 *   order                the selected tasks, deps first: "order: NAMES"
 *   rdeps NAME           the tasks that depend on NAME: "rdeps NAME: NAMES"
 *   suggest NAME         "suggest NAME: HINT", or "suggest NAME: -" for none
 * Exits 2 on a usage error (an unknown command or task, select before
 * resolve), naming the script line.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "graph.h"
#include "util.h"

static int lineno;

static void die(const char *msg, const char *arg)
{
	fprintf(stderr, "graph-test: line %d: %s%s%s\n", lineno, msg, arg ? ": " : "", arg ? arg : "");
	exit(2);
}

static struct task *need_task(struct graph *g, const char *name)
{
	struct task *t = name ? graph_find(g, name) : NULL;
	if (!t)
		die("no such task", name ? name : "(none given)");
	return t;
}

/* "LABEL: A B C", or "LABEL: -" when there are none. */
static void print_tasks(const char *label, struct task **v, size_t n)
{
	printf("%s:", label);
	for (size_t i = 0; i < n; i++)
		printf(" %s", v[i]->name);
	printf("%s\n", n ? "" : " -");
}

int main(void)
{
	struct graph g;
	struct diag d;
	graph_init(&g);
	diag_init(&d, "weft.ini");
	bool resolved = false;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, stdin)) >= 0) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[len - 1] = '\0';
		size_t n;
		char **w = split_blanks(line, &n);
		if (n == 0 || w[0][0] == '#') {
			free_words(w);
			continue;
		}
		const char *cmd = w[0];
		if (strcmp(cmd, "task") == 0 && n >= 2) {
			struct task *t = graph_add_task(&g, w[1], lineno);
			if (!t)
				printf("duplicate %s\n", w[1]);
			for (size_t i = 2; t && i < n; i++)
				task_add_dep(t, w[i], lineno);
		} else if (strcmp(cmd, "dep") == 0 && n >= 3) {
			if (resolved)
				die("dep after resolve", NULL);
			struct task *t = need_task(&g, w[1]);
			for (size_t i = 2; i < n; i++)
				task_add_dep(t, w[i], lineno);
		} else if (strcmp(cmd, "resolve") == 0 && n == 1) {
			if (resolved)
				die("resolve twice", NULL);
			size_t errors = graph_resolve(&g, &d);
			resolved = true;
			fflush(stdout);
			diag_flush(&d);
			printf("errors %zu\n", errors);
		} else if (strcmp(cmd, "select") == 0 && n >= 2) {
			if (!resolved)
				die("select before resolve", NULL);
			for (size_t i = 1; i < n; i++)
				graph_select(&g, need_task(&g, w[i]));
		} else if (strcmp(cmd, "selected") == 0 && n == 1) {
			struct task **v = xcalloc(g.ntasks ? g.ntasks : 1, sizeof *v);
			size_t k = 0;
			for (size_t i = 0; i < g.ntasks; i++)
				if (g.tasks[i]->selected)
					v[k++] = g.tasks[i];
			char *label = xasprintf("selected %zu", graph_count_selected(&g));
			print_tasks(label, v, k);
			free(label);
			free(v);
		} else if (strcmp(cmd, "order") == 0 && n == 1) {
			size_t k;
			struct task **v = graph_order(&g, &k);
			print_tasks("order", v, k);
			free(v);
		} else if (strcmp(cmd, "rdeps") == 0 && n == 2) {
			if (!resolved)
				die("rdeps before resolve", NULL);
			struct task *t = need_task(&g, w[1]);
			char *label = xasprintf("rdeps %s", t->name);
			print_tasks(label, t->rdeps, t->nrdeps);
			free(label);
		} else if (strcmp(cmd, "suggest") == 0 && n == 2) {
			const char *hint = graph_suggest(&g, w[1]);
			printf("suggest %s: %s\n", w[1], hint ? hint : "-");
		} else {
			die("bad command", line);
		}
		free_words(w);
	}
	free(line);
	graph_release(&g);
	return fflush(stdout) == 0 ? 0 : 1;
}
