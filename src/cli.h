/* Command-line options and the usage text (the same words as man/weft.1). */
#ifndef WEFT_CLI_H
#define WEFT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "opt.h"
#include "sinks/sinks.h"
#include "term.h"

enum cli_action { ACT_RUN, ACT_LIST, ACT_LIST_VARS, ACT_GRAPH, ACT_DRY_RUN, ACT_HELP, ACT_VERSION };

struct cli {
	enum cli_action action;
	const char *file;        /* -f; NULL: find weft.ini */
	const char *directory;   /* -C */
	unsigned jobs;           /* 0: not given */
	bool keep_going;
	bool always_make;        /* -B */
	bool explain;
	enum output_mode output;
	enum color_mode color;
	uint64_t grace_ms;
	const char *joblog;      /* --joblog; NULL: none */
	uint64_t heartbeat_ms;   /* --heartbeat; 0: never */
	bool quiet;              /* -q: no status line, no line per finished job */
	struct opt_run run;      /* --events, --cluster and the like */
	char **targets;          /* TASK and /REGEX/ arguments */
	size_t ntargets;
	struct kv *vars;         /* NAME=VALUE arguments */
	size_t nvars;
};

/* Parses argv into c. Returns 0, or -1 after printing a message for a
 * usage error (exit status 2). */
int cli_parse(struct cli *c, int argc, char **argv);
void cli_release(struct cli *c);
void cli_usage(void);

#endif
