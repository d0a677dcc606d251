/* A run's event stream: every job's life (queued, started, output, finished, skipped) and the run's messages, fanned out to the run's sinks. */
#ifndef WEFT_EVENTS_H
#define WEFT_EVENTS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct outcheck;
struct outrules;
struct step_def;
struct task;

/* Sinks a run may have at once: each gets a slot in job->sink_state. */
#define EVENTS_MAX_SINKS 12

enum job_result {
	JOB_PENDING,     /* not finished yet */
	JOB_OK,
	JOB_EXIT,        /* exited non-zero: exit_code */
	JOB_SIGNAL,      /* killed by term_signal */
	JOB_TIMEOUT,     /* killed after timeout_ms */
	JOB_SPAWN_ERROR, /* never started: spawn_error (UV_E*) */
	JOB_RULE,        /* exited 0, but an output rule failed it: check->why */
};

/* One thing to run: a task of a recipe, an item of a foreach, or one
 * input of a fan-out. Its job source owns it and keeps it alive until the
 * run ends or the source's done() for it; sinks may read it during an
 * event and keep per-job state in sink_state[their sink's slot]. */
struct job {
	unsigned long long id; /* unique in the run, from 1, set when queued; 0: not queued (hidden) */
	struct task *task;   /* NULL when the job is not a recipe task's */
	const char *name;    /* label: the task's name, "task[item]", or a fan-out's tag */
	const char *item;    /* a foreach item; NULL: none */
	unsigned long long seq; /* the input's number ({#}, the job log's Seq); 0: none */
	unsigned slot;       /* 1..jobs: which of the -j slots runs it */
	unsigned long long order; /* 0, 1, ...: place in the output with --keep-order */
	/* A fan-out job's inputs as read: nargs args back to back in args,
	 * arg_lens[i] bytes each, input k's ending before arg arg_end[k] of
	 * ninputs. NULL args: none (--pipe, a recipe's task). */
	const char *args;
	const size_t *arg_lens;
	size_t nargs;
	const size_t *arg_end;
	size_t ninputs;
	/* What to run, set by the job source. */
	const char *cmd;     /* shell command line or script; NULL or "": nothing to run */
	int cmd_lines;       /* more than one: run with SHELL -e */
	char *const *envp;   /* NULL: the run's base environment */
	const char *dir;     /* NULL: the current directory */
	const struct step_def *step; /* non-NULL: run this built-in step on the pool, not cmd */
	char *const *step_argv;      /* its words, argv[0] the step's name */
	int step_argc;
	uint64_t timeout_ms; /* 0: none */
	bool console;        /* in the foreground of weft's terminal, with it as its stdin, stdout and stderr */
	/* > 0: the read end of a pipe that is the job's stdin (--pipe); its
	 * executor closes it once the job has started or failed to. 0: the
	 * job's stdin is /dev/null. */
	int stdin_fd;
	/* Set by the source instead of a command: the outcome is already
	 * known (up to date, or failed before anything could run). The runner
	 * reports it as started and finished without running anything. */
	bool decided;
	/* The outcome, set by the runner and its executors. */
	uint64_t start_ns, end_ns;
	int pid;             /* a child process's, while it runs; 0: none */
	unsigned runner;     /* --cluster: the runner it ran on, from 1; 0: this process */
	enum job_result result;
	int exit_code;
	int term_signal;
	int spawn_error;
	int interrupted;     /* stopped because weft was told to stop */
	bool up_to_date;     /* not run: its sources and command are as at its last success */
	const struct outrules *rules; /* its task's output rules; NULL: none */
	/* Its output rules at work (runner), from its start until
	 * after EV_FINISHED: the captures, annotations and why it failed. */
	struct outcheck *check;
	unsigned long long out_bytes; /* stdout received (the job log's Receive, as GNU parallel's) */
	void *sink_state[EVENTS_MAX_SINKS];
	void *src_data;      /* the job source's */
	/* Non-NULL: a hidden job of the source's own (listing a foreach's
	 * items): no events are sent for it; its output is kept here. */
	struct buf *capture; /* [0] stdout, [1] stderr */
};

enum event_type {
	EV_RUN_START, /* first: run (argv, jobs) */
	EV_QUEUED,    /* the run knows about the job (not started yet) */
	EV_STARTED,
	EV_OUTPUT,    /* stream 1 or 2, data/len */
	EV_FINISHED,  /* result is set */
	EV_RETRY,     /* the job failed and will run again: forget its output */
	EV_SKIPPED,   /* will never start (data: why) */
	EV_MESSAGE,   /* level, data/len: text without "weft: "; job: NULL or the one it is about */
	EV_TICK,      /* periodic, for sinks that redraw; never on the wire */
	EV_EXPECT,    /* len: how many job sources (a foreach not listed yet) may still queue jobs; never on the wire */
	EV_RUN_END,   /* last: run (counts, exit status, signal) */
	EV_STOP,      /* a cluster's master asks a runner to stop a job (data: how); never on a run's stream */
};

enum msg_level { MSG_INFO, MSG_WARNING, MSG_ERROR };

/* What the run-start and run-end events say of the whole run. */
struct run_info {
	const char *version;
	char *const *argv;        /* weft's own, NULL-terminated */
	unsigned jobs;            /* -j: slots */
	/* Run end: the jobs' outcomes as the stream told them. */
	unsigned long long queued, ok, failed, stopped, skipped, up_to_date;
	int exit_status;          /* weft's own */
	int signal;               /* the signal that stopped the run, or 0 */
};

struct event {
	enum event_type type;
	struct job *job;          /* every job event; a message's job or NULL */
	int stream;               /* EV_OUTPUT: 1 stdout, 2 stderr */
	const char *data;         /* EV_OUTPUT bytes, EV_MESSAGE text, EV_SKIPPED why */
	size_t len;
	enum msg_level level;     /* EV_MESSAGE */
	const struct run_info *run; /* EV_RUN_START, EV_RUN_END */
	uint64_t at_ns;           /* when, on now_ns()'s clock; set by events_emit */
};

struct sink {
	void (*on_event)(struct sink *s, const struct event *ev);
	/* Frees the sink, at events_release; NULL: nothing to free. */
	void (*release)(struct sink *s);
	unsigned slot;            /* set by events_add: its index in job->sink_state */
	struct sink *next;
};

/* One run's stream. Counts what passes, for run-end. */
struct events {
	struct sink *first, *last;
	unsigned nsinks;
	unsigned long long next_id;
	struct run_info run;
	uint64_t start_ns;
	/* Set by the runner while it runs: a sink asks it to start no more jobs. */
	void (*halt)(void *ud);
	void *halt_ud;
	bool halted;              /* a sink asked, maybe before the runner started */
};

/* A finished job's result in words, for reports: "ok", "up to date",
 * "exit 3", "killed by SIGSEGV", "stopped by weft (SIGTERM)", "timed out
 * after 5s", "cannot start: ...", or why an output rule failed it.
 * Caller frees. */
char *job_outcome(const struct job *j);

/* argv and version are borrowed for the run's life. */
void events_init(struct events *ev, char *const *argv);
/* Releases every sink (in the order added). */
void events_release(struct events *ev);
/* Adds s as the last sink; aborts past EVENTS_MAX_SINKS. */
void events_add(struct events *ev, struct sink *s);

void events_emit(struct events *ev, struct event *e);
/* A job event (EV_STARTED, EV_FINISHED, EV_RETRY). */
void events_job(struct events *ev, enum event_type type, struct job *j);
/* The same, at a time the caller has just read (now_ns()): one clock
 * read fewer, on a path a no-op run takes thousands of times. */
void events_job_at(struct events *ev, enum event_type type, struct job *j, uint64_t at_ns);
/* Gives j its id and sends EV_QUEUED. */
void events_queue(struct events *ev, struct job *j);
/* Sends EV_SKIPPED for j (queued first if it never was), why: "dependency failed", "stopped". */
void events_skip(struct events *ev, struct job *j, const char *why);
/* A message about j (NULL: the run), without the "weft: " and "warning: " prefixes. */
void events_say(struct events *ev, enum msg_level level, const struct job *j, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void events_vsay(struct events *ev, enum msg_level level, const struct job *j, const char *fmt, va_list ap);
/* The first event: jobs is the number of slots. */
void events_begin(struct events *ev, unsigned jobs);
/* The last event, with weft's exit status (negative: -signal) and the signal that stopped the run. */
void events_end(struct events *ev, int exit_status, int signal);
/* A source says how many of its parts may still queue jobs (foreach
 * tasks whose items are not listed yet): the total may grow while > 0. */
void events_expect(struct events *ev, size_t pending);
/* A sink asks the run to start no more jobs (its output cannot be kept);
 * before the runner starts, the runner starts none. */
void events_request_halt(struct events *ev);

#endif
