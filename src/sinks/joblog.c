/* The sink that appends each finished job to the job log (--joblog). */
#include "sinks.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../events.h"
#include "../joblog.h"
#include "../util.h"

struct logsink {
	struct sink sink;
	struct joblog *jl;
	const char *path;
	struct events *ev;        /* the run's: a failed write halts it */
	int failed;
	double epoch_minus_mono; /* wall clock minus monotonic clock, seconds */
};

static void on_event(struct sink *sink, const struct event *ev)
{
	struct logsink *ls = (struct logsink *)sink;
	if (ev->type != EV_FINISHED || ls->failed)
		return;
	const struct job *j = ev->job;
	/* A job stopped by weft itself did not finish: it is not recorded, so
	 * --resume runs it again. */
	if (j->interrupted || j->result == JOB_SPAWN_ERROR)
		return;
	/* A recipe's step is logged as its words; a task that only groups
	 * its deps, as an empty command. */
	struct buf words;
	buf_init(&words);
	for (int i = 0; j->step && i < j->step_argc; i++)
		buf_addf(&words, "%s%s", i ? " " : "", j->step_argv[i]);
	struct joblog_rec r = {
		/* A recipe's items number from 1 in each task: its jobs' ids are
		 * unique in the run. */
		.seq = j->task ? j->id : j->seq,
		.host = ":",
		.start = ls->epoch_minus_mono + (double)j->start_ns / 1e9,
		.runtime = (double)(j->end_ns - j->start_ns) / 1e9,
		.send = 0,
		.receive = j->out_bytes,
		.command = j->step ? (words.p ? words.p : "") : j->cmd ? j->cmd : "",
	};
	job_exit_fields(j, &r.exitval, &r.signal);
	int err = joblog_append(ls->jl, &r);
	buf_release(&words);
	if (err < 0) {
		ls->failed = err;
		events_say(ls->ev, MSG_ERROR, NULL, "cannot write the job log '%s': %s; starting no more jobs", ls->path,
			   strerror(-err));
		events_request_halt(ls->ev);
	}
}

static void release(struct sink *s)
{
	free(s);
}

struct sink *joblog_sink_new(struct joblog *jl, const char *path, struct events *ev)
{
	struct logsink *ls = xcalloc(1, sizeof *ls);
	ls->sink.on_event = on_event;
	ls->sink.release = release;
	ls->jl = jl;
	ls->path = path;
	ls->ev = ev;
	ls->epoch_minus_mono = wall_minus_mono();
	return &ls->sink;
}

void job_exit_fields(const struct job *j, int *exitval, int *signal)
{
	*exitval = j->result == JOB_EXIT ? j->exit_code : j->result == JOB_TIMEOUT ? -1 : j->result == JOB_RULE ? 1 : 0;
	*signal = j->result == JOB_SIGNAL ? j->term_signal : j->result == JOB_TIMEOUT ? 15 : 0;
}

double wall_minus_mono(void)
{
	struct timespec wall;
	clock_gettime(CLOCK_REALTIME, &wall);
	return (double)wall.tv_sec + (double)wall.tv_nsec / 1e9 - (double)now_ns() / 1e9;
}

bool joblog_sink_failed(const struct sink *s)
{
	return s && ((const struct logsink *)s)->failed;
}
