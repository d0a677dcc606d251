/* weft exec: one command over many inputs, as GNU parallel runs it — options, set-up and exit status. */
#include "exec.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "blocks.h"
#include "duration.h"
#include "events.h"
#include "fanout.h"
#include "jobserver.h"
#include "joblog.h"
#include "opt.h"
#include "parts.h"
#include "pipetmp.h"
#include "quote.h"
#include "rpl.h"
#include "run.h"
#include "sinks/sinks.h"
#include "term.h"
#include "tmpl.h"
#include "util.h"

extern char **environ;

/* GNU parallel's exit status for errors other than failed jobs. */
#define EXEC_ERROR 255

static const char exec_usage[] =
	"usage: weft exec [options] COMMAND [ARG...] [::: VALUE... | :::: FILE...]...\n"
	"\n"
	"Run COMMAND once per input, in parallel. Inputs are the lines of standard\n"
	"input, or the values after :::, or the lines of the files after ::::; several\n"
	"sources combine as every combination (or pairwise with --link).\n"
	"\n"
	"Options:\n"
	"  -j, --jobs=N          run N jobs at once; N% of the CPUs, +N or -N CPUs (default: CPUs)\n"
	"  -a, --arg-file=FILE   read inputs from FILE, as :::: FILE does\n"
	"  -k, --keep-order      print each job's output whole, in input order\n"
	"  -0, --null            inputs are separated by NUL bytes\n"
	"  -d, --delimiter=D     inputs are separated by D, ::: values too (\\n, \\t, \\0, \\r\\n allowed)\n"
	"  -C, --colsep=REGEX    split each input into columns {1}, {2}... at REGEX (PCRE2)\n"
	"      --link            pair the input sources instead of combining every value\n"
	"      --tag             prefix each output line with the job's inputs and a tab\n"
	"      --tagstring=STR   prefix each output line with STR (replacement strings allowed)\n"
	"      --output=MODE     group, line or raw (default: group)\n"
	"  -u, --ungroup         the same as --output=raw\n"
	"      --line-buffer     the same as --output=line\n"
	"  -v, --verbose         print each job's command before its output\n"
	"  -q, --quote           quote the command's words: no shell syntax in COMMAND\n"
	"  -I, --replace=STR     STR stands for the input in the command instead of {}\n"
	"      --delay=DURATION  wait this long between the starts of two jobs\n"
	"      --memfree=SIZE    start a job only while the memory available is at least SIZE\n"
	"      --load=MAX        start a job only while fewer than MAX processes are at work (N, N%)\n"
	"      --shuf            run the jobs in a random order (all inputs are read first)\n"
	"      --header=REGEX    the first input of each source names it: {name} is {1}...\n"
	"      --rpl='TAG EXPR'  TAG stands for what EXPR makes of the input: s/REGEX/TEXT/ or GNU parallel's own\n"
	"      --env=NAME        accepted for GNU parallel's scripts: local jobs get every variable anyway\n"
	"      --plus            also {+/} {+.} {+..} {+...} {..} {...} {/..} {/...} {##} {0#} {0%}\n"
	"      --tmpdir=DIR      keep spilled output in DIR, as TMPDIR=DIR does\n"
	"      --compress        compress spilled output (zlib) in its temporary file\n"
	"      --results=NAME    keep each job's output in NAME/1/INPUT/stdout, stderr and seq,\n"
	"                        or in NAME.csv, NAME.tsv or NAME.json (-.csv: standard output)\n"
	"      --arg-sep=SEP     SEP separates values instead of :::\n"
	"      --arg-file-sep=SEP  SEP separates files instead of ::::\n"
	"      --color=WHEN      auto, always or never (default: auto)\n"
	"      --timeout=T       stop a job after T (a duration, or N% of the median runtime)\n"
	"      --retries=N       run a failing job up to N times in all\n"
	"      --halt=WHEN,WHAT=N  stop early: now or soon, after fail, success or done = N (or N%)\n"
	"      --dry-run         print the commands without running them\n"
	"      --bar             show a progress bar on the terminal\n"
	"      --eta             show the estimated time left on the terminal\n"
	"      --joblog=FILE     record each finished job in FILE (GNU parallel's format)\n"
	"      --resume          with --joblog: skip the jobs FILE records as done\n"
	"      --resume-failed   with --joblog: skip the jobs FILE records as succeeded\n"
	"      --grace=DURATION  wait this long after SIGTERM before SIGKILL (default: 2s)\n"
	"      --pipe            cut standard input into blocks of records, one per job, on its stdin\n"
	"      --pipe-part       with -a FILE: cut FILE into parts at record boundaries, one per job, on its stdin\n"
	"      --cat             with --pipe: each block in a temporary file that {} names, not on stdin\n"
	"      --fifo            with --pipe: each block through a temporary FIFO that {} names\n"
	"      --block-size=SIZE with --pipe: read SIZE bytes per block (default: 1M; k, K, M, G);\n"
	"                        with --pipe-part, -N: N parts per job slot (default: -10)\n"
	"      --recend=STR      with --pipe: records end with STR (default: \\n)\n"
	"      --recstart=STR    with --pipe: records start with STR\n"
	"  -n, --max-args=N      at most N inputs per job, all of them in place of {}\n"
	"  -N, --max-replace-args=N  N inputs per job, {1} to {N}; with --pipe, N records per job\n"
	"  -L, --max-lines=N     N lines per job; with --pipe, a multiple of N lines per job\n"
	"  -X                    as many inputs per job as fit, each word holding {} repeated per input\n"
	"  -m                    as many inputs per job as fit, all of them in place of {}\n"
	"  -s, --max-chars=N     keep command lines shorter than N bytes (default: the system's limit)\n"
	OPT_RUN_USAGE
	"  -h, --help            print this help and exit\n"
	"\n"
	"Replacement strings: {} {.} {/} {//} {/.} {#} {%} {N} {N.} {N/} {N//} {N/.} {-N}\n"
	"Exit status: 0 all jobs succeeded, 1-100 that many failed, 101 more than 100,\n"
	"with --halt ...,fail=1 the failing job's own status, 255 another error.\n"
	"Environment: PARALLEL (default options), PARALLEL_SHELL (the shell of the jobs).\n";

enum {
	OPT_COLSEP = 256, OPT_LINK, OPT_TAG, OPT_TAGSTRING, OPT_OUTPUT, OPT_COLOR, OPT_TIMEOUT, OPT_RETRIES,
	OPT_HALT, OPT_DRY_RUN, OPT_BAR, OPT_ETA, OPT_JOBLOG, OPT_RESUME, OPT_RESUME_FAILED, OPT_GRACE,
	OPT_PIPE, OPT_BLOCK_SIZE, OPT_RECEND, OPT_RECSTART, OPT_LINE_BUFFER, OPT_DELAY, OPT_TMPDIR, OPT_ARG_SEP,
	OPT_ARG_FILE_SEP, OPT_SHUF, OPT_HEADER, OPT_PLUS, OPT_RESULTS, OPT_PIPE_PART, OPT_CAT, OPT_FIFO, OPT_RPL, OPT_ENV, OPT_MEMFREE, OPT_LOAD, OPT_COMPRESS, OPT_COMPRESS_PROGRAM,
};

static const struct option longopts[] = {
	{"jobs", required_argument, NULL, 'j'},
	{"keep-order", no_argument, NULL, 'k'},
	{"keeporder", no_argument, NULL, 'k'},
	{"arg-file", required_argument, NULL, 'a'},
	{"ungroup", no_argument, NULL, 'u'},
	{"line-buffer", no_argument, NULL, OPT_LINE_BUFFER},
	{"linebuffer", no_argument, NULL, OPT_LINE_BUFFER},
	{"lb", no_argument, NULL, OPT_LINE_BUFFER},
	{"verbose", no_argument, NULL, 'v'},
	{"quote", no_argument, NULL, 'q'},
	{"replace", required_argument, NULL, 'I'},
	{"delay", required_argument, NULL, OPT_DELAY},
	{"shuf", no_argument, NULL, OPT_SHUF},
	{"header", required_argument, NULL, OPT_HEADER},
	{"plus", no_argument, NULL, OPT_PLUS},
	{"tmpdir", required_argument, NULL, OPT_TMPDIR},
	{"results", required_argument, NULL, OPT_RESULTS},
	{"res", required_argument, NULL, OPT_RESULTS},
	{"arg-sep", required_argument, NULL, OPT_ARG_SEP},
	{"arg-file-sep", required_argument, NULL, OPT_ARG_FILE_SEP},
	{"xapply", no_argument, NULL, OPT_LINK},
	{"null", no_argument, NULL, '0'},
	{"delimiter", required_argument, NULL, 'd'},
	{"colsep", required_argument, NULL, OPT_COLSEP},
	{"link", no_argument, NULL, OPT_LINK},
	{"tag", no_argument, NULL, OPT_TAG},
	{"tagstring", required_argument, NULL, OPT_TAGSTRING},
	{"output", required_argument, NULL, OPT_OUTPUT},
	{"color", required_argument, NULL, OPT_COLOR},
	{"colour", required_argument, NULL, OPT_COLOR},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"retries", required_argument, NULL, OPT_RETRIES},
	{"halt", required_argument, NULL, OPT_HALT},
	{"halt-on-error", required_argument, NULL, OPT_HALT},
	{"dry-run", no_argument, NULL, OPT_DRY_RUN},
	{"dryrun", no_argument, NULL, OPT_DRY_RUN},
	{"bar", no_argument, NULL, OPT_BAR},
	{"eta", no_argument, NULL, OPT_ETA},
	{"joblog", required_argument, NULL, OPT_JOBLOG},
	{"jl", required_argument, NULL, OPT_JOBLOG},
	{"resume", no_argument, NULL, OPT_RESUME},
	{"resume-failed", no_argument, NULL, OPT_RESUME_FAILED},
	{"grace", required_argument, NULL, OPT_GRACE},
	{"pipe", no_argument, NULL, OPT_PIPE},
	{"pipe-part", no_argument, NULL, OPT_PIPE_PART},
	{"pipepart", no_argument, NULL, OPT_PIPE_PART},
	{"cat", no_argument, NULL, OPT_CAT},
	{"rpl", required_argument, NULL, OPT_RPL},
	{"memfree", required_argument, NULL, OPT_MEMFREE},
	{"compress", no_argument, NULL, OPT_COMPRESS},
	{"compress-program", required_argument, NULL, OPT_COMPRESS_PROGRAM},
	{"decompress-program", required_argument, NULL, OPT_COMPRESS_PROGRAM},
	{"load", required_argument, NULL, OPT_LOAD},
	{"env", required_argument, NULL, OPT_ENV},
	{"fifo", no_argument, NULL, OPT_FIFO},
	{"block-size", required_argument, NULL, OPT_BLOCK_SIZE},
	{"blocksize", required_argument, NULL, OPT_BLOCK_SIZE},
	{"block", required_argument, NULL, OPT_BLOCK_SIZE},
	{"recend", required_argument, NULL, OPT_RECEND},
	{"recstart", required_argument, NULL, OPT_RECSTART},
	{"max-replace-args", required_argument, NULL, 'N'},
	{"max-lines", required_argument, NULL, 'L'},
	{"max-args", required_argument, NULL, 'n'},
	{"max-chars", required_argument, NULL, 's'},
	OPT_RUN_LONGOPTS,
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

int halt_parse(const char *s, struct halt *h)
{
	memset(h, 0, sizeof *h);
	/* GNU parallel's old short forms (--halt-on-error 2) and N%. */
	static const char *const old[][2] = {
		{"0", "never"}, {"1", "soon,fail=1"}, {"2", "now,fail=1"}, {"-1", "soon,success=1"}, {"-2", "now,success=1"},
	};
	for (size_t i = 0; i < sizeof old / sizeof *old; i++)
		if (strcmp(s, old[i][0]) == 0)
			s = old[i][1];
	size_t len = strlen(s);
	if (len > 1 && s[len - 1] == '%' && strspn(s, "0123456789") == len - 1) {
		char *full = xasprintf("soon,fail=%s", s);
		int r = halt_parse(full, h);
		free(full);
		return r;
	}
	if (strcmp(s, "never") == 0)
		return 0;
	const char *comma = strchr(s, ',');
	if (!comma)
		return -1;
	size_t wl = (size_t)(comma - s);
	if (wl == 3 && strncmp(s, "now", 3) == 0)
		h->when = HALT_NOW;
	else if (wl == 4 && strncmp(s, "soon", 4) == 0)
		h->when = HALT_SOON;
	else
		return -1;
	const char *what = comma + 1;
	const char *eq = strchr(what, '=');
	if (!eq)
		return -1;
	size_t kl = (size_t)(eq - what);
	if (kl == 4 && strncmp(what, "fail", 4) == 0)
		h->what = HALT_FAIL;
	else if (kl == 7 && strncmp(what, "success", 7) == 0)
		h->what = HALT_SUCCESS;
	else if (kl == 4 && strncmp(what, "done", 4) == 0)
		h->what = HALT_DONE;
	else
		return -1;
	const char *end = parse_uint(eq + 1, ULLONG_MAX, &h->n);
	if (!end)
		return -1;
	if (*end == '%') {
		h->pct = true;
		end++;
		if (h->n > 100)
			return -1;
	}
	if (*end || h->n == 0)
		return -1;
	return 0;
}

struct exec_cli {
	const char *jobs;
	bool joblog_append;     /* --joblog +FILE */
	bool verbose, quote, shuf, header, plus; /* -v, -q, --shuf, --header, --plus */
	const char *replace;    /* -I; NULL: {} */
	uint64_t delay_ms;      /* --delay */
	struct limits limits;   /* --memfree, --load */
	const char *tmpdir;     /* --tmpdir */
	bool compress;          /* --compress */
	const char *results;    /* --results */
	const char *arg_sep, *arg_file_sep; /* ::: and :::: */
	char **arg_files;       /* -a FILE... */
	size_t narg_files;
	bool keep_order, link, tag, dry_run, bar, eta, resume, resume_failed;
	char *delim;            /* -d, unescaped; NULL: newline (or NUL with -0) */
	size_t dlen;
	bool null;              /* -0 */
	const char *colsep, *tagstring, *joblog;
	enum output_mode output;
	enum color_mode color;
	uint64_t timeout_ms;
	unsigned timeout_pct;
	unsigned retries;
	struct opt_run run;     /* --events, --cluster and the like */
	struct halt halt;
	uint64_t grace_ms;
	bool pipe;              /* --pipe, or --pipe-part */
	bool pipe_part;         /* --pipe-part: the -a files are cut, not read as inputs */
	const char *block_arg;  /* --block-size as given: --pipe-part takes -N too */
	bool cat, fifo;         /* --cat, --fifo */
	struct rpl **rpl;       /* --rpl, in order */
	struct tmpl_rpl *rpls;  /* what they give the templates */
	size_t nrpls;
	struct blocks_opts blocks;
	bool recend_set, recstart_set;
	unsigned long long max_replace, max_lines, max_args; /* -N, -L, -n; 0: not given */
	bool fill_x, fill_m;    /* -X, -m */
	unsigned long long max_chars; /* -s; 0: the system's limit */
	char **cmd;
	size_t ncmd;
	struct fanout_source *sources;
	size_t nsources;
};

static int exec_run(int argc, char **argv, char **words);

static void free_rpls(struct exec_cli *c)
{
	for (size_t i = 0; i < c->nrpls; i++)
		rpl_free(c->rpl[i]);
	free(c->rpl);
	free(c->rpls);
}

/* --header: word with {NAME}, {NAME.}, {NAME/}... made {N}, {N.}, {N/}...
 * for the N'th of names. A new string. */
static char *named_args(const char *word, char *const *names, size_t n)
{
	struct buf b;
	buf_init(&b);
	buf_add(&b, "", 0);
	for (const char *p = word; *p;) {
		size_t hit = 0;
		if (*p == '{')
			for (size_t i = 0; i < n && !hit; i++) {
				size_t l = strlen(names[i]);
				if (l && strncmp(p + 1, names[i], l) == 0 && strchr("}./", p[1 + l]) && p[1 + l])
					hit = i + 1, p += 1 + l;
			}
		if (hit)
			buf_addf(&b, "{%zu", hit);
		else
			buf_add(&b, p++, 1);
	}
	return buf_take(&b);
}

/* The command's words as the template reads them: with -I, STR made {};
 * with -q, each word quoted for the shell (its replacement strings still
 * work: they are quoted for where they stand). NULL-terminated, new. */
static char **command_words(const struct exec_cli *c)
{
	char **v = xcalloc(c->ncmd + 1, sizeof *v);
	struct buf b;
	buf_init(&b);
	for (size_t i = 0; i < c->ncmd; i++) {
		buf_reset(&b);
		buf_add(&b, "", 0);
		const char *w = c->cmd[i], *hit;
		size_t rl = c->replace ? strlen(c->replace) : 0;
		while (rl && (hit = strstr(w, c->replace))) {
			buf_add(&b, w, (size_t)(hit - w));
			buf_adds(&b, "{}");
			w = hit + rl;
		}
		buf_adds(&b, w);
		if (c->quote) {
			char *word = buf_take(&b);
			shell_quote(&b, word, strlen(word));
			free(word);
		}
		v[i] = buf_take(&b);
	}
	buf_release(&b);
	return v;
}

static int bad(const char *fmt, const char *arg)
{
	return opt_bad("weft exec", fmt, arg);
}

int exec_parse_jobs(const char *s, unsigned *out)
{
	double v;
	bool bare;
	if (opt_cpus(s, false, &v, &bare) < 0)
		return -1;
	if (v == 0 && bare) {
		/* As many as the open-file limit leaves room for. */
		unsigned fit = run_max_jobs();
		v = fit > 1024 ? 1024 : fit;
	}
	*out = v < 1 ? 1 : (unsigned)v;
	return 0;
}

/* The longest command line a job may have, plus one: a shell's command
 * (`sh -c CMD`) is one argument, which Linux limits to 128 KiB with its
 * NUL, and all arguments and the environment share ARG_MAX. */
static size_t system_max_chars(void)
{
	size_t env = 0;
	for (char **e = environ; *e; e++)
		env += strlen(*e) + 1 + sizeof *e;
	long argmax = sysconf(_SC_ARG_MAX);
	size_t room = argmax > 0 && (size_t)argmax > env + 4096 ? (size_t)argmax - env - 4096 : 4096;
	return room < 131072 ? room : 131072;
}

static size_t max_chars(struct events *ev, unsigned long long asked)
{
	size_t sys = system_max_chars();
	if (asked > sys)
		events_say(ev, MSG_WARNING, NULL, "-s %llu is above the system's limit: using %zu", asked, sys);
	return asked && asked <= sys ? (size_t)asked : sys;
}

static int parse(struct exec_cli *c, int argc, char **argv)
{
	memset(c, 0, sizeof *c);
	c->grace_ms = 2000;
	opt_run_init(&c->run);
	c->output = OUTPUT_GROUP;
	opterr = 0;
	optind = 1;
	int ch;
	unsigned dummy;
	while ((ch = getopt_long(argc, argv, "+:j:P:k0d:hN:L:n:Xms:a:uvqI:C:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'P':
		case 'j':
			if (strchr(optarg, '{'))
				return bad("invalid value '%s' for --jobs: not a replacement string (the number of "
					   "slots is one for the whole run)", optarg);
			if (exec_parse_jobs(optarg, &dummy) < 0)
				return bad("invalid value '%s' for --jobs (N, N%%, +N, -N or 0)", optarg);
			c->jobs = optarg;
			break;
		case 'k':
			c->keep_order = true;
			break;
		case '0':
			c->null = true;
			break;
		case 'd':
			free(c->delim);
			c->delim = opt_unescape(optarg, &c->dlen);
			if (!c->dlen) {
				free(c->delim);
				c->delim = NULL;
				return bad("invalid value '%s' for --delimiter (a character or more, \\n, \\t, \\0...)", optarg);
			}
			break;
		case 'a':
			c->arg_files = xrealloc(c->arg_files, (c->narg_files + 1) * sizeof *c->arg_files);
			c->arg_files[c->narg_files++] = optarg;
			break;
		case 'u':
			c->output = OUTPUT_RAW;
			break;
		case OPT_LINE_BUFFER:
			c->output = OUTPUT_LINE;
			break;
		case 'v':
			c->verbose = true;
			break;
		case OPT_SHUF:
			c->shuf = true;
			break;
		case OPT_HEADER:
			c->header = true;
			break;
		case OPT_PLUS:
			c->plus = true;
			break;
		case 'q':
			c->quote = true;
			break;
		case 'I':
			if (!*optarg)
				return bad("invalid value '%s' for -I (a string to stand for the input)", optarg);
			c->replace = optarg;
			break;
		case OPT_DELAY:
			if (duration_parse(optarg, &c->delay_ms) < 0)
				return bad("invalid duration '%s' for --delay (use e.g. 0.5, 500ms, 2s)", optarg);
			break;
		case OPT_TMPDIR:
			c->tmpdir = optarg;
			break;
		case OPT_RESULTS:
			if (!*optarg)
				return bad("invalid value '%s' for --results (a directory, or a .csv, .tsv or .json file)",
					   optarg);
			c->results = optarg;
			break;
		case OPT_ARG_SEP:
		case OPT_ARG_FILE_SEP:
			if (!*optarg)
				return bad("invalid value '%s' for a separator (a word)", optarg);
			*(ch == OPT_ARG_SEP ? &c->arg_sep : &c->arg_file_sep) = optarg;
			break;
		case 'C':
		case OPT_COLSEP:
			c->colsep = optarg;
			break;
		case OPT_LINK:
			c->link = true;
			break;
		case OPT_TAG:
			c->tag = true;
			break;
		case OPT_TAGSTRING:
			c->tagstring = optarg;
			break;
		case OPT_OUTPUT:
			if (output_mode_parse(optarg, &c->output) < 0)
				return bad("invalid value '%s' for --output (group, line or raw)", optarg);
			break;
		case OPT_COLOR:
			if (color_mode_parse(optarg, &c->color) < 0)
				return bad("invalid value '%s' for --color (auto, always or never)", optarg);
			break;
		case OPT_TIMEOUT: {
			if (strchr(optarg, '{'))
				return bad("invalid value '%s' for --timeout: not a replacement string (one "
					   "timeout is for every job)", optarg);
			size_t len = strlen(optarg);
			if (len > 1 && optarg[len - 1] == '%') {
				unsigned long long pct;
				if (parse_uint(optarg, 100000, &pct) != optarg + len - 1 || !pct)
					return bad("invalid value '%s' for --timeout (a duration or N%%)", optarg);
				c->timeout_pct = (unsigned)pct;
			} else if (duration_parse(optarg, &c->timeout_ms) < 0 || !c->timeout_ms) {
				return bad("invalid value '%s' for --timeout (a duration or N%%)", optarg);
			}
			break;
		}
		case OPT_RETRIES: {
			if (strchr(optarg, '{'))
				return bad("invalid value '%s' for --retries: not a replacement string (one "
					   "number of runs is for every job)", optarg);
			unsigned long long n;
			const char *end = parse_uint(optarg, 1000000, &n);
			if (!end || *end)
				return bad("invalid value '%s' for --retries (a number)", optarg);
			c->retries = (unsigned)n;
			break;
		}
		case OPT_HALT:
			if (halt_parse(optarg, &c->halt) < 0)
				return bad("invalid value '%s' for --halt (e.g. now,fail=1 or soon,fail=10%%)", optarg);
			break;
		case OPT_DRY_RUN:
			c->dry_run = true;
			break;
		case OPT_BAR:
			c->bar = true;
			break;
		case OPT_ETA:
			c->eta = true;
			break;
		case OPT_JOBLOG:
			/* As GNU parallel: "-" is stdout, +FILE appends to FILE. */
			c->joblog = strcmp(optarg, "-") == 0 ? "/dev/stdout" : optarg[0] == '+' ? optarg + 1 : optarg;
			c->joblog_append = optarg[0] == '+';
			break;
		case OPT_RESUME:
			c->resume = true;
			break;
		case OPT_RESUME_FAILED:
			c->resume_failed = true;
			break;
		case 'N':
		case 'L':
		case 'n':
		case 's': {
			unsigned long long n;
			const char *end = parse_uint(optarg, 1000000000, &n);
			if (!end || *end || !n)
				return bad(ch == 'N'   ? "invalid value '%s' for -N (a number from 1)"
					   : ch == 'L' ? "invalid value '%s' for -L (a number from 1)"
					   : ch == 'n' ? "invalid value '%s' for -n (a number from 1)"
						       : "invalid value '%s' for -s (a number from 1)",
					   optarg);
			*(ch == 'N' ? &c->max_replace : ch == 'L' ? &c->max_lines : ch == 'n' ? &c->max_args : &c->max_chars) = n;
			break;
		}
		case 'X':
			c->fill_x = true;
			break;
		case 'm':
			c->fill_m = true;
			break;
		case OPT_PIPE:
			c->pipe = true;
			break;
		case OPT_PIPE_PART:
			c->pipe = c->pipe_part = true;
			break;
		case OPT_RPL: {
			const char *why;
			struct rpl *rp;
			if (rpl_new(optarg, &rp, &why) < 0) {
				fprintf(stderr, "weft exec: --rpl '%s': weft runs no Perl: %s\n", optarg,
					why);
				return -1;
			}
			c->rpl = xrealloc(c->rpl, (c->nrpls + 1) * sizeof *c->rpl);
			c->rpls = xrealloc(c->rpls, (c->nrpls + 1) * sizeof *c->rpls);
			c->rpl[c->nrpls] = rp;
			c->rpls[c->nrpls++] = *rpl_tmpl(rp);
			break;
		}
		case OPT_COMPRESS:
			c->compress = true;
			break;
		case OPT_COMPRESS_PROGRAM:
			return bad("%s: weft exec compresses spilled output with zlib itself (--compress)",
				   "--compress-program and --decompress-program cannot be used");
		case OPT_MEMFREE: {
			unsigned long long n;
			if (blocks_parse_size(optarg, &n) < 0)
				return bad("invalid value '%s' for --memfree (a size such as 500M or 2G)", optarg);
			c->limits.memfree = n;
			break;
		}
		case OPT_LOAD:
			if (limits_parse_load(optarg, &c->limits.load) < 0)
				return bad("invalid value '%s' for --load (N, N%%, +N or -N, above 0)", optarg);
			break;
		case OPT_ENV:
			/* GNU parallel copies NAME to remote hosts; a local job
			 * inherits weft's whole environment already. */
			if (!*optarg)
				return bad("invalid value '%s' for --env (a variable's name, or _)", optarg);
			break;
		case OPT_CAT:
		case OPT_FIFO:
			/* As GNU parallel: either implies --pipe. */
			*(ch == OPT_CAT ? &c->cat : &c->fifo) = true;
			c->pipe = true;
			break;
		case OPT_BLOCK_SIZE: {
			unsigned long long n;
			if (blocks_parse_size(optarg[0] == '-' ? optarg + 1 : optarg, &n) < 0)
				return bad("invalid value '%s' for --block-size (a size such as 64k, 1M or 10M)", optarg);
			c->blocks.size = (size_t)n;
			c->block_arg = optarg;
			break;
		}
		case OPT_RECEND:
			c->blocks.recend = optarg;
			c->recend_set = true;
			break;
		case OPT_RECSTART:
			c->blocks.recstart = optarg;
			c->recstart_set = true;
			break;
		case OPT_GRACE:
			if (duration_parse(optarg, &c->grace_ms) < 0)
				return bad("invalid duration '%s' for --grace (use e.g. 500ms, 2s)", optarg);
			break;
		case 'h':
			fputs(exec_usage, stdout);
			return 1;
		default:
			if (opt_run_parse(&c->run, "weft exec", ch, optarg, argv, longopts) < 0)
				return -1;
			break;
		}
	}
	if ((c->resume || c->resume_failed) && !c->joblog)
		return bad("%s needs --joblog=FILE", c->resume ? "--resume" : "--resume-failed");
	if (opt_run_check(&c->run, "weft exec") < 0)
		return -1;
	if (!c->pipe && (c->blocks.size || c->recend_set || c->recstart_set))
		return bad("%s needs --pipe", c->blocks.size ? "--block-size" : c->recend_set ? "--recend" : "--recstart");
	if (c->cat && c->fifo)
		return bad("%s cannot be used with --cat", "--fifo");
	if (c->block_arg && c->block_arg[0] == '-' && !c->pipe_part)
		return bad("invalid value '%s' for --block-size (a size such as 64k, 1M or 10M)", c->block_arg);
	if (c->pipe_part && (c->max_replace || c->max_lines))
		return bad("%s cannot be used with --pipe-part: a part is cut by size", c->max_replace ? "-N" : "-L");
	if (c->pipe_part && !c->narg_files)
		return bad("%s needs the file to cut: -a FILE", "--pipe-part");
	if (c->pipe && c->run.cluster)
		return bad("%s: the blocks of --pipe are fed by this process", "--cluster cannot be used with --pipe");
	if (c->pipe && c->halt.pct)
		return bad("%s: the number of blocks is not known in advance",
			   "--halt with a percentage cannot be used with --pipe");
	/* GNU parallel's defaults: 1 MiB blocks of lines; with only one of
	 * --recstart and --recend, the other is empty. */
	if (!c->blocks.size)
		c->blocks.size = 1024 * 1024;
	if (!c->recend_set)
		c->blocks.recend = c->recstart_set ? "" : "\n";
	if (!c->recstart_set)
		c->blocks.recstart = "";
	/* -N counts records; with -L too, records of N lines each. */
	if (c->max_replace)
		c->blocks.records = c->max_replace * (c->max_lines ? c->max_lines : 1);
	else
		c->blocks.lines = c->max_lines;
	if (c->pipe && (c->max_args || c->fill_x || c->fill_m))
		return bad("%s cannot be used with --pipe", c->max_args ? "-n" : c->fill_x ? "-X" : "-m");

	/* COMMAND words, then sources: `::: values` and `:::: files`. */
	const char *vsep = c->arg_sep ? c->arg_sep : ":::", *fsep = c->arg_file_sep ? c->arg_file_sep : "::::";
	int i = optind;
	c->cmd = &argv[i];
	if (c->narg_files && !c->pipe_part) {
		/* -a FILE: sources before those of the command line. */
		c->sources = xrealloc(c->sources, sizeof *c->sources);
		c->sources[c->nsources++] = (struct fanout_source){SRC_FILE, c->arg_files, c->narg_files};
	}
	while (i < argc && strcmp(argv[i], vsep) != 0 && strcmp(argv[i], fsep) != 0)
		i++;
	c->ncmd = (size_t)(&argv[i] - c->cmd);
	if (c->header && (c->pipe || c->resume || c->resume_failed))
		return bad("--header cannot be used with %s", c->pipe ? "--pipe" : "--resume");
	if (c->pipe && c->shuf)
		return bad("%s cannot be used with --pipe", "--shuf");
	if (c->pipe && !c->pipe_part && c->narg_files)
		return bad("%s cannot be used with --pipe: --pipe reads standard input", "-a");
	if (c->pipe && i < argc)
		return bad(c->pipe_part ? "--pipe-part reads the files of -a: it takes no %s"
					: "--pipe reads standard input: it takes no %s",
			   argv[i]);
	if (c->pipe && !c->ncmd)
		return bad("%s must have a command to pipe into (e.g. 'cat')", c->pipe_part ? "--pipe-part" : "--pipe");
	while (i < argc) {
		bool files = strcmp(argv[i], fsep) == 0;
		int first = ++i;
		while (i < argc && strcmp(argv[i], vsep) != 0 && strcmp(argv[i], fsep) != 0)
			i++;
		if (files && i == first)
			return bad("%s needs at least one file", fsep);
		c->sources = xrealloc(c->sources, (c->nsources + 1) * sizeof *c->sources);
		c->sources[c->nsources++] = (struct fanout_source){files ? SRC_FILE : SRC_LIST, &argv[first],
								   (size_t)(i - first)};
	}
	return 0;
}

/* Splits s as the shell splits words: blanks between words, '...' and
 * "..." quoting, \ escaping one character. NULL-terminated; *n words. */
static char **shell_words(const char *s, size_t *n)
{
	char **v = NULL;
	size_t cap = 0;
	*n = 0;
	struct buf w;
	buf_init(&w);
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (!*s)
			break;
		buf_reset(&w);
		buf_add(&w, "", 0);
		char q = 0;
		for (; *s && (q || !strchr(" \t\n", *s)); s++) {
			if (!q && (*s == '\'' || *s == '"'))
				q = *s;
			else if (q && *s == q)
				q = 0;
			else if (*s == '\\' && q != '\'' && s[1])
				buf_add(&w, ++s, 1);
			else
				buf_add(&w, s, 1);
		}
		grow(&v, &cap, *n + 2, sizeof *v);
		v[(*n)++] = buf_take(&w);
	}
	buf_release(&w);
	grow(&v, &cap, *n + 1, sizeof *v);
	v[*n] = NULL;
	return v;
}

/* Where PATH has name (a new string), or NULL. */
static char *in_path(const char *name)
{
	if (strchr(name, '/'))
		return access(name, X_OK) == 0 ? xstrdup(name) : NULL;
	const char *path = getenv("PATH");
	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");
		char *cand = xasprintf("%.*s/%s", (int)(n ? n : 1), n ? p : ".", name);
		if (access(cand, X_OK) == 0)
			return cand;
		free(cand);
		p += n + (p[n] == ':');
	}
	return NULL;
}

/* The shell that runs the jobs: $PARALLEL_SHELL, else bash when the
 * environment holds exported bash functions (`export -f f`: only bash
 * can call them), else /bin/sh, the quickest to start. A new string. */
static char *job_shell(struct events *ev)
{
	const char *ps = getenv("PARALLEL_SHELL");
	if (ps && *ps) {
		char *found = in_path(ps);
		if (found)
			return found;
		events_say(ev, MSG_WARNING, NULL, "PARALLEL_SHELL '%s' is not a program: using /bin/sh", ps);
		return xstrdup("/bin/sh");
	}
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "BASH_FUNC_", 10) == 0) {
			char *bash = in_path("bash");
			if (bash)
				return bash;
			break;
		}
	return xstrdup("/bin/sh");
}

int exec_main(int argc, char **argv, char **words)
{
	/* $PARALLEL holds default options, read before the command line's,
	 * as GNU parallel reads it. */
	const char *env_opts = getenv("PARALLEL");
	size_t nenv = 0;
	char **envw = env_opts && *env_opts ? shell_words(env_opts, &nenv) : NULL;
	char **all = NULL;
	if (nenv) {
		all = xcalloc((size_t)argc + nenv + 1, sizeof *all);
		all[0] = argv[0];
		memcpy(all + 1, envw, nenv * sizeof *all);
		memcpy(all + 1 + nenv, argv + 1, (size_t)(argc - 1) * sizeof *all);
		argv = all;
		argc += (int)nenv;
	}
	int status = exec_run(argc, argv, words);
	free(all);
	if (envw)
		free_words(envw);
	return status;
}

static int exec_run(int argc, char **argv, char **words)
{
	struct exec_cli c;
	int r = parse(&c, argc, argv);
	if (r != 0) {
		free(c.sources);
		free(c.delim);
		free(c.arg_files);
		free_rpls(&c);
		return r > 0 ? 0 : EXEC_ERROR;
	}
	/* Under make -n, print the commands as make does; make -k changes
	 * nothing, as weft exec goes on after a failure unless --halt says. */
	struct makeflags mf;
	makeflags_parse(getenv("MAKEFLAGS"), &mf);
	if (mf.dry_run)
		c.dry_run = true;
	struct jobserver *js = NULL;
	int status = EXEC_ERROR;
	pcre2_code *colsep = NULL;
	struct tmpl *cmd = NULL, *tagstring = NULL, *results_name = NULL;
	struct fanout *f = NULL;
	struct parts *parts = NULL;
	struct pipetmp *pipetmp = NULL;
	struct joblog *jl = NULL;
	struct sink *logs = NULL, *evsink = NULL, *junit = NULL, *trace = NULL, *report = NULL, *results = NULL;
	struct events ev;
	events_init(&ev, words);
	bool begun = false;

	if (c.colsep) {
		int err;
		PCRE2_SIZE off;
		colsep = pcre2_compile((PCRE2_SPTR)c.colsep, PCRE2_ZERO_TERMINATED, 0, &err, &off, NULL);
		if (!colsep) {
			PCRE2_UCHAR msg[256];
			pcre2_get_error_message(err, msg, sizeof msg);
			fprintf(stderr, "weft exec: invalid --colsep regex '%s': %s at offset %zu\n", c.colsep,
				(char *)msg, (size_t)off);
			goto out;
		}
		pcre2_jit_compile(colsep, PCRE2_JIT_COMPLETE);
	}
	if (c.run.events && !c.dry_run) {
		int err = events_sink_new(c.run.events, c.run.events_output, &ev, &evsink);
		if (err < 0) {
			fprintf(stderr, "weft exec: cannot write the events to '%s': %s\n", c.run.events, strerror(-err));
			goto out;
		}
	}

	if (c.tmpdir) {
		/* As GNU parallel: the same as TMPDIR=DIR, for the jobs too. */
		if (access(c.tmpdir, W_OK | X_OK) < 0) {
			fprintf(stderr, "weft exec: cannot use --tmpdir '%s': %s\n", c.tmpdir, strerror(errno));
			goto out;
		}
		setenv("TMPDIR", c.tmpdir, 1);
	}
	/* The run's sinks come first: setting up the inputs may have things to say. */
	term_init(c.color);
	/* The bar is drawn below the jobs' output when stdout is the terminal
	 * (erased before each write) or a file; through a pipe, another
	 * process may write to the terminal where the bar is, so it is only
	 * printed once at the end. */
	if ((!c.bar && !c.eta) || term_stdout_is_pipe())
		term_no_status();
	struct output_opts oo = {
		.mode = c.keep_order && c.output != OUTPUT_RAW ? OUTPUT_GROUP : c.output,
		.prefix = c.tag || c.tagstring ? PREFIX_TAB : PREFIX_NONE,
		.keep_order = c.keep_order,
		.verbose = c.verbose,
		.compress = c.compress,
	};
	/* --events=- owns stdout: the jobs' output is then only in the events;
	 * with --results, only in the results, as GNU parallel keeps it. */
	if (!c.dry_run && !c.results && (!c.run.events || strcmp(c.run.events, "-") != 0))
		events_add(&ev, output_sink_new(&oo));
	events_add(&ev, messages_sink_new("weft exec"));
	events_add(&ev, summary_sink_new(SUMMARY_EXEC));
	if (evsink)
		events_add(&ev, evsink);
	if (c.run.junit && !c.dry_run) {
		int err = junit_sink_new(c.run.junit, "weft exec", &junit);
		if (err < 0) {
			fprintf(stderr, "weft exec: cannot write the JUnit report '%s': %s\n", c.run.junit, strerror(-err));
			goto out;
		}
		events_add(&ev, junit);
	}
	struct {
		const char *path, *what;
		void (*write)(struct buf *out, const struct timeline *tl);
		struct sink **sink;
	} views[] = {{c.run.trace, "trace", trace_write, &trace}, {c.run.report, "report", report_write, &report}};
	for (size_t i = 0; i < 2 && !c.dry_run; i++) {
		int err = views[i].path ? timeline_sink_new(views[i].path, views[i].write, views[i].sink) : 0;
		if (err < 0) {
			fprintf(stderr, "weft exec: cannot write the %s '%s': %s\n", views[i].what, views[i].path,
				strerror(-err));
			goto out;
		}
		if (views[i].path)
			events_add(&ev, *views[i].sink);
	}
	unsigned jobs = uv_available_parallelism();
	if (c.jobs)
		exec_parse_jobs(c.jobs, &jobs);
	char *warning = NULL;
	if (!c.dry_run)
		jobserver_setup(&mf, c.jobs != NULL, c.run.jobserver_style, &jobs, &js, &warning);
	events_begin(&ev, run_fit_jobs(jobs));
	begun = true;
	if (warning)
		events_say(&ev, MSG_WARNING, NULL, "%s", warning);
	free(warning);

	char **cwords = command_words(&c);
	cmd = c.ncmd ? tmpl_new_rpl(cwords, c.ncmd, c.plus, c.rpls, c.nrpls) : NULL;
	free_words(cwords);
	if (c.tagstring) {
		size_t len;
		char *w[] = {opt_unescape(c.tagstring, &len)};
		tagstring = tmpl_new_rpl(w, 1, c.plus, c.rpls, c.nrpls);
		free(w[0]);
	}
	if (c.pipe_part) {
		struct parts_opts po = {
			.size = c.block_arg && c.block_arg[0] != '-' ? c.blocks.size : 0,
			/* GNU parallel's default: ten parts per job slot. */
			.per_slot = !c.block_arg ? 10 : c.block_arg[0] == '-' ? (unsigned)c.blocks.size : 0,
			.jobs = run_fit_jobs(jobs),
			.recstart = c.blocks.recstart,
			.recend = c.blocks.recend,
		};
		const char *badpath = NULL;
		int err = parts_new(c.arg_files, c.narg_files, &po, &parts, &badpath);
		if (err < 0) {
			events_say(&ev, MSG_ERROR, NULL, "cannot cut '%s' into parts: %s", badpath,
				   err == -ESPIPE ? "--pipe-part needs a file it can seek in, not a pipe" : strerror(-err));
			goto out;
		}
	}
	if (c.cat || c.fifo)
		pipetmp = pipetmp_new(c.fifo);
	struct fanout_opts fo = {
		.ev = &ev,
		.cmd = cmd,
		.tagstring = tagstring,
		.tag = c.tag,
		.delim = c.delim ? c.delim : c.null ? "" : "\n",
		.dlen = c.delim ? c.dlen : 1,
		.delim_given = c.delim || c.null,
		.colsep = colsep,
		.link = c.link,
		.sources = c.sources,
		.nsources = c.nsources,
		.retries = c.retries,
		.timeout_ms = c.timeout_ms,
		.timeout_pct = c.timeout_pct,
		.halt = c.halt,
		.need_total = c.bar || c.eta || c.halt.pct || c.shuf || (cmd && tmpl_needs_total(cmd)) ||
			      (tagstring && tmpl_needs_total(tagstring)),
		.shuf = c.shuf,
		.header = c.header,
		.resume_log = c.resume || c.resume_failed ? c.joblog : NULL,
		.resume_failed = c.resume_failed,
		.cmd_has_slot = cmd && tmpl_uses_slot(cmd),
		.pipe = c.pipe && !c.pipe_part ? &c.blocks : NULL,
		.parts = parts,
		.pipetmp = pipetmp,
		.fifo = c.fifo,
		.max_args = c.max_replace ? c.max_replace : c.max_args ? c.max_args : c.max_lines,
		.lines = !c.max_replace && !c.max_args && c.max_lines,
		.fill = c.fill_x || c.fill_m,
		/* As GNU parallel: -N, -L and -s imply -X, unless -m (-n does not). */
		.context = c.fill_x || (!c.fill_m && (c.max_replace || c.max_lines || c.max_chars)),
		.max_chars = max_chars(&ev, c.max_chars),
		.jobs = run_fit_jobs(jobs),
		.delay_ms = c.delay_ms,
		.limits = c.limits,
	};
	if (fanout_new(&f, &fo) < 0)
		goto out;
	if (c.header && c.ncmd) {
		size_t nn;
		char *const *names = fanout_names(f, &nn);
		char **cw = command_words(&c);
		for (size_t i = 0; i < c.ncmd; i++) {
			char *w = named_args(cw[i], names, nn);
			free(cw[i]);
			cw[i] = w;
		}
		tmpl_free(cmd);
		cmd = tmpl_new_rpl(cw, c.ncmd, c.plus, c.rpls, c.nrpls);
		free_words(cw);
		fanout_set_cmd(f, cmd);
	}
	if (cmd)
		tmpl_set_counts(cmd, fanout_total(f), run_fit_jobs(jobs));
	if (tagstring)
		tmpl_set_counts(tagstring, fanout_total(f), run_fit_jobs(jobs));
	if (c.dry_run) {
		const char *line;
		status = 0;
		while ((line = fanout_next_command(f)))
			if (term_write(1, line, strlen(line)) < 0 || term_write(1, "\n", 1) < 0) {
				status = EXEC_ERROR;
				break;
			}
		if (fanout_failed(f))
			status = EXEC_ERROR;
		goto out;
	}
	if (c.results) {
		size_t nn = 0;
		char *const *names = c.header ? fanout_names(f, &nn) : NULL;
		char *w[] = {names ? named_args(c.results, names, nn) : xstrdup(c.results)};
		results_name = tmpl_new_rpl(w, 1, c.plus, c.rpls, c.nrpls);
		free(w[0]);
		tmpl_set_counts(results_name, fanout_total(f), run_fit_jobs(jobs));
		int err = results_sink_new(c.results, results_name, names, nn, c.keep_order, &ev, &results);
		if (err < 0) {
			events_say(&ev, MSG_ERROR, NULL, "cannot open the results file '%s': %s", c.results, strerror(-err));
			goto out;
		}
		events_add(&ev, results);
	}
	if (c.joblog) {
		/* Without --resume a run starts a new log, as GNU parallel's does. */
		int err = joblog_open(&jl, c.joblog, !(c.resume || c.resume_failed || c.joblog_append));
		if (err < 0) {
			events_say(&ev, MSG_ERROR, NULL, "cannot open the job log '%s': %s", c.joblog, strerror(-err));
			goto out;
		}
		logs = joblog_sink_new(jl, c.joblog, &ev);
		events_add(&ev, logs);
	}
	if (c.bar || c.eta)
		events_add(&ev, progress_sink_new(fanout_total(f), c.bar, c.eta));
	char *shell = job_shell(&ev);
	char *sh[] = {shell, NULL};
	struct run_opts ro = {
		.jobs = jobs,
		.grace_ms = c.grace_ms,
		.shell = sh,
		.direct = true,
		.envp = environ,
		.cluster = c.run.cluster,
		.requeue = c.run.requeue,
		.js = js,
		.no_ahead = jl != NULL,
	};
	struct run_result res;
	run_jobs(&ev, fanout_src(f), &ro, &res);
	free(shell);
	int junit_err = junit ? junit_sink_finish(junit) : 0;
	if (junit_err)
		events_say(&ev, MSG_ERROR, NULL, "cannot write the JUnit report '%s': %s", c.run.junit,
			   strerror(-junit_err));
	bool views_lost = false;
	for (size_t i = 0; i < 2; i++) {
		int err = *views[i].sink ? timeline_sink_finish(*views[i].sink) : 0;
		if (err)
			events_say(&ev, MSG_ERROR, NULL, "cannot write the %s '%s': %s", views[i].what, views[i].path,
				   strerror(-err));
		views_lost |= err != 0;
	}
	if (res.signal)
		status = -res.signal;
	else if (joblog_sink_failed(logs) || events_sink_error(evsink) || results_sink_error(results) || junit_err || views_lost || term_lost())
		status = EXEC_ERROR;
	else
		status = fanout_status(f);
	if (!res.signal && term_lost())
		events_say(&ev, MSG_ERROR, NULL, "output was lost: %s", strerror(-term_lost()));
out:
	if (begun)
		events_end(&ev, status < 0 ? 128 - status : status, status < 0 ? -status : 0);
	fanout_free(f);
	parts_free(parts);
	pipetmp_free(pipetmp);
	jobserver_free(js);
	makeflags_release(&mf);
	events_release(&ev);
	if (jl)
		joblog_close(jl);
	tmpl_free(cmd);
	tmpl_free(tagstring);
	tmpl_free(results_name);
	if (colsep)
		pcre2_code_free(colsep);
	free(c.sources);
	free(c.delim);
	free(c.arg_files);
	free_rpls(&c);
	return status;
}
