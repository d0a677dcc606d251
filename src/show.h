/* Views of a recipe that run nothing: --list, --list-vars and --graph (DOT). */
#ifndef WEFT_SHOW_H
#define WEFT_SHOW_H

#include <stdbool.h>
#include <stddef.h>

struct graph;

void show_list(const struct graph *g);
/* only_selected: just the selected tasks and the edges between them. */
void show_graph(const struct graph *g, bool only_selected);
/* --list-vars: NAME=value, as expanded, for [vars] then [env] (n and m long). */
struct kv;
void show_vars(const struct kv *vars, size_t n, const struct kv *env, size_t m);

#endif
