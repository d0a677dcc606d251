/* The sink that writes the run's event stream as JSON Lines (--events=FILE), one whole line per write. */
#include "sinks.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../events.h"
#include "../term.h"
#include "../util.h"
#include "../wire.h"

struct events_sink {
	struct sink sink;
	int fd;               /* -1: weft's stdout, through term */
	bool with_output;
	struct events *ev;
	uint64_t start_ns;
	int error;            /* -errno of the first failed write; then nothing more is written */
	struct buf line;
};

static void on_event(struct sink *sink, const struct event *e)
{
	struct events_sink *es = (struct events_sink *)sink;
	if (es->error || e->type == EV_TICK || e->type == EV_EXPECT || (e->type == EV_OUTPUT && !es->with_output))
		return;
	if (e->job && !e->job->id && e->type != EV_MESSAGE)
		return; /* a hidden job: not part of the run's story */
	if (e->type == EV_RUN_START)
		es->start_ns = e->at_ns;
	buf_reset(&es->line);
	wire_encode(e, e->at_ns > es->start_ns ? (e->at_ns - es->start_ns) / 1000 : 0, &es->line);
	int err = es->fd < 0 ? term_write(1, es->line.p, es->line.len) : write_full(es->fd, es->line.p, es->line.len);
	if (err < 0) {
		es->error = err;
		if (es->fd >= 0) {
			events_say(es->ev, MSG_ERROR, NULL, "cannot write the events: %s; starting no more jobs",
				   strerror(-err));
			events_request_halt(es->ev);
		}
	}
}

static void release(struct sink *s)
{
	struct events_sink *es = (struct events_sink *)s;
	if (es->fd >= 0)
		close(es->fd);
	buf_release(&es->line);
	free(es);
}

int events_sink_new(const char *path, bool with_output, struct events *ev, struct sink **out)
{
	int fd = -1;
	if (strcmp(path, "-") != 0) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
	}
	struct events_sink *es = xcalloc(1, sizeof *es);
	es->sink.on_event = on_event;
	es->sink.release = release;
	es->fd = fd;
	es->with_output = with_output;
	es->ev = ev;
	buf_init(&es->line);
	*out = &es->sink;
	return 0;
}

int events_sink_error(const struct sink *s)
{
	return s ? ((const struct events_sink *)s)->error : 0;
}
