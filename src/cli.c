/* Command-line options and the usage text (the same words as man/weft.1). */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "opt.h"
#include "util.h"

static const char usage_text[] =
	"usage: weft [options] [TASK|/REGEX/|NAME=VALUE]...\n"
	"       weft exec [options] COMMAND [ARG...] [::: VALUE... | :::: FILE...]...\n"
	"       weft report FILE -o OUT.html\n"
	"\n"
	"Run the tasks of a recipe (weft.ini) and their dependencies in parallel.\n"
	"\n"
	"Options:\n"
	"  -f, --file=FILE       read the recipe from FILE instead of the nearest weft.ini\n"
	"  -C, --directory=DIR   change to DIR before doing anything else\n"
	"  -j, --jobs=N          run at most N jobs at once (default: the number of CPUs)\n"
	"  -k, --keep-going      after a failure, go on with tasks that do not depend on it\n"
	"  -B, --always-make     run tasks even when their sources say they are up to date\n"
	"      --explain         say why each task with sources runs or is skipped\n"
	"  -n, --dry-run         print what would run, as lines for sh, without running it\n"
	"  -l, --list            list the tasks with their descriptions\n"
	"      --list-vars       list the variables of [vars] and [env] with their values\n"
	"      --graph           print the dependency graph in DOT format\n"
	"      --output=MODE     line, group or raw (default: line on a terminal, else group)\n"
	"      --color=WHEN      auto, always or never (default: auto)\n"
	"      --grace=DURATION  wait this long after SIGTERM before SIGKILL (default: 2s)\n"
	"      --joblog=FILE     record each finished job in FILE (GNU parallel's format)\n"
	"  -q, --quiet           no status line and no line for each finished job\n"
	"      --heartbeat=DURATION  say which jobs still run after DURATION without a line (default: 2m)\n"
	OPT_RUN_USAGE
	"  -V, --version         print the version and exit\n"
	"  -h, --help            print this help and exit\n"
	"\n"
	"Exit status: 0 all tasks succeeded, 1 a task failed, 2 usage or recipe error,\n"
	"128+N interrupted by signal N (130 SIGINT, 143 SIGTERM, 129 SIGHUP).\n";

void cli_usage(void)
{
	fputs(usage_text, stdout);
}

enum { OPT_GRAPH = 256, OPT_OUTPUT, OPT_COLOR, OPT_GRACE, OPT_EXPLAIN, OPT_JOBLOG, OPT_HEARTBEAT, OPT_LIST_VARS };

static const struct option longopts[] = {
	{"file", required_argument, NULL, 'f'},
	{"directory", required_argument, NULL, 'C'},
	{"jobs", required_argument, NULL, 'j'},
	{"keep-going", no_argument, NULL, 'k'},
	{"always-make", no_argument, NULL, 'B'},
	{"explain", no_argument, NULL, OPT_EXPLAIN},
	{"dry-run", no_argument, NULL, 'n'},
	{"list", no_argument, NULL, 'l'},
	{"list-vars", no_argument, NULL, OPT_LIST_VARS},
	{"graph", no_argument, NULL, OPT_GRAPH},
	{"output", required_argument, NULL, OPT_OUTPUT},
	{"color", required_argument, NULL, OPT_COLOR},
	{"colour", required_argument, NULL, OPT_COLOR},
	{"grace", required_argument, NULL, OPT_GRACE},
	{"joblog", required_argument, NULL, OPT_JOBLOG},
	{"heartbeat", required_argument, NULL, OPT_HEARTBEAT},
	{"quiet", no_argument, NULL, 'q'},
	OPT_RUN_LONGOPTS,
	{"version", no_argument, NULL, 'V'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int bad(const char *fmt, const char *arg)
{
	return opt_bad("weft", fmt, arg);
}

/* A variable assignment: NAME=VALUE with a shell-style NAME. */
static bool is_assignment(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return false;
	while (isalnum((unsigned char)*s) || *s == '_')
		s++;
	return *s == '=';
}

int cli_parse(struct cli *c, int argc, char **argv)
{
	memset(c, 0, sizeof *c);
	c->grace_ms = 2000;
	c->heartbeat_ms = 2 * 60 * 1000;
	opt_run_init(&c->run);
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, ":f:C:j:kBnlqVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			c->file = optarg;
			break;
		case 'C':
			c->directory = optarg;
			break;
		case 'j':
			if (parse_count(optarg, &c->jobs) < 0)
				return bad("invalid value '%s' for --jobs (a number from 1)", optarg);
			break;
		case 'k':
			c->keep_going = true;
			break;
		case 'B':
			c->always_make = true;
			break;
		case OPT_EXPLAIN:
			c->explain = true;
			break;
		case 'n':
			c->action = ACT_DRY_RUN;
			break;
		case 'l':
			c->action = ACT_LIST;
			break;
		case OPT_LIST_VARS:
			c->action = ACT_LIST_VARS;
			break;
		case OPT_GRAPH:
			c->action = ACT_GRAPH;
			break;
		case OPT_OUTPUT:
			if (output_mode_parse(optarg, &c->output) < 0)
				return bad("invalid value '%s' for --output (line, group or raw)", optarg);
			break;
		case OPT_COLOR:
			if (color_mode_parse(optarg, &c->color) < 0)
				return bad("invalid value '%s' for --color (auto, always or never)", optarg);
			break;
		case OPT_GRACE:
			if (duration_parse(optarg, &c->grace_ms) < 0)
				return bad("invalid duration '%s' for --grace (use e.g. 500ms, 2s)", optarg);
			break;
		case OPT_JOBLOG:
			if (!*optarg)
				return bad("invalid value '%s' for --joblog (a file)", optarg);
			c->joblog = optarg;
			break;
		case 'q':
			c->quiet = true;
			break;
		case OPT_HEARTBEAT:
			if (strcmp(optarg, "0") != 0 && duration_parse(optarg, &c->heartbeat_ms) < 0)
				return bad("invalid duration '%s' for --heartbeat (use e.g. 30s, 5m; 0: never)", optarg);
			if (strcmp(optarg, "0") == 0)
				c->heartbeat_ms = 0;
			break;
		case 'V':
			c->action = ACT_VERSION;
			return 0;
		case 'h':
			c->action = ACT_HELP;
			return 0;
		default:
			if (opt_run_parse(&c->run, "weft", ch, optarg, argv, longopts) < 0)
				return -1;
			break;
		}
	}
	if (opt_run_check(&c->run, "weft") < 0)
		return -1;
	for (int i = optind; i < argc; i++) {
		const char *a = argv[i];
		if (is_assignment(a)) {
			const char *eq = strchr(a, '=');
			c->vars = xrealloc(c->vars, (c->nvars + 1) * sizeof *c->vars);
			c->vars[c->nvars].name = xstrndup(a, (size_t)(eq - a));
			c->vars[c->nvars].value = xstrdup(eq + 1);
			c->nvars++;
		} else {
			c->targets = xrealloc(c->targets, (c->ntargets + 1) * sizeof *c->targets);
			c->targets[c->ntargets++] = argv[i];
		}
	}
	return 0;
}

void cli_release(struct cli *c)
{
	for (size_t i = 0; i < c->nvars; i++) {
		free(c->vars[i].name);
		free(c->vars[i].value);
	}
	free(c->vars);
	free(c->targets);
}
