/* Views of a recipe that run nothing: --list, --graph (DOT) and --dry-run. */
#ifndef WEFT_SHOW_H
#define WEFT_SHOW_H

#include <stdbool.h>

struct graph;

void show_list(const struct graph *g);
/* only_selected: just the selected tasks and the edges between them. */
void show_graph(const struct graph *g, bool only_selected);
void show_dry_run(const struct graph *g);

#endif
