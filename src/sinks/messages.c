/* The sink that shows the run's messages on stderr: "PROG: TEXT", "PROG: warning: TEXT". */
#include "sinks.h"

#include <stdlib.h>
#include <string.h>

#include "../events.h"
#include "../term.h"
#include "../util.h"

struct messages_sink {
	struct sink sink;
	const char *prog;
	struct buf line;
};

static void on_event(struct sink *sink, const struct event *ev)
{
	struct messages_sink *m = (struct messages_sink *)sink;
	if (ev->type != EV_MESSAGE)
		return;
	buf_reset(&m->line);
	buf_addf(&m->line, "%s: %s", m->prog, ev->level == MSG_WARNING ? "warning: " : "");
	buf_add(&m->line, ev->data, ev->len);
	buf_add(&m->line, "\n", 1);
	term_write(2, m->line.p, m->line.len);
}

static void release(struct sink *s)
{
	struct messages_sink *m = (struct messages_sink *)s;
	buf_release(&m->line);
	free(m);
}

struct sink *messages_sink_new(const char *prog)
{
	struct messages_sink *m = xcalloc(1, sizeof *m);
	m->sink.on_event = on_event;
	m->sink.release = release;
	m->prog = prog;
	buf_init(&m->line);
	return &m->sink;
}
