/* The run's sinks: each turns the event stream into one thing the user sees or keeps (src/sinks/, one file each). */
#ifndef WEFT_SINKS_H
#define WEFT_SINKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct events;
struct sink;
struct joblog;
struct timeline;

/* --- output.c: jobs' output on weft's stdout and stderr --- */

enum output_mode { OUTPUT_DEFAULT, OUTPUT_LINE, OUTPUT_GROUP, OUTPUT_RAW };

enum output_prefix {
	PREFIX_NONE,
	PREFIX_NAME,  /* "name | ", the name padded to `width` and coloured */
	PREFIX_TAB,   /* "name\t", as GNU parallel's --tag */
};

struct output_opts {
	enum output_mode mode;
	enum output_prefix prefix;
	size_t width;
	bool keep_order;  /* group mode: print whole jobs in the order of job->order */
	bool verbose;     /* each job's command, and a newline, comes first in its stdout */
	bool compress;    /* output held back past its memory share is compressed in its file (--compress) */
};

/* "line", "group" or "raw": 0 and *out, or -1. */
int output_mode_parse(const char *s, enum output_mode *out);
struct sink *output_sink_new(const struct output_opts *o);

/* --- messages.c: the run's messages on stderr, "PROG: [warning: ]TEXT" --- */
struct sink *messages_sink_new(const char *prog);

/* --- status.c: the status line, [finished/total] running: a, b  0:12 --- */
struct sink *status_sink_new(void);

/* --- summary.c: failures as they happen and the totals at the end --- */
enum summary_style {
	SUMMARY_TASKS, /* a recipe run: "task 'x' failed (exit 1)", then the totals */
	SUMMARY_EXEC,  /* weft exec, as GNU parallel: timeouts and jobs that could not start */
};
struct sink *summary_sink_new(enum summary_style style);

/* --- progress.c: --bar and --eta for a fan-out: done/total, a bar, the time left --- */
struct sink *progress_sink_new(unsigned long long total, bool bar, bool eta);

/* --- joblog.c: each finished job appended to the job log (--joblog) --- */
/* When a record cannot be written it says so and asks the run to halt. */
struct sink *joblog_sink_new(struct joblog *jl, const char *path, struct events *ev);
/* True when a record could not be written. */
bool joblog_sink_failed(const struct sink *s);
struct job;
/* A finished job's Exitval and Signal as GNU parallel records them: a
 * signal leaves Exitval 0, a timeout is -1 with signal 15, a job an output
 * rule failed (it exited 0) is 1. */
void job_exit_fields(const struct job *j, int *exitval, int *signal);
/* The wall clock minus now_ns()'s clock, in seconds: a job's start_ns as
 * a time of day. */
double wall_minus_mono(void);

/* --- results.c: each job's output kept as GNU parallel's --results keeps it --- */
struct tmpl;
/* name: a directory, each job's output in name/1/ARG.../stdout, stderr
 * and seq (with --header, names in place of the numbers); name_tmpl, the
 * name as a template: when a job's expansion differs from name, stdout
 * goes to it, stderr to it.err and the seq to it.seq (into it/stdout...
 * when it ends in /); FILE.csv, FILE.tsv or FILE.json: one record per job
 * ("-.csv", "-.tsv", "-.json": on standard output). names: --header's,
 * borrowed, or NULL. keep_order: the records in input order (-k). Returns
 * 0 and *out, or -errno when the file cannot be opened. A write that fails
 * is said on ev, once, and halts the run. */
int results_sink_new(const char *name, const struct tmpl *name_tmpl, char *const *names, size_t nnames,
		     bool keep_order, struct events *ev, struct sink **out);
/* -errno of the first write that failed, or 0. */
int results_sink_error(const struct sink *s);

/* --- events.c: the stream as JSON Lines (--events) --- */
/* path "-": standard output. Returns 0 and *out, or -errno when path
 * cannot be opened. with_output: include jobs' output events. A write
 * that fails is said on ev, once, and halts the run. */
int events_sink_new(const char *path, bool with_output, struct events *ev, struct sink **out);
/* -errno of the first write that failed, or 0. */
int events_sink_error(const struct sink *s);

/* --- log.c: a run read as a log (CI, a pipe): a line per finished job, GitHub Actions' groups --- */
enum log_style {
	LOG_LINES,  /* "weft: [3/9] build: ok (1.20s)" on stderr, in place of the status line */
	LOG_CI,     /* "[3/9] build: ok (1.20s)" on stdout, before the job's output: CI is set */
	LOG_GITHUB, /* ::group::, ::endgroup::, ::error annotations and the job summary: GITHUB_ACTIONS=true */
};
struct log_opts {
	enum log_style style;
	uint64_t heartbeat_ms; /* "still running: ..." after this long without a line; 0: never */
	bool live_output;      /* jobs' output is printed as it comes (not grouped) */
};
struct sink *log_sink_new(const struct log_opts *o);

/* --- junit.c: a JUnit XML report (--junit=FILE), one testcase per job --- */
/* suite: the testsuite's name and every testcase's classname. Returns 0
 * and *out, or -errno when its scratch file next to path cannot be made. */
int junit_sink_new(const char *path, const char *suite, struct sink **out);
/* Writes the report, whole or not at all (a new file renamed over path),
 * before the run's last event. Returns 0 or -errno. */
int junit_sink_finish(struct sink *s);

/* --- dryrun.c: weft -n, each job that would run as a line for sh --- */
struct kv;
struct dryrun_opts {
	const char *shell;            /* the recipe's shell; NULL: /bin/sh */
	const struct kv *const *vars; /* exported first, in order: [env], [vars], the command line */
	const size_t *nvars;
	size_t nlists;
	const struct kv *overrides;   /* the command line's, which win over env.NAME */
	size_t noverrides;
	bool keep_going;              /* -k: the script goes on past a failure, skipping what depends on it */
};
/* Borrows o's lists for the run's life. */
struct sink *dryrun_sink_new(const struct dryrun_opts *o);

/* --- timeline_file.c: the run's timeline, written as one file at the end (--trace, --report) --- */
/* write turns the timeline into the file's bytes. Returns 0 and *out,
 * or -errno when a file next to path cannot be made (nothing is written
 * to path until timeline_sink_finish). */
int timeline_sink_new(const char *path, void (*write)(struct buf *out, const struct timeline *tl),
		      struct sink **out);
/* Writes the file, whole or not at all, before the run's last event.
 * Returns 0 or -errno. */
int timeline_sink_finish(struct sink *s);

/* --- trace.c: the Chrome trace-event JSON that Perfetto and chrome://tracing load (--trace=FILE) --- */
void trace_write(struct buf *out, const struct timeline *tl);

/* --- report.c: the self-contained HTML report (--report=FILE, weft report) --- */
void report_write(struct buf *out, const struct timeline *tl);

#endif
