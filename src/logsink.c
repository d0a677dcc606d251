/* The sink that appends each finished job to the job log (--joblog). */
#include "logsink.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events.h"
#include "joblog.h"
#include "term.h"
#include "util.h"

struct logsink {
	struct sink sink;
	struct joblog *jl;
	const char *path;
	void (*on_error)(void *ud);
	void *ud;
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
	struct joblog_rec r = {
		.seq = j->seq,
		.host = ":",
		.start = ls->epoch_minus_mono + (double)j->start_ns / 1e9,
		.runtime = (double)(j->end_ns - j->start_ns) / 1e9,
		.send = 0,
		.receive = j->out_bytes,
		/* As GNU parallel: a signal leaves Exitval 0, a timeout writes -1. */
		.exitval = j->result == JOB_EXIT ? j->exit_code : j->result == JOB_TIMEOUT ? -1 : 0,
		.signal = j->result == JOB_SIGNAL ? j->term_signal : j->result == JOB_TIMEOUT ? 15 : 0,
		.command = j->cmd,
	};
	int err = joblog_append(ls->jl, &r);
	if (err < 0) {
		ls->failed = err;
		char *msg = xasprintf("weft exec: cannot write the job log '%s': %s; starting no more jobs\n", ls->path,
				      strerror(-err));
		term_write(2, msg, strlen(msg));
		free(msg);
		if (ls->on_error)
			ls->on_error(ls->ud);
	}
}

struct sink *logsink_new(struct joblog *jl, const char *path, void (*on_error)(void *ud), void *ud)
{
	struct logsink *ls = xcalloc(1, sizeof *ls);
	ls->sink.on_event = on_event;
	ls->jl = jl;
	ls->path = path;
	ls->on_error = on_error;
	ls->ud = ud;
	struct timespec wall;
	clock_gettime(CLOCK_REALTIME, &wall);
	ls->epoch_minus_mono = (double)wall.tv_sec + (double)wall.tv_nsec / 1e9 - (double)now_ns() / 1e9;
	return &ls->sink;
}

void logsink_free(struct sink *s)
{
	free(s);
}

int logsink_failed(const struct sink *s)
{
	return s ? ((const struct logsink *)s)->failed : 0;
}
