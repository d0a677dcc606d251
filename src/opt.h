/* Helpers shared by the command-line parsers of weft and weft exec: option values and usage errors. */
#ifndef WEFT_OPT_H
#define WEFT_OPT_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "jobserver.h"

/* Prints a usage error on stderr: "PROG: " and fmt with arg (fmt has one
 * %s), then "Try 'PROG --help' for more information.". Returns -1, for a
 * parser to return it. */
int opt_bad(const char *prog, const char *fmt, const char *arg);

/* A count given as GNU parallel's -j gives it: N, N% of the CPUs, or +N
 * or -N CPUs; whole numbers, or with decimals when fractions is true.
 * Returns 0, the value in *out (a -N may make it 0 or less) and, in
 * *bare, whether it was a plain N; or -1. */
int opt_cpus(const char *s, bool fractions, double *out, bool *bare);

/* The usage error for what getopt_long() returned with opterr 0 and an
 * optstring that starts with ':' (after any '+'): ch ':' is "option 'X'
 * needs a value", anything else "unknown option 'X'", with the nearest
 * long option of longopts when one is near ("did you mean '--jobs'?").
 * Returns -1. */
int opt_bad_getopt(const char *prog, int ch, char **argv, const struct option *longopts);

/* GNU parallel's escapes in an option's value (-d, --recend, --tagstring):
 * \n \t \r \0 \\ \' \" become the byte they name; anything else stays.
 * Returns a new string of *len bytes (NULs allowed; caller frees). */
char *opt_unescape(const char *s, size_t *len);

/* The options weft and weft exec share: where the run's events go, and
 * whether it runs on a cluster. */
struct opt_run {
	const char *events;      /* --events: a file, "-" for stdout; NULL: none */
	bool events_output;      /* --events-output */
	unsigned cluster;        /* --cluster: runner processes; 0: none */
	unsigned requeue;        /* --requeue (default 1) */
	const char *junit;       /* --junit: a file; NULL: none */
	const char *trace;       /* --trace: a file; NULL: none */
	const char *report;      /* --report: a file; NULL: none */
	enum jobserver_style jobserver_style; /* --jobserver-style (default pipe) */
};

/* Their getopt_long() values (above any a parser uses of its own), their
 * entries for its option table, and their lines of the usage text. */
enum { OPT_EVENTS = 0x200, OPT_EVENTS_OUTPUT, OPT_CLUSTER, OPT_REQUEUE, OPT_JUNIT, OPT_JOBSERVER_STYLE, OPT_TRACE, OPT_REPORT };
#define OPT_RUN_LONGOPTS \
	{"events", required_argument, NULL, OPT_EVENTS}, \
	{"events-output", no_argument, NULL, OPT_EVENTS_OUTPUT}, \
	{"cluster", required_argument, NULL, OPT_CLUSTER}, \
	{"requeue", required_argument, NULL, OPT_REQUEUE}, \
	{"junit", required_argument, NULL, OPT_JUNIT}, \
	{"trace", required_argument, NULL, OPT_TRACE}, \
	{"report", required_argument, NULL, OPT_REPORT}, \
	{"jobserver-style", required_argument, NULL, OPT_JOBSERVER_STYLE}
#define OPT_RUN_USAGE \
	"      --events=FILE     write the events of the run to FILE as JSON Lines (- for stdout)\n" \
	"      --events-output   with --events: include the output of the jobs in the events\n" \
	"      --cluster=N       run the jobs on N runner processes (auto: one per CPU)\n" \
	"      --requeue=N       with --cluster: run a job again N times if its runner dies (default: 1)\n" \
	"      --junit=FILE      write a JUnit XML report to FILE: a testcase for each job\n" \
	"      --trace=FILE      write a Chrome trace of the run to FILE, for Perfetto or chrome://tracing\n" \
	"      --report=FILE     write an HTML report of the run to FILE: its timeline and critical path\n" \
	"      --jobserver-style=STYLE  pipe or fifo: how jobs reach the jobserver (default: pipe)\n"

/* The defaults. */
void opt_run_init(struct opt_run *r);
/* Takes what a parser does not know itself: ch (what getopt_long()
 * returned) and its value when it is one of these options, else the
 * usage error opt_bad_getopt() gives. Returns 0, or -1 after a usage
 * error. */
int opt_run_parse(struct opt_run *r, const char *prog, int ch, const char *arg, char **argv,
		  const struct option *longopts);
/* Once every option is read: -1 after a usage error (--events-output
 * without --events), else 0. */
int opt_run_check(const struct opt_run *r, const char *prog);

#endif
