/* A job's life as a stream of events (queued, started, output, finished), fanned out to every registered sink. */
#ifndef WEFT_EVENTS_H
#define WEFT_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct step_def;

struct task;

enum job_result {
	JOB_PENDING,     /* not finished yet */
	JOB_OK,
	JOB_EXIT,        /* exited non-zero: exit_code */
	JOB_SIGNAL,      /* killed by term_signal */
	JOB_TIMEOUT,     /* killed after timeout_ms */
	JOB_SPAWN_ERROR, /* never started: spawn_error (UV_E*) */
};

/* One command to run: a task of a recipe, or one input of a fan-out.
 * Its job source owns it; sinks may read it during an event and keep
 * per-job state in sink_state[their slot] (0 output, 1 joblog, 2-3 free). */
struct job {
	struct task *task;   /* NULL when the job is not a recipe task's */
	const char *name;    /* label: the task's name, or a fan-out's tag */
	unsigned long long seq; /* job number: set by the source, else 1, 2, ... in start order */
	unsigned slot;       /* 1..jobs: which of the -j slots runs it */
	unsigned long long order; /* 0, 1, ...: place in the output with --keep-order */
	/* What to run, set by the job source. */
	const char *cmd;     /* shell command line or script; NULL or "": nothing to run */
	int cmd_lines;       /* more than one: run with SHELL -e */
	char *const *envp;   /* NULL: the run's base environment */
	const char *dir;     /* NULL: the current directory */
	const struct step_def *step; /* non-NULL: run this built-in step on the pool, not cmd */
	char *const *step_argv;      /* its words, argv[0] the step's name */
	int step_argc;
	uint64_t timeout_ms; /* 0: none */
	/* The outcome, set by the runner. */
	uint64_t start_ns, end_ns;
	enum job_result result;
	int exit_code;
	int term_signal;
	int spawn_error;
	int interrupted;     /* stopped because weft was told to stop */
	bool up_to_date;     /* not run: its sources and command are as at its last success */
	unsigned long long out_bytes; /* stdout received (the job log's Receive, as GNU parallel's) */
	void *sink_state[4];
	void *src_data;      /* the job source's */
	/* Non-NULL: a hidden job of the source's own (listing a foreach's
	 * items): no events are sent for it; its output is kept here. */
	struct buf *capture; /* [0] stdout, [1] stderr */
};

enum event_type {
	EV_QUEUED,   /* the run knows about the job (not started yet) */
	EV_STARTED,
	EV_OUTPUT,   /* stream 1 or 2, data/len */
	EV_FINISHED, /* result is set */
	EV_RETRY,    /* the job failed and will run again: forget its output */
	EV_SKIPPED,  /* will never start: a dep failed or the run stopped */
	EV_TICK,     /* periodic, for sinks that redraw */
	EV_END,      /* the run is over; no job */
};

struct event {
	enum event_type type;
	struct job *job;    /* NULL for EV_TICK and EV_END */
	int stream;
	const char *data;
	size_t len;
	int signal;         /* EV_END: the signal that stopped the run, or 0 */
};

struct sink {
	void (*on_event)(struct sink *s, const struct event *ev);
	struct sink *next;
};

void events_add_sink(struct sink *s);
void events_emit(const struct event *ev);
void events_emit_simple(enum event_type type, struct job *job);

#endif
