/* Views of a recipe that run nothing: --list, --list-vars and --graph (DOT). */
#include "show.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"

void show_list(const struct graph *g)
{
	size_t width = 0;
	for (size_t i = 0; i < g->ntasks; i++)
		if (strlen(g->tasks[i]->name) > width)
			width = strlen(g->tasks[i]->name);
	for (size_t i = 0; i < g->ntasks; i++) {
		const struct task *t = g->tasks[i];
		if (t->desc && *t->desc)
			printf("%-*s  %s\n", (int)width, t->name, t->desc);
		else
			printf("%s\n", t->name);
	}
}

static void quoted(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
	putchar('"');
}

void show_graph(const struct graph *g, bool only_selected)
{
	printf("digraph weft {\n");
	for (size_t i = 0; i < g->ntasks; i++) {
		const struct task *t = g->tasks[i];
		if (only_selected && !t->selected)
			continue;
		printf("  ");
		quoted(t->name);
		printf(";\n");
		for (size_t k = 0; k < t->ndeps; k++) {
			if (!t->deps[k])
				continue;
			printf("  ");
			quoted(t->name);
			printf(" -> ");
			quoted(t->deps[k]->name);
			printf(";\n");
		}
	}
	printf("}\n");
}

void show_vars(const struct kv *vars, size_t n, const struct kv *env, size_t m)
{
	for (size_t i = 0; i < n + m; i++) {
		const struct kv *v = i < n ? &vars[i] : &env[i - n];
		printf("%s=%s\n", v->name, v->value);
	}
}
