/* The sink that gathers the run's timeline and writes it as one file when the run is over (--trace, --report), whole or not at all. */
#include "sinks.h"

#include <stdlib.h>

#include "../events.h"
#include "../timeline.h"
#include "../util.h"

struct timeline_sink {
	struct sink sink;
	struct timeline tl;
	struct outfile out;
	void (*write)(struct buf *out, const struct timeline *tl);
};

static void on_event(struct sink *sink, const struct event *e)
{
	timeline_event(&((struct timeline_sink *)sink)->tl, e);
}

static void release(struct sink *sink)
{
	struct timeline_sink *s = (struct timeline_sink *)sink;
	timeline_release(&s->tl);
	outfile_release(&s->out);
	free(s);
}

int timeline_sink_new(const char *path, void (*write)(struct buf *out, const struct timeline *tl),
		      struct sink **out)
{
	struct timeline_sink *s = xcalloc(1, sizeof *s);
	int err = outfile_open(&s->out, path);
	if (err < 0) {
		free(s);
		return err;
	}
	s->sink.on_event = on_event;
	s->sink.release = release;
	s->write = write;
	timeline_init(&s->tl);
	*out = &s->sink;
	return 0;
}

int timeline_sink_finish(struct sink *sink)
{
	struct timeline_sink *s = (struct timeline_sink *)sink;
	struct buf b;
	buf_init(&b);
	timeline_close(&s->tl);
	s->write(&b, &s->tl);
	int err = outfile_commit(&s->out, b.p, b.len);
	buf_release(&b);
	return err;
}
