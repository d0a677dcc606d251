/* The job source of a fan-out: one job per input (or combination of inputs), read as a stream, with retries, halt rules, timeouts and resume. */
#ifndef WEFT_FANOUT_H
#define WEFT_FANOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jobsrc.h"
#include "limits.h"

struct blocks_opts;
struct events;
struct tmpl;

enum src_kind { SRC_LIST, SRC_FILE };

struct fanout_source {
	enum src_kind kind;
	char **items;      /* SRC_LIST: the values; SRC_FILE: one path ("-": stdin) */
	size_t nitems;
};

enum halt_when { HALT_NEVER, HALT_SOON, HALT_NOW };
enum halt_what { HALT_FAIL, HALT_SUCCESS, HALT_DONE };

struct halt {
	enum halt_when when;
	enum halt_what what;
	unsigned long long n; /* count, or percent when pct */
	bool pct;
};


struct fanout_opts {
	struct events *ev;         /* the run's: where messages go */
	struct tmpl *cmd;          /* the command template; owned by the caller */
	struct tmpl *tagstring;    /* --tagstring, expanded unquoted; NULL: args joined by ' ' */
	bool tag;                  /* name jobs for --tag */
	const char *delim;         /* between input values (also splits ::: values) */
	size_t dlen;               /* its length, at least 1 */
	bool delim_given;          /* -d or -0: no warning about CR-LF input */
	void *colsep;              /* pcre2_code *, or NULL */
	bool link;                 /* --link: pair sources instead of crossing them */
	struct fanout_source *sources; /* none: standard input */
	size_t nsources;
	unsigned retries;          /* runs of a failing job at most (0 and 1: once) */
	uint64_t timeout_ms;       /* 0: none */
	unsigned timeout_pct;      /* >0: timeout is this % of the median successful runtime */
	struct halt halt;
	bool need_total;           /* read all input first to count it (--bar, --eta, N% halts) */
	const char *resume_log;    /* --resume/--resume-failed: the job log to read */
	bool resume_failed;        /* run again the jobs the log records as failed */
	bool cmd_has_slot;         /* the command uses the slot ({%}, --plus {0%}, --rpl): logged commands cannot be compared */
	/* --pipe: standard input cut into blocks, one per job, fed to the
	 * job's stdin; the job has no args. NULL: inputs are args. */
	const struct blocks_opts *pipe;
	/* --pipe-part: the parts of files, one per job, fed to the job's
	 * stdin (borrowed); the job has no args. NULL: none. */
	struct parts *parts;
	/* --cat or --fifo (with pipe or parts): the block or part is a
	 * temporary file or FIFO that {} names, removed after its job. NULL:
	 * it is the job's stdin. Borrowed. */
	struct pipetmp *pipetmp;
	bool fifo;                 /* pipetmp makes FIFOs: the job's stdin is copied into it */
	/* Several inputs per job (-n, -N, -L, -X, -m): */
	unsigned long long max_args; /* at most this many inputs per job; 0: one, unless fill */
	bool lines;                /* -L: an input that ends in a blank goes on in the next, uncounted */
	bool fill;                 /* -X, -m: as many inputs as the command line holds */
	bool context;              /* -X: the words holding replacement strings repeat per input */
	size_t max_chars;          /* a command line must be shorter; one input alone longer: an error */
	unsigned jobs;             /* -j: -X and -m spread the last inputs over this many jobs */
	uint64_t delay_ms;         /* --delay: between the starts of two jobs; 0: none */
	struct limits limits;      /* --memfree, --load: a job starts only when there is room */
	bool header;               /* --header: the first value of each source names it (or its
	                            * columns, with colsep) and is no input */
	bool shuf;                 /* --shuf: every input read first, then run in a random order
	                            * (needs need_total) */
};

struct fanout;

/* Sets up a fan-out on libuv's default loop. Returns 0, or -1 after
 * saying why on o->ev (an unreadable input file, a resume that does not
 * match). */
int fanout_new(struct fanout **out, const struct fanout_opts *o);
struct jobsrc *fanout_src(struct fanout *f);
void fanout_free(struct fanout *f);

/* --header: the names of the args, {1} first; borrowed. */
char *const *fanout_names(const struct fanout *f, size_t *n);

/* Sets the command template (o->cmd), before the run: --header makes it
 * from the names. */
void fanout_set_cmd(struct fanout *f, struct tmpl *cmd);

/* For --dry-run: the next command, without running it (valid until the
 * next call), or NULL after the last. */
const char *fanout_next_command(struct fanout *f);

/* Whether an input could not be run at all (a command line too long):
 * the run's exit status is then 255. */
bool fanout_failed(const struct fanout *f);

/* After the run: the exit status GNU parallel would give. */
int fanout_status(const struct fanout *f);
/* Jobs in all: known only with need_total (else 0). */
unsigned long long fanout_total(const struct fanout *f);

#endif
